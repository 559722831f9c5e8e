# SPDX-License-Identifier: Apache-2.0
"""Redaction as one function (ccy.runtime.redact): the key, the hash, the identity fields."""

import base64
import json
import multiprocessing
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from ccy.pki.x509 import CertSpec, cert_pem, issue
from ccy.runtime.paths import Paths
from ccy.runtime.redact import (
    KEY_BYTES,
    RedactionKeyError,
    Redactor,
    is_redacted,
    key_file,
    load_or_create_key,
)

REDACTED = re.compile(r"\[redacted\] hash: [0-9A-F]{15}")
EVCCID = "WMIV1234567890ABCDEX"  # the EVCCID of the -20 vectors (tests/data/vectors)
EMAIDS = ["DECCY000000001", "DECCY000000002"]


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.from_root(tmp_path)


@pytest.fixture
def redactor(paths: Paths) -> Redactor:
    return Redactor.for_paths(paths)


def _b64_der(common_name: str) -> tuple[str, bytes]:
    cert = issue(CertSpec(common_name, is_ca=False)).cert
    der = cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode(), cert_pem(cert)


def test_format_is_the_seeds(redactor: Redactor) -> None:
    out = redactor.redact("ABCD1234")
    assert REDACTED.fullmatch(out), out
    assert len(out) == len("[redacted] hash: 29F2679CA504908")


def test_key_is_made_once_under_the_root_and_stable_across_loads(paths: Paths) -> None:
    first = Redactor.for_paths(paths)
    path = key_file(paths)
    assert path == paths.root / "var/lib/ccy/redaction/key"
    assert path.stat().st_size == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    before = path.read_bytes()
    second = Redactor.for_paths(paths)  # a restart
    assert path.read_bytes() == before
    assert first.redact("04A1B2C3D4E5F6") == second.redact("04A1B2C3D4E5F6")
    assert sorted(p.name for p in path.parent.iterdir()) == ["key"]


def test_different_keys_give_different_hashes() -> None:
    one, two = Redactor(b"\x01" * 32), Redactor(b"\x02" * 32)
    assert one.redact(EVCCID) != two.redact(EVCCID)
    assert one.redact(EVCCID) != one.redact(EVCCID + "0")


def test_the_key_is_never_shown(redactor: Redactor, paths: Paths) -> None:
    key = key_file(paths).read_bytes()
    shown = repr(redactor) + str(redactor)
    assert key.hex() not in shown.lower()
    assert str(key) not in shown


def _race(root: str, barrier: Any) -> str:
    barrier.wait()
    return load_or_create_key(key_file(Paths.from_root(root))).hex()


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    n = 8
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        with ctx.Pool(n) as pool:
            keys = pool.starmap(_race, [(str(tmp_path), barrier)] * n)
    assert len(set(keys)) == 1
    folder = key_file(Paths.from_root(tmp_path)).parent
    assert [p.name for p in folder.iterdir()] == ["key"]  # no temporary file left behind
    assert bytes.fromhex(keys[0]) == (folder / "key").read_bytes()


@pytest.mark.parametrize("content", [b"", b"\x00" * 31, b"\x00" * 33, b"x" * 4096])
def test_a_damaged_key_is_a_named_error_and_kept(paths: Paths, content: bytes) -> None:
    path = key_file(paths)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(RedactionKeyError, match=r"damaged redaction key .*expected 32"):
        Redactor.for_paths(paths)
    assert path.read_bytes() == content  # never silently replaced


def test_an_unreadable_key_is_a_named_error(paths: Paths) -> None:
    key_file(paths).mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(RedactionKeyError, match="cannot read the redaction key"):
        Redactor.for_paths(paths)


def _load_as_nobody(root: str) -> str:
    os.setgid(65534)
    os.setuid(65534)
    try:
        load_or_create_key(key_file(Paths.from_root(root)))
    except RedactionKeyError as exc:
        return str(exc)
    return "loaded"


@pytest.mark.root
def test_a_key_the_unit_may_not_read_is_a_named_error(paths: Paths) -> None:
    Redactor.for_paths(paths)
    os.chmod(key_file(paths).parent, 0o755)
    os.chmod(key_file(paths), 0o400)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        message = pool.apply(_load_as_nobody, (str(paths.root),))
    assert "permission denied" in message and "ccy-unit" in message


def test_an_uncreatable_key_is_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where a folder should be")
    with pytest.raises(RedactionKeyError, match="cannot create the redaction key"):
        Redactor.for_paths(Paths.from_root(tmp_path))


def test_redaction_is_idempotent_and_hides_nothing_empty(redactor: Redactor) -> None:
    once = redactor.redact(EVCCID)
    assert redactor.redact(once) == once
    assert redactor.redact_fields({"EVCCID": once}) == {"EVCCID": once}
    assert redactor.redact("") == "" and redactor.redact(None) == ""
    assert redactor.redact(EVCCID.encode()) == once


def test_a_certificate_hashes_as_its_der_in_every_encoding(redactor: Redactor) -> None:
    b64, pem = _b64_der("DECCY000000001")
    der = base64.b64decode(b64)
    hashes = {
        redactor.redact(pem.decode()),
        redactor.redact(der),
        redactor.redact_certificate(b64),
        redactor.redact_certificate(pem),
        redactor.redact_fields({"Certificate": b64})["Certificate"],
        redactor.redact_fields({"contract_certificate": pem.decode()})["contract_certificate"],
    }
    assert len(hashes) == 1
    assert hashes != {redactor.redact(b64)}  # not the hash of the base64 text


def _certificate_installation_req(chain: list[str]) -> dict[str, Any]:
    """The -20 JSON view shape of CertificateInstallationReq (CommonMessages schema)."""
    return {
        "CertificateInstallationReq": {
            "Header": {"SessionID": "EF0D1167736399F8", "TimeStamp": 1795460531},
            "OEMProvisioningCertificateChain": {
                "Id": "id1",
                "Certificate": chain[0],
                "SubCertificates": {"Certificate": chain[1:]},
            },
            "ListOfRootCertificateIDs": {
                "RootCertificateID": [{"X509IssuerName": "CN=V2GRootCA", "X509SerialNumber": 12345}]
            },
            "MaximumContractCertificateChains": 1,
            "PrioritizedEMAIDs": {"EMAID": EMAIDS},
        }
    }


def _authorization_req_pnc(chain: list[str]) -> dict[str, Any]:
    """The -20 JSON view shape of a PnC AuthorizationReq (CommonMessages schema)."""
    return {
        "AuthorizationReq": {
            "Header": {"SessionID": "EF0D1167736399F8", "TimeStamp": 1795460531},
            "SelectedAuthorizationService": "PnC",
            "PnC_AReqAuthorizationMode": {
                "Id": "id1",
                "GenChallenge": "AQIDBAUGBwgJCgsMDQ4PEA==",
                "ContractCertificateChain": {
                    "Certificate": chain[0],
                    "SubCertificates": {"Certificate": chain[1:]},
                },
            },
        }
    }


def test_nested_json_views_keep_no_clear_identity(redactor: Redactor) -> None:
    chain = [_b64_der(cn)[0] for cn in ("DECCY000000001", "MO Sub-CA2", "MO Sub-CA1")]
    views = [
        {"SessionSetupReq": {"Header": {"SessionID": "0", "TimeStamp": 1}, "EVCCID": EVCCID}},
        _authorization_req_pnc(chain),
        _certificate_installation_req(chain),
    ]
    clear = [EVCCID, *EMAIDS, *chain]
    for view in views:
        out = redactor.redact_fields(view)
        text = json.dumps(out)
        assert not [c for c in clear if c in text], text
        assert json.dumps(view) != text
    auth = redactor.redact_fields(views[1])["AuthorizationReq"]
    mode = auth["PnC_AReqAuthorizationMode"]
    assert mode["GenChallenge"] == "AQIDBAUGBwgJCgsMDQ4PEA=="  # not an identity
    assert auth["Header"] == {"SessionID": "EF0D1167736399F8", "TimeStamp": 1795460531}
    sub = mode["ContractCertificateChain"]["SubCertificates"]["Certificate"]
    assert len(sub) == 2 and all(REDACTED.fullmatch(s) for s in sub)
    install = redactor.redact_fields(views[2])["CertificateInstallationReq"]
    assert install["MaximumContractCertificateChains"] == 1
    assert (
        install["ListOfRootCertificateIDs"]
        == views[2]["CertificateInstallationReq"]["ListOfRootCertificateIDs"]
    )
    assert [REDACTED.fullmatch(e) is not None for e in install["PrioritizedEMAIDs"]["EMAID"]] == [
        True,
        True,
    ]
    assert mode["ContractCertificateChain"]["Certificate"] == redactor.redact_certificate(chain[0])


def test_session_log_json_text(redactor: Redactor) -> None:
    line = json.dumps({"V2gMessage": {"SessionSetupReq": {"EVCCID": EVCCID}}})
    out = redactor.redact_json(line)
    assert EVCCID not in out
    assert json.loads(out)["V2gMessage"]["SessionSetupReq"]["EVCCID"] == redactor.redact(EVCCID)
    assert redactor.redact_json("not json " + EVCCID) == redactor.redact("not json " + EVCCID)


@pytest.mark.parametrize(
    "name", ["id_token", "IdToken", "idToken", "ID-TOKEN", "token_id", "parentIdToken", "emaid"]
)
def test_our_field_names_match_in_any_spelling(redactor: Redactor, name: str) -> None:
    assert is_redacted(redactor.redact_fields({name: "04A1B2C3"})[name])


def test_a_token_object_keeps_its_type_as_the_seed_shows(redactor: Redactor) -> None:
    token = {
        "authorization_type": "RFID",
        "id_token": {"type": "ISO14443", "value": "04A1B2C3D4"},
        "parent_id_token": {"type": "ISO14443", "value": "04A1B2C3D4"},
        "connectors": [1],
    }
    out = redactor.redact_fields(token)
    hashed = redactor.redact("04A1B2C3D4")
    assert out == {
        "authorization_type": "RFID",
        "id_token": {"type": "ISO14443", "value": hashed},
        "parent_id_token": {"type": "ISO14443", "value": hashed},
        "connectors": [1],
    }
    assert token["id_token"] == {"type": "ISO14443", "value": "04A1B2C3D4"}  # input untouched


def test_scrub_replaces_clear_values_seen_before(redactor: Redactor) -> None:
    hashed = redactor.redact("04A1B2C3D4")
    assert redactor.scrub("token 04A1B2C3D4 accepted") == f"token {hashed} accepted"
    assert redactor.scrub("token 99999999 accepted") == "token 99999999 accepted"
