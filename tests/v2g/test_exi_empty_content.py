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
