# SPDX-License-Identifier: Apache-2.0
"""Plug & Charge contract validation against chains of the development PKI (ccy.pki.v2g_dev,
what ``ccyctl pki dev`` writes) and against deliberately broken ones, signed with the
development CA keys the PKI leaves in dev-ca-keys/."""

import asyncio
import base64
import dataclasses
import datetime
from pathlib import Path

import pytest
from auth_kit import REDACTOR
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ccy.auth.contract import AuthStatus, TokenType
from ccy.auth.tokens import make_token
from ccy.auth.validators.pnc import PncValidator, load_trust_store
from ccy.pki.v2g_dev import CURVES, DEFAULT_EMAID, V2gDevPki, make_v2g_dev_pki
from ccy.pki.x509 import CertSpec, Issued, cert_pem, issue, load_issued

EMAID = DEFAULT_EMAID


@pytest.fixture(scope="module", params=["p521", "p256"])
def pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    folder = tmp_path_factory.mktemp(f"pki-{request.param}") / "certs"
    return make_v2g_dev_pki(folder, mo_curve=CURVES[request.param])


def validator(pki: V2gDevPki, curves: tuple[str, ...] = ("p521", "p256")) -> PncValidator:
    v = PncValidator(pki.layout.mo_root.parent, curves)
    v.reload()
    return v


def chain_of(*certs: Issued) -> str:
    return b"".join(cert_pem(c.cert) for c in certs).decode()


def sub_ca2(pki: V2gDevPki) -> Issued:
    return load_issued(pki.layout.mo_sub_ca2, pki.layout.dev_ca_key("MO_SUB_CA2"))


def sub_ca1(pki: V2gDevPki) -> Issued:
    return load_issued(pki.layout.mo_sub_ca1, pki.layout.dev_ca_key("MO_SUB_CA1"))


def curve_of(pki: V2gDevPki) -> ec.EllipticCurve:
    key = pki.issued["MO_ROOT_CA"].key
    return key.curve


def leaf_spec(pki: V2gDevPki, **changes: object) -> CertSpec:
    spec = CertSpec(
        EMAID,
        is_ca=False,
        lifetime_days=730,
        curve=curve_of(pki),
        key_usages=("digital_signature", "content_commitment", "key_agreement"),
        domain_component="MO",
    )
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def with_leaf(pki: V2gDevPki, leaf: Issued) -> str:
    return chain_of(leaf, sub_ca2(pki), sub_ca1(pki))


# ---------------------------------------------------------------- good chains
def test_the_dev_pki_contract_chain_is_accepted(pki: V2gDevPki) -> None:
    chain = pki.layout.contract_chain.read_text()
    verdict = validator(pki).check(EMAID, chain)
    assert verdict.status is AuthStatus.ACCEPTED, verdict.reason


def test_emaid_with_separators_and_base64_der_chain(pki: V2gDevPki) -> None:
    issued = [pki.issued[n] for n in ("CONTRACT_LEAF", "MO_SUB_CA2", "MO_SUB_CA1")]
    der = " ".join(
        base64.b64encode(i.cert.public_bytes(serialization.Encoding.DER)).decode() for i in issued
    )
    assert validator(pki).check("DE-CCY-000000001", der).accepted


def test_sub_cas_may_come_from_the_trust_store(pki: V2gDevPki) -> None:
    leaf_only = pki.layout.contract_leaf.read_text()
    assert validator(pki).check(EMAID, leaf_only).accepted


def test_the_validator_judges_pnc_tokens_only(pki: V2gDevPki) -> None:
    v = validator(pki)
    chain = pki.layout.contract_chain.read_text()
    pnc = make_token(EMAID, TokenType.PNC, REDACTOR.redact, certificate_chain=chain)
    assert asyncio.run(v.validate(pnc)).accepted
    rfid = make_token("DEADBEEF", TokenType.RFID, REDACTOR.redact)
    assert asyncio.run(v.validate(rfid)).status is AuthStatus.UNKNOWN


# ---------------------------------------------------------------- broken chains
def test_a_chain_to_another_root_is_invalid(
    pki: V2gDevPki, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = make_v2g_dev_pki(tmp_path_factory.mktemp("other") / "certs")
    verdict = validator(pki).check(EMAID, other.layout.contract_chain.read_text())
    assert verdict.status is AuthStatus.INVALID
    assert "trusted MO root" in verdict.reason


def test_an_expired_contract_is_expired(pki: V2gDevPki) -> None:
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=800)
    leaf = issue(leaf_spec(pki), sub_ca2(pki), now=past)
    verdict = validator(pki).check(EMAID, with_leaf(pki, leaf))
    assert verdict.status is AuthStatus.EXPIRED
    assert "contract certificate expired" in verdict.reason


def test_an_expired_sub_ca_is_expired_too(pki: V2gDevPki) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1500)
    v = PncValidator(pki.layout.mo_root.parent, clock=lambda: later)
    v.reload()
    verdict = v.check(EMAID, pki.layout.contract_chain.read_text())
    assert verdict.status is AuthStatus.EXPIRED  # the contract (730 d) and Sub-CAs (1460 d)


def test_a_contract_not_valid_yet_is_not_at_this_time(pki: V2gDevPki) -> None:
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10)
    leaf = issue(leaf_spec(pki), sub_ca2(pki), now=future)
    verdict = validator(pki).check(EMAID, with_leaf(pki, leaf))
    assert verdict.status is AuthStatus.NOT_AT_THIS_TIME
    assert "not valid yet" in verdict.reason


def test_a_wrong_curve_is_invalid(pki: V2gDevPki) -> None:
    leaf = issue(leaf_spec(pki, curve=ec.SECP384R1()), sub_ca2(pki))
    verdict = validator(pki).check(EMAID, with_leaf(pki, leaf))
    assert verdict.status is AuthStatus.INVALID
    assert "curve secp384r1 not allowed" in verdict.reason
    other = "p256" if curve_of(pki).name == "secp521r1" else "p521"
    only = validator(pki, (other,)).check(EMAID, pki.layout.contract_chain.read_text())
    assert only.status is AuthStatus.INVALID and "not allowed" in only.reason


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"key_usages": ("key_agreement",)}, "lacks keyUsage digitalSignature"),
        ({"key_usages": ("digital_signature", "key_cert_sign")}, "has keyUsage keyCertSign"),
        ({"is_ca": True, "path_length": 0}, "is a CA certificate"),
    ],
)
def test_bad_key_usage_of_the_contract_is_invalid(
    pki: V2gDevPki, changes: dict[str, object], words: str
) -> None:
    leaf = issue(leaf_spec(pki, **changes), sub_ca2(pki))
    verdict = validator(pki).check(EMAID, with_leaf(pki, leaf))
    assert verdict.status is AuthStatus.INVALID and words in verdict.reason


def test_a_sub_ca_without_key_cert_sign_is_invalid(pki: V2gDevPki) -> None:
    spec = CertSpec(
        "bad Sub-CA 2",
        is_ca=True,
        path_length=0,
        curve=curve_of(pki),
        key_usages=("digital_signature",),
    )
    bad_sub = issue(spec, sub_ca1(pki))
    leaf = issue(leaf_spec(pki), bad_sub)
    verdict = validator(pki).check(EMAID, chain_of(leaf, bad_sub, sub_ca1(pki)))
    assert verdict.status is AuthStatus.INVALID
    assert "MO Sub-CA 2 lacks keyUsage keyCertSign" in verdict.reason


def test_a_cn_that_is_no_emaid_or_another_emaid_is_invalid(pki: V2gDevPki) -> None:
    leaf = issue(leaf_spec(pki, common_name="not an emaid"), sub_ca2(pki))
    verdict = validator(pki).check(EMAID, with_leaf(pki, leaf))
    assert verdict.status is AuthStatus.INVALID and "CN is not an EMAID" in verdict.reason
    other = validator(pki).check("DECCY000000002", pki.layout.contract_chain.read_text())
    assert other.status is AuthStatus.INVALID and "differs" in other.reason
    assert "DECCY" not in other.reason


def test_a_forged_signature_is_invalid(pki: V2gDevPki) -> None:
    # same names as Sub-CA 2, another key: the leaf's signature does not verify
    forger = Issued(sub_ca2(pki).cert, ec.generate_private_key(curve_of(pki)))
    leaf = issue(leaf_spec(pki), forger)
    verdict = validator(pki).check(EMAID, with_leaf(pki, leaf))
    assert verdict.status is AuthStatus.INVALID and "signature" in verdict.reason


@pytest.mark.parametrize(
    ("chain", "words"),
    [
        ("", "no contract certificate chain"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read"),
        ("not base64 !", "cannot be read"),
        ("QUFBQQ==", "cannot be read"),
    ],
)
def test_unreadable_chains_are_invalid(pki: V2gDevPki, chain: str, words: str) -> None:
    verdict = validator(pki).check(EMAID, chain)
    assert verdict.status is AuthStatus.INVALID and words in verdict.reason


def test_a_chain_too_long_is_invalid(pki: V2gDevPki) -> None:
    chain = pki.layout.contract_chain.read_text() + pki.layout.mo_root.read_text()
    verdict = validator(pki).check(EMAID, chain)
    assert verdict.status is AuthStatus.INVALID and "4 certificates" in verdict.reason


def test_an_empty_trust_store_knows_nothing(pki: V2gDevPki, tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate")
    store = load_trust_store(tmp_path)
    assert store.roots == () and "junk.pem" in store.problems[0]
    v = PncValidator(tmp_path)
    v.reload()
    verdict = v.check(EMAID, pki.layout.contract_chain.read_text())
    assert verdict.status is AuthStatus.UNKNOWN and "no MO root" in verdict.reason
    assert load_trust_store(tmp_path / "none").problems == (f"{tmp_path / 'none'}: no such folder",)
