# SPDX-License-Identifier: Apache-2.0
"""XMLDSig: messages with a Signature in the header, and SignedInfo as an EXI fragment
(EXI 1.0 §8.5.3, the bytes a Plug & Charge signature covers)."""

import pytest

from ccy.v2g.exi import (
    FacetViolation,
    Namespace,
    UnsupportedContent,
    decode,
    decode_fragment,
    encode,
    encode_fragment,
)

C14N = "http://www.w3.org/TR/canonical-exi/"
ECDSA = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"


def signed_info(*uris: str) -> dict[str, object]:
    references = [
        {
            "URI": uri,
            "Transforms": {"Transform": [{"Algorithm": C14N}]},
            "DigestMethod": {"Algorithm": ECDSA},
            "DigestValue": "AQIDBAUGBw==",
        }
        for uri in uris
    ]
    return {
        "CanonicalizationMethod": {"Algorithm": C14N},
        "SignatureMethod": {"Algorithm": ECDSA},
        "Reference": references,
    }


# The expected stream of libcbv2g's xmldsigFragment unit test (EVerest, Apache-2.0):
# SignedInfo with two References "id1"/"id2", digest 01..07.
LIBCBV2G_SIGNED_INFO = bytes.fromhex(
    "808112b43a3a381d1797bbbbbb973b999737b93397aa2917b1b0b737b734b1b0b616b2bc3497a1ab43a3a381"
    "d1797bbbbbb973b999737b933979918181897981a17bc36b63239b4b396b6b7b93291b2b1b239b096b9b4309"
    "a98992205696431025687474703a2f2f7777772e77332e6f72672f54522f63616e6f6e6963616c2d6578692f"
    "486ad0e8e8e0745e5eeeeeee5cee665cdee4ce5e646060625e60685ef0dad8c8e6d2ce5adadee4ca46cac6c8"
    "e6c25ae6d0c26a626480e020406080a0c0e0815a590c8095a1d1d1c0e8bcbddddddcb9dcccb9bdc99cbd5148"
    "bd8d85b9bdb9a58d85b0b595e1a4bd21ab43a3a381d1797bbbbbb973b999737b933979918181897981a17bc3"
    "6b63239b4b396b6b7b93291b2b1b239b096b9b4309a9899203808101820283038dc0"
)


def test_signed_info_fragment_matches_libcbv2g() -> None:
    doc = {"SignedInfo": signed_info("id1", "id2")}
    assert encode_fragment(doc) == LIBCBV2G_SIGNED_INFO
    assert decode_fragment(LIBCBV2G_SIGNED_INFO) == doc


def test_fragment_rejects_unknown_and_trailing() -> None:
    with pytest.raises(FacetViolation):
        encode_fragment({"AuthorizationReq": {}})
    with pytest.raises(UnsupportedContent):
        # the ED code replaced by another SE: a second element in the fragment
        decode_fragment(LIBCBV2G_SIGNED_INFO[:-1] + bytes([LIBCBV2G_SIGNED_INFO[-1] ^ 0x40]))


def test_message_with_signature_in_header_round_trips() -> None:
    header = {
        "SessionID": "F21915B9DDDC12D1",
        "TimeStamp": 1691411798,
        "Signature": {
            "SignedInfo": signed_info("#id1"),
            "SignatureValue": {"value": "AAECAwQFBgc="},
        },
    }
    body = {
        "Header": header,
        "SelectedAuthorizationService": "PnC",
        "PnC_AReqAuthorizationMode": {
            "Id": "id1",
            "GenChallenge": "AAECAwQFBgcICQoLDA0ODw==",
            "ContractCertificateChain": {
                "Certificate": "AAEC",
                "SubCertificates": {"Certificate": ["AAEC"]},
            },
        },
    }
    data = encode(Namespace.CM, {"AuthorizationReq": body})
    assert decode(Namespace.CM, data) == {"AuthorizationReq": body}
