# SPDX-License-Identifier: Apache-2.0
"""The XMLDSig signature of a Plug & Charge AuthorizationReq (ISO 15118-20), pure.

What the vehicle signs (facts and their sources in the README, ccy-v2g):

* ``Header/Signature/SignedInfo/Reference`` with ``URI="#" + Id`` of the
  ``PnC_AReqAuthorizationMode`` element, Transform and CanonicalizationMethod
  ``http://www.w3.org/TR/canonical-exi/``, DigestMethod ``…xmlenc#sha512``; DigestValue is
  SHA-512 over that element as an EXI *fragment* with the -20 CommonMessages grammars
  (:func:`ccy.v2g.exi.encode_fragment` with ``Namespace.CM``; EXIficient's fragment mode
  and libcbv2g's ``iso20_exiFragment`` give the same bytes).
* ``SignatureValue``: ECDSA (``…xmldsig-more#ecdsa-sha512``, secp521r1) over SignedInfo as an
  XMLDSig EXI fragment, as XMLDSig-ECDSA writes it (RFC 4050/RFC 6931): r and s as unsigned
  big-endian integers of the curve's byte length (66 for P-521), concatenated, not DER.
* The key: the contract leaf certificate in the same request
  (``PnC_AReqAuthorizationMode/ContractCertificateChain/Certificate``). Whether that chain is
  trusted is ccy-auth's question, not this module's.

Every failure is a :class:`SignatureFailure` subclass; the SECC answers all of them with
``FAILED_SignatureError`` (``RESPONSE_CODE``) and ends the session.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ccy.v2g.exi import ExiError, Namespace, encode_fragment

C14N_EXI = "http://www.w3.org/TR/canonical-exi/"
DIGEST_SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
SIGNATURE_ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
SIGNED_ELEMENT = "PnC_AReqAuthorizationMode"
RESPONSE_CODE = "FAILED_SignatureError"
P521_BYTES = 66  # ceil(521 / 8): the length of r and of s in SignatureValue


class SignatureFailure(Exception):
    """The signature of a PnC AuthorizationReq does not hold; ``str()`` says why."""

    response_code = RESPONSE_CODE


class MissingSignature(SignatureFailure):
    """PnC_AReqAuthorizationMode without Header/Signature (or without its SignedInfo)."""


class ReferenceNotFound(SignatureFailure):
    """No Reference points at the signed element, or a Reference points at nothing."""


class UnsupportedAlgorithm(SignatureFailure):
    """An algorithm URI or key type other than -20's canonical EXI, SHA-512, ECDSA P-521."""


class DigestMismatch(SignatureFailure):
    """The Reference's DigestValue is not SHA-512 of the element's EXI fragment."""


class BadSignature(SignatureFailure):
    """SignatureValue does not verify over SignedInfo with the contract leaf's key."""


class MalformedSignature(SignatureFailure):
    """A field cannot be read: bad base64, a certificate that is not DER, an element the
    codec refuses to encode."""


def element_digest(element: Mapping[str, Any]) -> bytes:
    """SHA-512 over ``PnC_AReqAuthorizationMode`` (JSON view) as a CommonMessages fragment."""
    return hashlib.sha512(encode_fragment({SIGNED_ELEMENT: element}, Namespace.CM)).digest()


def signed_info_bytes(signed_info: Mapping[str, Any]) -> bytes:
    """SignedInfo (JSON view) as an XMLDSig EXI fragment: the bytes SignatureValue signs."""
    return encode_fragment({"SignedInfo": signed_info})


def sign_pnc_mode(element: Mapping[str, Any], key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The Header/Signature (JSON view) a vehicle sends over ``element`` (the
    PnC_AReqAuthorizationMode JSON view, with its Id), signed with the contract leaf's
    secp521r1 ``key``: for the EV simulator and tests; ccy-v2g itself only verifies."""
    if not isinstance(key.curve, ec.SECP521R1):
        raise UnsupportedAlgorithm(f"key on {key.curve.name}; ISO 15118-20 PnC signs on secp521r1")
    signed_info = {
        "CanonicalizationMethod": {"Algorithm": C14N_EXI},
        "SignatureMethod": {"Algorithm": SIGNATURE_ECDSA_SHA512},
        "Reference": [
            {
                "URI": f"#{element['Id']}",
                "Transforms": {"Transform": [{"Algorithm": C14N_EXI}]},
                "DigestMethod": {"Algorithm": DIGEST_SHA512},
                "DigestValue": base64.b64encode(element_digest(element)).decode(),
            }
        ],
    }
    r, s = decode_dss_signature(key.sign(signed_info_bytes(signed_info), ec.ECDSA(hashes.SHA512())))
    raw = r.to_bytes(P521_BYTES, "big") + s.to_bytes(P521_BYTES, "big")
    return {"SignedInfo": signed_info, "SignatureValue": {"value": base64.b64encode(raw).decode()}}


def verify_authorization_req(request: Mapping[str, Any]) -> None:
    """Check the signature of one AuthorizationReq (its JSON view without the root key:
    ``{"Header": …, "SelectedAuthorizationService": "PnC", "PnC_AReqAuthorizationMode": …}``).

    Returns when it holds; raises a :class:`SignatureFailure` subclass naming the reason."""
    element = request.get(SIGNED_ELEMENT)
    if not isinstance(element, Mapping):
        raise ReferenceNotFound(f"the request carries no {SIGNED_ELEMENT}")
    header = request.get("Header")
    signature = header.get("Signature") if isinstance(header, Mapping) else None
    if not isinstance(signature, Mapping):
        raise MissingSignature(f"{SIGNED_ELEMENT} without Header/Signature")
    signed_info = signature.get("SignedInfo")
    if not isinstance(signed_info, Mapping):
        raise MissingSignature("Signature without SignedInfo")
    _expect(signed_info, "CanonicalizationMethod", C14N_EXI)
    _expect(signed_info, "SignatureMethod", SIGNATURE_ECDSA_SHA512)
    _check_references(signed_info, element)
    value = signature.get("SignatureValue")
    raw = _b64(value.get("value") if isinstance(value, Mapping) else None, "SignatureValue")
    key = _contract_key(element)
    if len(raw) != 2 * P521_BYTES:
        raise BadSignature(
            f"SignatureValue has {len(raw)} bytes, ECDSA P-521 r||s has {2 * P521_BYTES}"
        )
    der = encode_dss_signature(
        int.from_bytes(raw[:P521_BYTES], "big"), int.from_bytes(raw[P521_BYTES:], "big")
    )
    try:
        signed = signed_info_bytes(signed_info)
    except ExiError as exc:
        raise MalformedSignature(f"SignedInfo cannot be EXI-encoded: {exc}") from None
    try:
        key.verify(der, signed, ec.ECDSA(hashes.SHA512()))
    except crypto_exceptions.InvalidSignature:
        raise BadSignature(
            "SignatureValue does not verify over SignedInfo with the contract leaf's key"
        ) from None


def _expect(parent: Mapping[str, Any], name: str, uri: str) -> None:
    method = parent.get(name)
    found = method.get("Algorithm") if isinstance(method, Mapping) else None
    if found != uri:
        raise UnsupportedAlgorithm(f"{name} {found!r}; ISO 15118-20 PnC uses {uri}")


def _check_references(signed_info: Mapping[str, Any], element: Mapping[str, Any]) -> None:
    element_id = element.get("Id")
    references = signed_info.get("Reference")
    if not isinstance(references, list) or not references:
        raise ReferenceNotFound("SignedInfo without a Reference")
    target = f"#{element_id}"
    if not any(isinstance(r, Mapping) and r.get("URI") == target for r in references):
        raise ReferenceNotFound(f"no Reference with URI {target!r} (the {SIGNED_ELEMENT} Id)")
    digest: bytes | None = None
    for reference in references:
        uri = reference.get("URI") if isinstance(reference, Mapping) else None
        if uri != target:
            # XMLDSig core validation needs every Reference to hold; only one can here.
            raise ReferenceNotFound(f"Reference URI {uri!r} names no signed element")
        transforms = reference.get("Transforms")
        listed = transforms.get("Transform") if isinstance(transforms, Mapping) else None
        if not isinstance(listed, list) or len(listed) != 1:
            raise UnsupportedAlgorithm(f"Reference {uri}: Transforms must be one canonical-exi")
        _expect({"Transform": listed[0]}, "Transform", C14N_EXI)
        _expect(reference, "DigestMethod", DIGEST_SHA512)
        received = _b64(reference.get("DigestValue"), "DigestValue")
        if digest is None:
            try:
                digest = element_digest(element)
            except ExiError as exc:
                raise MalformedSignature(f"{SIGNED_ELEMENT} cannot be EXI-encoded: {exc}") from None
        if not hmac.compare_digest(received, digest):
            raise DigestMismatch(
                f"Reference {uri}: DigestValue is not SHA-512 of the {SIGNED_ELEMENT} fragment"
            )


def _contract_key(element: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    chain = element.get("ContractCertificateChain")
    text = chain.get("Certificate") if isinstance(chain, Mapping) else None
    der = _b64(text, "ContractCertificateChain/Certificate")
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except crypto_exceptions.UnsupportedAlgorithm as exc:
        raise UnsupportedAlgorithm(f"contract leaf key: {exc}") from None
    except ValueError as exc:
        raise MalformedSignature(f"contract leaf certificate is not DER X.509: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise UnsupportedAlgorithm(
            f"contract leaf key is {type(key).__name__}; ecdsa-sha512 needs EC secp521r1"
        )
    if not isinstance(key.curve, ec.SECP521R1):
        raise UnsupportedAlgorithm(
            f"contract leaf key is on {key.curve.name}; ISO 15118-20 ecdsa-sha512 uses secp521r1"
        )
    return key


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedSignature(f"{what} is missing")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedSignature(f"{what} is not base64") from None
