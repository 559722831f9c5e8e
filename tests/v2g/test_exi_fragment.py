# SPDX-License-Identifier: Apache-2.0
"""The -20 CommonMessages EXI fragment grammar (EXI 1.0 §8.5.2): what a PnC Reference digests.

FragmentContent lists every element declaration of the CommonMessages schema set (with the
imported CommonTypes and xmldsig), global and local, sorted by local name then namespace:
281 qnames, then SE(*) and ED, so 9-bit event codes. libcbv2g's ``encode_iso20_exiFragment``
(EVerest, Apache-2.0) writes the same: PnC_AReqAuthorizationMode is event 151, SignedInfo 230,
the end of the fragment 282, each in 9 bits. test_exi_fragment_oracle.py compares random
elements with EXIficient's fragment mode.
"""

import base64

import pytest

from ccy.v2g.exi import (
    FacetViolation,
    Namespace,
    UnsupportedContent,
    decode_fragment,
    encode_fragment,
)
from ccy.v2g.exi.codec import grammars


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PNC = {
    "PnC_AReqAuthorizationMode": {
        "Id": "id1",
        "GenChallenge": b64(bytes(range(16))),
        "ContractCertificateChain": {
            "Certificate": b64(b"\x30\x82abc"),
            "SubCertificates": {"Certificate": [b64(b"sub1"), b64(b"sub2")]},
        },
    }
}
# EXIficient 1.55 (the jar of iso15118 0.26.0, Apache-2.0), fragment mode, CommonMessages
# grammars, for PNC above: the bytes of our encoder must equal them.
PNC_EXIFICIENT = bytes.fromhex(
    "804b815a590c410000102030405060708090a0b0c0d0e0f005308261626300473756231004737562322468"
)


def bits(data: bytes, start: int, width: int) -> int:
    return (int.from_bytes(data, "big") >> (len(data) * 8 - start - width)) & ((1 << width) - 1)


def test_cm_fragment_grammar_shape() -> None:
    g = grammars("CM")
    assert (g.fragment_width, len(g.fragment)) == (9, 281)
    names = [name for name, _ in g.fragment]
    assert names.index("PnC_AReqAuthorizationMode") == 151
    assert names.index("SignedInfo") == 230
    assert names.index("AuthorizationReq") == 10
    assert names == sorted(names)  # by local name (ties: same local name, sorted by namespace)
    assert (names[0], names[-1]) == ("AbsolutePriceSchedule", "shortValue")


def test_pnc_element_fragment_bytes() -> None:
    data = encode_fragment(PNC, Namespace.CM)
    assert data == PNC_EXIFICIENT
    assert data[0] == 0x80
    assert bits(data, 8, 9) == 151  # SE(PnC_AReqAuthorizationMode)
    assert decode_fragment(data, Namespace.CM) == PNC


def test_pnc_fragment_ends_with_the_ed_code() -> None:
    # PNC_EXIFICIENT ends ...0x2468: ED = 282 in the 9 bits before 2 bits of zero padding.
    data = encode_fragment(PNC, Namespace.CM)
    assert bits(data, len(data) * 8 - 11, 9) == 282
    assert bits(data, len(data) * 8 - 2, 2) == 0


def test_default_fragment_is_still_xmldsig() -> None:
    signed_info = {
        "CanonicalizationMethod": {"Algorithm": "http://www.w3.org/TR/canonical-exi/"},
        "SignatureMethod": {"Algorithm": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"},
        "Reference": [
            {
                "URI": "#id1",
                "DigestMethod": {"Algorithm": "http://www.w3.org/2001/04/xmlenc#sha512"},
                "DigestValue": b64(bytes(64)),
            }
        ],
    }
    xmldsig = encode_fragment({"SignedInfo": signed_info})
    cm = encode_fragment({"SignedInfo": signed_info}, Namespace.CM)
    assert xmldsig != cm  # 6-bit codes of the xmldsig schema alone vs. 9-bit ones
    assert bits(cm, 8, 9) == 230
    assert decode_fragment(xmldsig) == {"SignedInfo": signed_info}
    assert decode_fragment(cm, Namespace.CM) == {"SignedInfo": signed_info}


def test_changed_element_changes_the_fragment() -> None:
    other = {"PnC_AReqAuthorizationMode": dict(PNC["PnC_AReqAuthorizationMode"], Id="id2")}
    assert encode_fragment(other, Namespace.CM) != encode_fragment(PNC, Namespace.CM)


def test_cm_fragment_refusals() -> None:
    with pytest.raises(FacetViolation):
        encode_fragment({"NoSuchElement": {}}, Namespace.CM)
    with pytest.raises(FacetViolation):  # GenChallenge is exactly 16 bytes
        body = dict(PNC["PnC_AReqAuthorizationMode"], GenChallenge=b64(bytes(15)))
        encode_fragment({"PnC_AReqAuthorizationMode": body}, Namespace.CM)
    with pytest.raises(UnsupportedContent):
        # ED replaced by code 0, SE(AbsolutePriceSchedule): a second element in the fragment
        value = int.from_bytes(PNC_EXIFICIENT, "big") ^ (282 << 2)
        decode_fragment(value.to_bytes(len(PNC_EXIFICIENT), "big"), Namespace.CM)


def test_qnames_of_several_types_are_not_modelled() -> None:
    """DepartureTime (and Duration, PGPKeyPacket, TimeAnchor) are declared with different
    types: the relaxed element fragment grammar (§8.5.3) they need is refused both ways."""
    g = grammars("CM")
    code = [name for name, _ in g.fragment].index("Duration")
    assert g.fragment[code][1] is None
    with pytest.raises(FacetViolation):
        encode_fragment({"Duration": 5}, Namespace.CM)
    with pytest.raises(UnsupportedContent):
        header_and_code = (0x80 << 9 | code) << 7  # then zero padding to 3 bytes
        decode_fragment(header_and_code.to_bytes(3, "big"), Namespace.CM)
