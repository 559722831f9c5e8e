# SPDX-License-Identifier: Apache-2.0
"""The RAUC development PKI (ccy.pki.rauc_dev) and ``ccyctl pki rauc-dev``."""

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccy.ctl.main import main as ccyctl
from ccy.pki.rauc_dev import RaucDevPki, make_rauc_dev_pki
from ccy.pki.x509 import NOT_FOR_PRODUCTION, PkiError, load_issued


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> RaucDevPki:
    return make_rauc_dev_pki(tmp_path_factory.mktemp("pki"))


def test_files_are_named_development_and_keys_are_private(pki: RaucDevPki) -> None:
    for path in (pki.ca_cert, pki.ca_key, pki.signing_cert, pki.signing_key, pki.keyring):
        assert path.name.startswith("ccy-development-rauc-"), path
        assert path.is_file()
    assert stat.S_IMODE(pki.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(pki.signing_key.stat().st_mode) == 0o600
    assert NOT_FOR_PRODUCTION in (pki.directory / "NOT-FOR-PRODUCTION.txt").read_text()


def test_chain_ca_signs_leaf_and_keyring_is_the_ca(pki: RaucDevPki) -> None:
    ca, leaf = _cert(pki.ca_cert), _cert(pki.signing_cert)
    leaf.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert pki.keyring.read_bytes() == pki.ca_cert.read_bytes()
    for cert in (ca, leaf):
        ou = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        assert ou[0].value == NOT_FOR_PRODUCTION


def test_key_matches_certificate(pki: RaucDevPki) -> None:
    issued = load_issued(pki.signing_cert, pki.signing_key)
    assert issued.cert.public_key() == issued.key.public_key()


def test_leaf_has_no_eku_unless_code_signing_asked(pki: RaucDevPki, tmp_path: Path) -> None:
    with pytest.raises(x509.ExtensionNotFound):
        _cert(pki.signing_cert).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    signed = make_rauc_dev_pki(tmp_path, code_signing=True)
    eku = _cert(signed.signing_cert).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING]


def test_every_call_makes_fresh_keys(pki: RaucDevPki, tmp_path: Path) -> None:
    other = make_rauc_dev_pki(tmp_path)
    assert other.ca_key.read_bytes() != pki.ca_key.read_bytes()


def test_prefix_must_say_development(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must start with 'ccy-development'"):
        make_rauc_dev_pki(tmp_path, prefix="ccy-product-rauc")


def test_load_of_a_missing_key_is_a_named_error(pki: RaucDevPki, tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="cannot load"):
        load_issued(pki.signing_cert, tmp_path / "absent.pem")


def test_ccyctl_pki_rauc_dev(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ccyctl(["pki", "rauc-dev", "--out", str(tmp_path / "dev")]) == 0
    out = capsys.readouterr().out
    assert NOT_FOR_PRODUCTION in out
    assert RaucDevPki.in_directory(tmp_path / "dev").keyring.is_file()


def test_ccyctl_pki_rauc_dev_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert ccyctl(["pki", "rauc-dev", "--out", str(blocker)]) == 74  # EX_IOERR
    assert "cannot write" in capsys.readouterr().err
