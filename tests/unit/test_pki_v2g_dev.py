# SPDX-License-Identifier: Apache-2.0
"""The ISO 15118-20 development PKI (ccy.pki.v2g_dev), its layout and ``ccyctl pki dev``."""

import datetime
import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ccy.ctl.main import main as ccyctl
from ccy.pki.layout import EMAID_PATTERN, CertsLayout, normalize_emaid
from ccy.pki.v2g_dev import (
    CURVES,
    DEFAULT_EMAID,
    DEFAULT_EVSE_ID,
    DEFAULT_PCID,
    V2gDevPki,
    make_v2g_dev_pki,
)
from ccy.pki.x509 import NOT_FOR_PRODUCTION, CertSpec, issue, load_issued


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _chains(layout: CertsLayout) -> dict[str, list[Path]]:
    """root, Sub-CA 1, Sub-CA 2, leaf, then the chain file, per PKI part."""
    return {
        "V2G": [
            layout.v2g_root,
            layout.cpo_sub_ca1,
            layout.cpo_sub_ca2,
            layout.secc_leaf,
            layout.cpo_chain,
        ],
        "MO": [
            layout.mo_root,
            layout.mo_sub_ca1,
            layout.mo_sub_ca2,
            layout.contract_leaf,
            layout.contract_chain,
        ],
        "OEM": [
            layout.oem_root,
            layout.oem_sub_ca1,
            layout.oem_sub_ca2,
            layout.oem_leaf,
            layout.oem_chain,
        ],
    }


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    return make_v2g_dev_pki(tmp_path_factory.mktemp("v2g") / "certs")


@pytest.fixture(scope="module")
def pki_p256(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    p256 = CURVES["p256"]
    return make_v2g_dev_pki(
        tmp_path_factory.mktemp("v2g256") / "certs", mo_curve=p256, oem_curve=p256
    )


def test_the_layout_is_the_devices(pki: V2gDevPki, tmp_path: Path) -> None:
    from ccy.runtime.paths import Paths

    device = CertsLayout.for_paths(Paths.from_root("/"))
    assert device.cpo_chain == Path("/etc/ccy/certs/client/cso/CPO_CERT_CHAIN.pem")
    assert device.v2g_root == Path("/etc/ccy/certs/ca/v2g/V2G_ROOT_CA.pem")
    assert device.mo_root == Path("/etc/ccy/certs/ca/mo/MO_ROOT_CA.pem")
    assert CertsLayout.for_paths(Paths.from_root(tmp_path)).base == tmp_path / "etc/ccy/certs"
    written = {p.relative_to(pki.layout.base) for p in pki.layout.base.rglob("*") if p.is_file()}
    expected = {
        p.relative_to(pki.layout.base) for paths in _chains(pki.layout).values() for p in paths
    }
    expected |= {
        p.relative_to(pki.layout.base)
        for p in (pki.layout.secc_key, pki.layout.contract_key, pki.layout.oem_key)
    }
    assert expected <= written
    assert Path("NOT-FOR-PRODUCTION.txt") in written


def test_private_keys_are_0600_and_certificates_0644(pki: V2gDevPki) -> None:
    layout = pki.layout
    keys = [layout.secc_key, layout.contract_key, layout.oem_key]
    keys += sorted((layout.base / "dev-ca-keys").iterdir())
    assert len(keys) == 3 + 9
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    for path in _chains(layout)["V2G"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


@pytest.mark.parametrize("part", ["V2G", "MO", "OEM"])
def test_every_chain_verifies(pki: V2gDevPki, part: str) -> None:
    root_p, sub1_p, sub2_p, leaf_p, chain_p = _chains(pki.layout)[part]
    root, sub1, sub2, leaf = (_cert(p) for p in (root_p, sub1_p, sub2_p, leaf_p))
    now = datetime.datetime.now(datetime.UTC)
    root.verify_directly_issued_by(root)
    for parent, child in ((root, sub1), (sub1, sub2), (sub2, leaf)):
        child.verify_directly_issued_by(parent)
        assert child.issuer == parent.subject
        aki = child.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ski = parent.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert aki.key_identifier == ski.digest
        assert parent.not_valid_before_utc <= child.not_valid_before_utc
        assert child.not_valid_after_utc <= parent.not_valid_after_utc
    for cert, path_length in ((root, 2), (sub1, 1), (sub2, 0)):
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == path_length
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
        assert not ku.value.digital_signature
    bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_agreement and not ku.key_cert_sign
    for cert in (root, sub1, sub2, leaf):
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert x509.load_pem_x509_certificates(chain_p.read_bytes()) == [leaf, sub2, sub1]


@pytest.mark.parametrize("part", ["V2G", "MO", "OEM"])
def test_openssl_verifies_every_chain_strictly(pki: V2gDevPki, part: str) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "openssl is a test dependency (image and PKI tests)"
    root, _, _, leaf, chain = _chains(pki.layout)[part]
    done = subprocess.run(
        [openssl, "verify", "-x509_strict", "-CAfile", root, "-untrusted", chain, leaf],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    other_root = _chains(pki.layout)["MO" if part != "MO" else "OEM"][0]
    wrong = subprocess.run(
        [openssl, "verify", "-CAfile", other_root, "-untrusted", chain, leaf],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode != 0


def test_curves_and_signature_hashes(pki: V2gDevPki, pki_p256: V2gDevPki) -> None:
    for part in ("V2G", "MO", "OEM"):
        for path in _chains(pki.layout)[part][:4]:
            cert = _cert(path)
            key = cert.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            assert isinstance(key.curve, ec.SECP521R1), path
            assert isinstance(cert.signature_hash_algorithm, hashes.SHA512), path
    for part in ("MO", "OEM"):
        for path in _chains(pki_p256.layout)[part][:4]:
            cert = _cert(path)
            key = cert.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            assert isinstance(key.curve, ec.SECP256R1), path
            assert isinstance(cert.signature_hash_algorithm, hashes.SHA256), path
    secc = _cert(pki_p256.layout.secc_leaf).public_key()
    assert isinstance(secc, ec.EllipticCurvePublicKey)
    assert isinstance(secc.curve, ec.SECP521R1)  # the V2G chain is always -20's curve


def test_every_subject_says_not_for_production_and_names_its_part(pki: V2gDevPki) -> None:
    dcs = {"V2G": ["V2G", "V2G", "V2G", "CPO"], "MO": ["MO"] * 4, "OEM": ["OEM"] * 4}
    for part, paths in _chains(pki.layout).items():
        for path, dc in zip(paths[:4], dcs[part], strict=True):
            subject = _cert(path).subject
            ou = subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
            assert [a.value for a in ou] == [NOT_FOR_PRODUCTION], path
            assert "NOT FOR PRODUCTION" in subject.rfc4514_string()
            assert [a.value for a in subject.get_attributes_for_oid(NameOID.DOMAIN_COMPONENT)] == [
                dc
            ]
    assert NOT_FOR_PRODUCTION in (pki.layout.base / "NOT-FOR-PRODUCTION.txt").read_text()


def _cn(path: Path) -> str:
    value = _cert(path).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return value if isinstance(value, str) else value.decode()


def test_leaf_names(pki: V2gDevPki) -> None:
    assert _cn(pki.layout.contract_leaf) == DEFAULT_EMAID
    assert EMAID_PATTERN.fullmatch(_cn(pki.layout.contract_leaf))
    assert _cn(pki.layout.secc_leaf) == DEFAULT_EVSE_ID
    assert _cn(pki.layout.oem_leaf) == DEFAULT_PCID
    assert _cn(pki.layout.v2g_root) == "ccy-development V2G Root CA"


@pytest.mark.parametrize(
    ("written", "emaid"),
    [
        ("DECCY000000001", "DECCY000000001"),
        ("DE-CCY-000000001", "DECCY000000001"),
        ("de-8aa-001234567-x", "DE8AA001234567X"),
    ],
)
def test_emaid_forms(written: str, emaid: str) -> None:
    assert normalize_emaid(written) == emaid


@pytest.mark.parametrize("bad", ["", "DECCY00000001", "DECCY00000000123", "1ECCY000000001", "DE*"])
def test_malformed_emaids_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(ValueError, match="not an EMAID") as caught:
        normalize_emaid(bad)
    assert not bad or bad not in str(caught.value)


def test_a_given_emaid_lands_in_the_contract_cn(tmp_path: Path) -> None:
    pki = make_v2g_dev_pki(tmp_path / "c", emaid="DE-8AA-001234567")
    assert _cn(pki.layout.contract_leaf) == "DE8AA001234567"


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> tuple[ssl.SSLObject, ...]:
    """A TLS handshake in memory (no sockets, no threads)."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    s = server.wrap_bio(s_in, s_out, server_side=True)
    c = client.wrap_bio(c_in, c_out, server_side=False)
    done: set[int] = set()
    for _ in range(10):
        for i, side in enumerate((c, s)):
            if i not in done:
                try:
                    side.do_handshake()
                    done.add(i)
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done == {0, 1}:
            break
    c.write(b"x")
    s_in.write(c_out.read())
    assert s.read(1) == b"x"
    return s, c


def _contexts(layout: CertsLayout, trust: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_3
    server.load_cert_chain(layout.cpo_chain, layout.secc_key)
    server.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the vehicle's OEM chain
    server.load_verify_locations(layout.oem_root)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.minimum_version = ssl.TLSVersion.TLSv1_3
    client.check_hostname = False  # the EVCC reaches the SECC by link-local address
    client.load_verify_locations(trust)
    client.load_cert_chain(layout.oem_chain, layout.oem_key)
    client.set_ecdh_curve("prime256v1")  # Josev offers only P-256 for the key exchange
    return server, client


def test_tls13_mutual_handshake_with_the_chains(pki: V2gDevPki) -> None:
    server, client = _contexts(pki.layout, pki.layout.v2g_root)
    s, c = _handshake(server, client)
    assert c.version() == "TLSv1.3"
    assert c.cipher() is not None
    seen = x509.load_der_x509_certificate(c.getpeercert(binary_form=True) or b"")
    assert seen == _cert(pki.layout.secc_leaf)
    vehicle = x509.load_der_x509_certificate(s.getpeercert(binary_form=True) or b"")
    assert vehicle == _cert(pki.layout.oem_leaf)


def test_tls_refuses_the_wrong_root(pki: V2gDevPki) -> None:
    server, client = _contexts(pki.layout, pki.layout.mo_root)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server, client)


def test_dev_ca_keys_issue_more_certificates(pki: V2gDevPki) -> None:
    sub2 = load_issued(pki.layout.mo_sub_ca2, pki.layout.dev_ca_key("MO_SUB_CA2"))
    other = issue(CertSpec("DECCY000000002", is_ca=False, curve=ec.SECP521R1()), issuer=sub2)
    other.cert.verify_directly_issued_by(_cert(pki.layout.mo_sub_ca2))


def test_ccyctl_pki_dev_writes_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "certs"
    assert ccyctl(["pki", "dev", "--out", str(out)]) == 0
    assert NOT_FOR_PRODUCTION in capsys.readouterr().out
    key = CertsLayout(out).secc_key.read_bytes()
    assert ccyctl(["pki", "dev", "--out", str(out)]) == 74  # EX_IOERR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty" in err and "--force" in err
    assert CertsLayout(out).secc_key.read_bytes() == key
    assert ccyctl(["pki", "dev", "--out", str(out), "--force", "--mo-curve", "p256"]) == 0
    assert CertsLayout(out).secc_key.read_bytes() != key


def test_ccyctl_pki_dev_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert ccyctl(["pki", "dev", "--out", str(blocker)]) == 74
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err
    assert ccyctl(["pki", "dev", "--out", str(blocker / "certs")]) == 74
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err


def test_ccyctl_pki_dev_bad_emaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ccyctl(["pki", "dev", "--out", str(tmp_path / "c"), "--emaid", "nope"]) == 64  # EX_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an EMAID" in err
    assert not (tmp_path / "c").exists()
