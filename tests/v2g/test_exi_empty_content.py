# SPDX-License-Identifier: Apache-2.0
"""Empty character content as EXIficient (Josev) writes it: a second-level EE at the start tag.

EXIficient encodes ``"EVCCID": ""`` as escape + 3-bit second-level code 0 (EE), where
libcbv2g and our encoder write CH with length 0. Both forms decode to ""; we keep writing the
CH form, which EXIficient decodes too (checked against its jar while writing this).
"""

import pytest

from ccy.v2g.exi import Namespace, SecondLevelEvent, decode, encode

DOC = {
    "SessionSetupReq": {"Header": {"SessionID": "0000000000000000", "TimeStamp": 0}, "EVCCID": ""}
}
EXIFICIENT = bytes.fromhex("808c040000000000000000000280")  # bytes from the EXIficient jar
OURS = bytes.fromhex("808c04000000000000000000020100")


def test_exificient_empty_string_decodes() -> None:
    assert decode(Namespace.CM, EXIFICIENT) == DOC


def test_we_write_the_ch_form_and_read_it_back() -> None:
    assert encode(Namespace.CM, DOC) == OURS
    assert decode(Namespace.CM, OURS) == DOC


def test_other_second_level_codes_stay_errors() -> None:
    bad = bytearray(EXIFICIENT)
    bad[-1] = 0b1001_0000  # escape + second-level code 1 (AT(xsi:type)): not accepted
    with pytest.raises(SecondLevelEvent) as info:
        decode(Namespace.CM, bytes(bad))
    assert info.value.bit_position == 104


def signature_value(value: dict[str, str]) -> dict[str, object]:
    signed_info = {
        "CanonicalizationMethod": {"Algorithm": "0"},
        "SignatureMethod": {"Algorithm": "0"},
        "Reference": [{"DigestMethod": {"Algorithm": "0"}, "DigestValue": "AQ=="}],
    }
    header = {
        "SessionID": "0000000000000000",
        "TimeStamp": 0,
        "Signature": {"SignedInfo": signed_info, "SignatureValue": value},
    }
    return {"SessionStopReq": {"Header": header, "ChargingSession": "Terminate"}}


# EXIficient's bytes for an empty SignatureValue (simple content): second-level EE where the
# character data would start, before (state 0) and after (state 1) the optional Id attribute.
SIGNATURE_VALUE_CASES = [
    ({"value": ""}, "80940400000000000000000000a033040330480330401011420a"),
    ({"value": "", "Id": "s"}, "80940400000000000000000000a033040330480330401011006e710500"),
]


@pytest.mark.parametrize(("value", "theirs"), SIGNATURE_VALUE_CASES)
def test_exificient_empty_simple_content_decodes(value: dict[str, str], theirs: str) -> None:
    doc = signature_value(value)
    assert decode(Namespace.CM, bytes.fromhex(theirs)) == doc
    ours = encode(Namespace.CM, doc)
    assert ours != bytes.fromhex(theirs)
    assert decode(Namespace.CM, ours) == doc


def test_empty_simple_content_needs_an_empty_allowing_type() -> None:
    theirs = bytearray.fromhex(SIGNATURE_VALUE_CASES[0][1])
    # ...0 10 000 1 0: the 2-bit escape of SignatureValue's state 0, then second-level EE
    theirs[-2] |= 0b0000_0100  # second-level code 1 (AT(xsi:type)) instead of EE
    with pytest.raises(SecondLevelEvent) as info:
        decode(Namespace.CM, bytes(theirs))
    assert info.value.bit_position == 8 * (len(theirs) - 2) + 1
