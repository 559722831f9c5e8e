# SPDX-License-Identifier: Apache-2.0
"""The SECC leaf search over a development PKI written by ccy.pki.v2g_dev."""

import datetime
import logging
import os
import shutil
from pathlib import Path

import pytest

from ccy.pki.layout import CertsLayout
from ccy.pki.v2g_dev import CURVES, LEAF_USAGES, make_v2g_dev_pki
from ccy.pki.x509 import CertSpec, cert_pem, issue, key_pem, load_issued, write_file
from ccy.v2g import cert_store
from ccy.v2g.cert_store import NoValidLeaf


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki") / "certs"
    make_v2g_dev_pki(directory)
    return directory


@pytest.fixture
def store(pki_dir: Path, tmp_path: Path) -> CertsLayout:
    copy = tmp_path / "certs"
    shutil.copytree(pki_dir, copy)
    return CertsLayout(copy)


def test_finds_the_chain_file_and_logs_the_seed_line(
    store: CertsLayout, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        leaf = cert_store.find_valid_leaf(store)
    assert leaf.chain_file == store.cpo_chain
    assert leaf.key_file == store.secc_key
    assert leaf.subject == "DE*CCY*EDEV0001"
    assert f'Found valid leaf: ["{store.cpo_chain}"]' in caplog.messages
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_warns_ahead_of_expiry(store: CertsLayout, caplog: pytest.LogCaptureFixture) -> None:
    leaf = cert_store.find_valid_leaf(store)
    soon = leaf.not_after - datetime.timedelta(days=3)
    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        cert_store.find_valid_leaf(store, now=soon, warn_days=14)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "expires in 3.0 days" in warnings[0]


def test_expired_leaf_is_refused_with_reason(store: CertsLayout) -> None:
    leaf = cert_store.find_valid_leaf(store)
    later = leaf.not_after + datetime.timedelta(days=1)
    with pytest.raises(NoValidLeaf, match=r"CPO_CERT_CHAIN\.pem: DE\*CCY\*EDEV0001 is expired"):
        cert_store.find_valid_leaf(store, now=later)


def test_leaf_only_file_key_mode_and_wrong_root(store: CertsLayout) -> None:
    os.chmod(store.secc_key, 0o644)
    with pytest.raises(NoValidLeaf) as info:
        cert_store.find_valid_leaf(store)
    text = str(info.value)
    assert "SECC_LEAF.key is mode 0644, readable by others (chmod 600)" in text
    assert "SECC_LEAF.pem: the file holds the leaf only" in text
    os.chmod(store.secc_key, 0o600)
    other = issue(CertSpec("other root", is_ca=True, path_length=2, curve=CURVES["p521"]))
    store.v2g_root.write_bytes(cert_pem(other.cert))
    with pytest.raises(NoValidLeaf, match="is not issued by a V2G root"):
        cert_store.find_valid_leaf(store)


def test_empty_store(tmp_path: Path) -> None:
    with pytest.raises(NoValidLeaf, match="no certificate files in"):
        cert_store.find_valid_leaf(CertsLayout(tmp_path / "nothing"))


def test_p256_leaf_is_refused_and_newer_leaf_wins(store: CertsLayout) -> None:
    sub2 = load_issued(store.cpo_sub_ca2, store.dev_ca_key("CPO_SUB_CA2"))
    sub1 = load_issued(store.cpo_sub_ca1, store.dev_ca_key("CPO_SUB_CA1"))
    folder = store.cpo_chain.parent
    p256 = issue(CertSpec("P256", is_ca=False, curve=CURVES["p256"], key_usages=LEAF_USAGES), sub2)
    write_file(folder / "P256_CHAIN.pem", cert_pem(p256.cert) + cert_pem(sub2.cert))
    write_file(folder / "P256.key", key_pem(p256.key), 0o600)
    longer = issue(
        CertSpec(
            "DE*CCY*ENEW0001",
            is_ca=False,
            lifetime_days=90,
            curve=CURVES["p521"],
            key_usages=LEAF_USAGES,
        ),
        sub2,
    )
    chain = cert_pem(longer.cert) + cert_pem(sub2.cert) + cert_pem(sub1.cert)
    write_file(folder / "NEW_CERT_CHAIN.pem", chain)
    write_file(folder / "NEW.key", key_pem(longer.key), 0o600)
    leaf = cert_store.find_valid_leaf(store)
    assert leaf.chain_file.name == "NEW_CERT_CHAIN.pem"
    assert leaf.key_file.name == "NEW.key"
    entries = {e.path.name: e for e in cert_store.describe(store, in_use=leaf.chain_file)}
    assert entries["P256_CHAIN.pem"].status.startswith("invalid: the leaf key is not on secp521r1")
    assert entries["NEW_CERT_CHAIN.pem"].in_use
    assert entries["CPO_CERT_CHAIN.pem"].status == "valid"
    assert entries["V2G_ROOT_CA.pem"].status == "valid"


def test_describe_marks_missing_files(tmp_path: Path) -> None:
    entries = cert_store.describe(CertsLayout(tmp_path))
    assert {e.role for e in entries} == {"V2G root", "CPO Sub-CA 1", "CPO Sub-CA 2", "OEM root"}
    assert all(e.status == "missing" for e in entries)
