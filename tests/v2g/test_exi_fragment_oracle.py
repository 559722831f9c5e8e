# SPDX-License-Identifier: Apache-2.0
"""EXI fragments against EXIficient (the jar of the iso15118 wheel, ccy.testing.exi_oracle).

The jar's ``EXICodec.encode(json, ns)`` switches to EXI fragment mode by itself for the -20
CommonMessages elements a signature references (PnC_AReqAuthorizationMode,
OEMProvisioningCertificateChain) and for everything in the xmldsig namespace (SignedInfo).
Its decoder has no fragment mode, so only encodings are compared here; our decoder is
checked on its own bytes. Its SignedInfo binding writes fixed ISO 15118-2 algorithm URIs
(canonical-exi, sha256, ecdsa-sha256) and one canonical-exi Transform per Reference, taking
only each Reference's URI and DigestValue from the JSON: so the SignedInfo drawn here has
exactly those URIs (the -20 ones differ only in the characters of the strings).
"""

import base64
import hashlib
import json
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_oracle_properties import SETTINGS
from test_pnc_signature import request, sign

from ccy.pki.v2g_dev import V2gDevPki, make_v2g_dev_pki
from ccy.testing.exi_oracle import Exificient
from ccy.v2g import pnc_signature as ps
from ccy.v2g.exi import Namespace, decode_fragment, encode_fragment

XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/canonical-exi/"
Doc = dict[str, Any]

NCNAME = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.\-]{0,15}\Z")
URI = st.text(string.ascii_lowercase + string.digits + ":/#.-", min_size=1, max_size=40)


def b64(size_min: int, size_max: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=size_min, max_size=size_max).map(
        lambda b: base64.b64encode(b).decode()
    )


# PnC_AReqAuthorizationModeType: Id, GenChallenge (16 bytes), ContractCertificateChain with a
# leaf (certificateType, at most 1600 bytes) and 1..3 sub-CA certificates.
PNC = st.fixed_dictionaries(
    {
        "Id": NCNAME,
        "GenChallenge": b64(16, 16),
        "ContractCertificateChain": st.fixed_dictionaries(
            {
                "Certificate": b64(1, 1600),
                "SubCertificates": st.fixed_dictionaries(
                    {"Certificate": st.lists(b64(1, 1600), min_size=1, max_size=3)}
                ),
            }
        ),
    }
)
# SignedCertificateChainType (OEMProvisioningCertificateChain, signed in
# CertificateInstallationReq): Id, Certificate, optional SubCertificates.
OEM_CHAIN = st.tuples(
    st.fixed_dictionaries({"Id": NCNAME, "Certificate": b64(1, 1600)}),
    st.one_of(
        st.just({}),
        st.lists(b64(1, 1600), min_size=1, max_size=3).map(
            lambda certs: {"SubCertificates": {"Certificate": certs}}
        ),
    ),
).map(lambda parts: {**parts[0], **parts[1]})
SIGNED_INFO = st.lists(
    st.fixed_dictionaries({"URI": URI, "DigestValue": b64(1, 64)}), min_size=1, max_size=4
).map(
    lambda refs: {
        "CanonicalizationMethod": {"Algorithm": C14N},
        "SignatureMethod": {"Algorithm": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"},
        "Reference": [
            {
                "URI": r["URI"],
                "Transforms": {"Transform": [{"Algorithm": C14N}]},
                "DigestMethod": {"Algorithm": "http://www.w3.org/2001/04/xmlenc#sha256"},
                "DigestValue": r["DigestValue"],
            }
            for r in refs
        ],
    }
)


def oracle_xmldsig_fragment(exificient: Exificient, doc: Doc) -> bytes:
    """EXIficient in the xmldsig namespace (fragment mode); exi_oracle.Exificient names only
    the four V2G namespaces, so this calls the jar's EXICodec directly, as Josev does."""
    out = exificient._codec.encode(json.dumps(doc, separators=(",", ":")), XMLDSIG_NS)
    assert out is not None, exificient._codec.get_last_encoding_error()
    return bytes(out)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    return make_v2g_dev_pki(tmp_path_factory.mktemp("pki") / "certs")


@SETTINGS
@given(element=PNC)
def test_pnc_element_fragment_matches_oracle(exificient: Exificient, element: Doc) -> None:
    doc = {"PnC_AReqAuthorizationMode": element}
    ours = encode_fragment(doc, Namespace.CM)
    assert ours == exificient.encode("CM", doc), f"ours {ours.hex()}"
    assert decode_fragment(ours, Namespace.CM) == doc


@SETTINGS
@given(element=OEM_CHAIN)
def test_oem_chain_fragment_matches_oracle(exificient: Exificient, element: Doc) -> None:
    doc = {"OEMProvisioningCertificateChain": element}
    ours = encode_fragment(doc, Namespace.CM)
    assert ours == exificient.encode("CM", doc), f"ours {ours.hex()}"
    assert decode_fragment(ours, Namespace.CM) == doc


@SETTINGS
@given(signed_info=SIGNED_INFO)
def test_signed_info_fragment_matches_oracle(exificient: Exificient, signed_info: Doc) -> None:
    doc = {"SignedInfo": signed_info}
    ours = encode_fragment(doc)
    assert ours == oracle_xmldsig_fragment(exificient, doc), f"ours {ours.hex()}"
    assert decode_fragment(ours) == doc


def test_signature_over_the_oracles_bytes_verifies(exificient: Exificient, pki: V2gDevPki) -> None:
    """A vehicle whose encoder is EXIficient: the DigestValue is SHA-512 of the jar's fragment
    bytes, not of ours, and ccy-v2g's verifier accepts the request."""
    body = request(pki)
    element = {"PnC_AReqAuthorizationMode": body["PnC_AReqAuthorizationMode"]}
    digest = hashlib.sha512(exificient.encode("CM", element)).digest()
    signed = sign(body, pki.issued["CONTRACT_LEAF"].key)
    reference = signed["Header"]["Signature"]["SignedInfo"]["Reference"][0]
    assert reference["DigestValue"] == base64.b64encode(digest).decode()
    ps.verify_authorization_req(signed)
