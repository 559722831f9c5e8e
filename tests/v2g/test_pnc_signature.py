# SPDX-License-Identifier: Apache-2.0
"""The XMLDSig signature of a PnC AuthorizationReq (ccy.v2g.pnc_signature).

The vehicle's side is the contract leaf of the development PKI (ccy.pki.v2g_dev, secp521r1).
The signer below is written out from the facts (SHA-512 over the CommonMessages fragment,
ECDSA-SHA512 over the SignedInfo fragment, raw r||s of 66 bytes each), independent of
``pnc_signature.sign_pnc_mode``, which is checked against it.
"""

import base64
import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ccy.pki.v2g_dev import CURVES, V2gDevPki, make_v2g_dev_pki
from ccy.v2g import pnc_signature as ps
from ccy.v2g.exi import Namespace, decode, encode, encode_fragment

C14N = "http://www.w3.org/TR/canonical-exi/"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
Doc = dict[str, Any]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    return make_v2g_dev_pki(tmp_path_factory.mktemp("pki") / "certs")


def der(pki: V2gDevPki, name: str) -> bytes:
    return pki.issued[name].cert.public_bytes(serialization.Encoding.DER)


def request(pki: V2gDevPki, challenge: bytes = bytes(range(16))) -> Doc:
    """An unsigned PnC AuthorizationReq body with the development contract chain."""
    return {
        "Header": {"SessionID": "3D4CBF93374ED89B", "TimeStamp": 1725456327},
        "SelectedAuthorizationService": "PnC",
        "PnC_AReqAuthorizationMode": {
            "Id": "id1",
            "GenChallenge": b64(challenge),
            "ContractCertificateChain": {
                "Certificate": b64(der(pki, "CONTRACT_LEAF")),
                "SubCertificates": {
                    "Certificate": [b64(der(pki, "MO_SUB_CA2")), b64(der(pki, "MO_SUB_CA1"))]
                },
            },
        },
    }


def sign(
    body: Doc,
    key: ec.EllipticCurvePrivateKey,
    *,
    c14n: str = C14N,
    method: str = ECDSA_SHA512,
    transform: str = C14N,
    digest_method: str = SHA512,
    uri: str | None = None,
) -> Doc:
    """The test signer: ``body`` with a Header/Signature over its PnC_AReqAuthorizationMode."""
    element = body["PnC_AReqAuthorizationMode"]
    fragment = encode_fragment({"PnC_AReqAuthorizationMode": element}, Namespace.CM)
    signed_info = {
        "CanonicalizationMethod": {"Algorithm": c14n},
        "SignatureMethod": {"Algorithm": method},
        "Reference": [
            {
                "URI": uri if uri is not None else "#" + element["Id"],
                "Transforms": {"Transform": [{"Algorithm": transform}]},
                "DigestMethod": {"Algorithm": digest_method},
                "DigestValue": b64(hashlib.sha512(fragment).digest()),
            }
        ],
    }
    r, s = decode_dss_signature(
        key.sign(encode_fragment({"SignedInfo": signed_info}), ec.ECDSA(hashes.SHA512()))
    )
    out = copy.deepcopy(body)
    out["Header"]["Signature"] = {
        "SignedInfo": signed_info,
        "SignatureValue": {"value": b64(r.to_bytes(66, "big") + s.to_bytes(66, "big"))},
    }
    return out


def contract_key(pki: V2gDevPki) -> ec.EllipticCurvePrivateKey:
    return pki.issued["CONTRACT_LEAF"].key


def test_a_signed_request_passes(pki: V2gDevPki) -> None:
    ps.verify_authorization_req(sign(request(pki), contract_key(pki)))


def test_a_signed_request_passes_after_the_wire(pki: V2gDevPki) -> None:
    """Encoded as the EV sends it and decoded as ccy-v2g reads it."""
    wire = encode(Namespace.CM, {"AuthorizationReq": sign(request(pki), contract_key(pki))})
    ps.verify_authorization_req(decode(Namespace.CM, wire)["AuthorizationReq"])


def test_sign_pnc_mode_matches_the_test_signer(pki: V2gDevPki) -> None:
    body = request(pki)
    ours = ps.sign_pnc_mode(body["PnC_AReqAuthorizationMode"], contract_key(pki))
    theirs = sign(body, contract_key(pki))["Header"]["Signature"]
    assert ours["SignedInfo"] == theirs["SignedInfo"]  # ECDSA values differ (random k)
    raw = base64.b64decode(ours["SignatureValue"]["value"])
    assert len(raw) == 132
    signed = encode_fragment({"SignedInfo": ours["SignedInfo"]})
    sig = encode_dss_signature(int.from_bytes(raw[:66], "big"), int.from_bytes(raw[66:], "big"))
    contract_key(pki).public_key().verify(sig, signed, ec.ECDSA(hashes.SHA512()))
    body["Header"]["Signature"] = ours
    ps.verify_authorization_req(body)


@pytest.mark.parametrize(
    ("path", "index"),
    [
        (("GenChallenge",), 0),
        (("Id",), 0),
        (("ContractCertificateChain", "Certificate"), 200),
        (("ContractCertificateChain", "SubCertificates", "Certificate", 1), 100),
    ],
    ids=["GenChallenge", "Id", "leaf", "sub-CA"],
)
def test_a_changed_byte_in_the_element_is_a_digest_mismatch(
    pki: V2gDevPki, path: tuple[Any, ...], index: int
) -> None:
    body = sign(request(pki), contract_key(pki))
    parent: Any = body["PnC_AReqAuthorizationMode"]
    for step in path[:-1]:
        parent = parent[step]
    if path[-1] == "Id":  # the Reference follows the Id: change a byte of both
        parent["Id"] = "id2"
        body["Header"]["Signature"]["SignedInfo"]["Reference"][0]["URI"] = "#id2"
    else:
        data = bytearray(base64.b64decode(parent[path[-1]]))
        data[index] ^= 0x01
        parent[path[-1]] = b64(bytes(data))
    with pytest.raises(ps.DigestMismatch):
        ps.verify_authorization_req(body)


def test_a_changed_digest_value_is_a_bad_signature(pki: V2gDevPki) -> None:
    """DigestValue is inside SignedInfo: with the element changed to match it, the
    SignatureValue no longer holds."""
    body = sign(request(pki), contract_key(pki))
    body["PnC_AReqAuthorizationMode"]["GenChallenge"] = b64(bytes(16))
    element = body["PnC_AReqAuthorizationMode"]
    reference = body["Header"]["Signature"]["SignedInfo"]["Reference"][0]
    reference["DigestValue"] = b64(ps.element_digest(element))
    with pytest.raises(ps.BadSignature):
        ps.verify_authorization_req(body)


def test_another_key_is_a_bad_signature(pki: V2gDevPki) -> None:
    for other in (pki.issued["OEM_LEAF"].key, ec.generate_private_key(ec.SECP521R1())):
        with pytest.raises(ps.BadSignature):
            ps.verify_authorization_req(sign(request(pki), other))


def test_a_changed_signature_value_is_a_bad_signature(pki: V2gDevPki) -> None:
    body = sign(request(pki), contract_key(pki))
    value = body["Header"]["Signature"]["SignatureValue"]
    raw = bytearray(base64.b64decode(value["value"]))
    raw[100] ^= 0x80
    value["value"] = b64(bytes(raw))
    with pytest.raises(ps.BadSignature):
        ps.verify_authorization_req(body)
    value["value"] = b64(bytes(raw[:64] + raw[66:130]))  # a P-256 sized r||s
    with pytest.raises(ps.BadSignature, match="132"):
        ps.verify_authorization_req(body)


@pytest.mark.parametrize(
    "change",
    [
        {"c14n": "http://www.w3.org/2001/10/xml-exc-c14n#"},
        {"method": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"},
        {"method": "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed448"},
        {"transform": "http://www.w3.org/2000/09/xmldsig#enveloped-signature"},
        {"digest_method": "http://www.w3.org/2001/04/xmlenc#sha256"},
    ],
    ids=["c14n", "ecdsa-sha256", "ed448", "transform", "sha256"],
)
def test_wrong_algorithm_uris_are_unsupported(pki: V2gDevPki, change: dict[str, str]) -> None:
    # Signed correctly with the contract key: only the URI is wrong.
    body = sign(request(pki), contract_key(pki), **change)
    with pytest.raises(ps.UnsupportedAlgorithm, match=next(iter(change.values()))):
        ps.verify_authorization_req(body)


def test_a_p256_contract_is_unsupported(tmp_path: Path) -> None:
    p256 = make_v2g_dev_pki(tmp_path / "certs", mo_curve=CURVES["p256"])
    key = p256.issued["CONTRACT_LEAF"].key
    body = sign(request(p256), ec.generate_private_key(ec.SECP521R1()))
    with pytest.raises(ps.UnsupportedAlgorithm, match="secp256r1"):
        ps.verify_authorization_req(body)
    with pytest.raises(ps.UnsupportedAlgorithm):
        ps.sign_pnc_mode(request(p256)["PnC_AReqAuthorizationMode"], key)


def test_no_signature_is_missing(pki: V2gDevPki) -> None:
    with pytest.raises(ps.MissingSignature):
        ps.verify_authorization_req(request(pki))
    body = sign(request(pki), contract_key(pki))
    del body["Header"]["Signature"]["SignedInfo"]
    with pytest.raises(ps.MissingSignature):
        ps.verify_authorization_req(body)


def test_references_must_name_the_element(pki: V2gDevPki) -> None:
    with pytest.raises(ps.ReferenceNotFound, match="#id1"):
        ps.verify_authorization_req(sign(request(pki), contract_key(pki), uri="#other"))
    body = sign(request(pki), contract_key(pki))
    references = body["Header"]["Signature"]["SignedInfo"]["Reference"]
    references.append(dict(references[0], URI="#elsewhere"))
    with pytest.raises(ps.ReferenceNotFound, match="elsewhere"):
        ps.verify_authorization_req(body)
    eim = {"Header": request(pki)["Header"], "SelectedAuthorizationService": "EIM"}
    with pytest.raises(ps.ReferenceNotFound):
        ps.verify_authorization_req(eim)


def test_unreadable_fields_are_malformed(pki: V2gDevPki) -> None:
    body = sign(request(pki), contract_key(pki))
    body["PnC_AReqAuthorizationMode"]["ContractCertificateChain"]["Certificate"] = b64(b"leaf")
    reference = body["Header"]["Signature"]["SignedInfo"]["Reference"][0]
    reference["DigestValue"] = b64(ps.element_digest(body["PnC_AReqAuthorizationMode"]))
    with pytest.raises(ps.MalformedSignature, match="DER"):
        ps.verify_authorization_req(body)
    reference["DigestValue"] = "not base64!"
    with pytest.raises(ps.MalformedSignature, match="DigestValue"):
        ps.verify_authorization_req(body)


def test_every_failure_answers_failed_signature_error() -> None:
    failures = [
        ps.MissingSignature,
        ps.ReferenceNotFound,
        ps.UnsupportedAlgorithm,
        ps.DigestMismatch,
        ps.BadSignature,
        ps.MalformedSignature,
    ]
    assert {f("x").response_code for f in failures} == {"FAILED_SignatureError"}
