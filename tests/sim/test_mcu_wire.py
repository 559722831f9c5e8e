# SPDX-License-Identifier: Apache-2.0
"""The simulator's own codec against known answers derived by hand from safety-link.md.

Each data word below is written from the note's bit numbers (63 = MSB of the first data byte);
the CRC bytes were cross-checked once, outside this repository, against the vendor's
table-driven CRC (ra-utils lib/crc8_j1850.c) and its getters (lib/cb_protocol.c). No ccy.bsp
code takes part, so a mistake shared with the host's codec cannot hide here.
"""

import pytest

from ccy.sim.mcu.messages import (
    CcsReady,
    CeState,
    ChargeControl2,
    ChargeState2,
    ErrorMessage,
    ErrorModule,
    EstopReason,
    FwVersion,
    GitHash,
    IdState,
    Inquiry,
    Message,
    Pt1000Channel,
    Pt1000State,
    SafeState,
    WireError,
    parse,
)
from ccy.sim.mcu.wire import FRAME_LEN, FrameReader, RawFrame, crc8_sae_j1850

# (message, the 12 wire bytes) — the data word's derivation in the comment.
KNOWN_FRAMES: list[tuple[Message, str]] = [
    # CE C=4 (60–63), ID Connected=2 (56–59) → 0x42; EmergencyInput 0x0E (48–55);
    # SafeStateActive 1 in bits 46–47 → 0x40 in the third byte.
    (
        ChargeState2(
            CeState.C, IdState.CONNECTED, EstopReason.EMERGENCY_INPUT, SafeState.SAFE_STATE_ACTIVE
        ),
        "A5 10 42 0E 40 00 00 00 00 00 D3 03",
    ),
    # Init: everything Unknown/NoStop, safe state "not available" 3 in bits 46–47 → 0xC0.
    (ChargeState2(), "A5 10 00 00 C0 00 00 00 00 00 92 03"),
    # CCSReady Ready=1 / EmergencyStop=2 in bits 60–63.
    (ChargeControl2(CcsReady.READY), "A5 11 10 00 00 00 00 00 00 00 9E 03"),
    (ChargeControl2(CcsReady.EMERGENCY_STOP), "A5 11 20 00 00 00 00 00 00 00 28 03"),
    # Channel words, channel 1 first: 25.0 °C → 250 << 2 = 0x03E8; unused 0x1FFF << 2 = 0x7FFC;
    # -40.0 °C → -400 as 14 bits 0x3E70 << 2 | self-test failed (bit 1) = 0xF9C2;
    # 85.0 °C → 850 << 2 | charging stopped (bit 0) = 0x0D49.
    (
        Pt1000State(
            (
                Pt1000Channel(25.0),
                Pt1000Channel(None),
                Pt1000Channel(-40.0, False, True),
                Pt1000Channel(85.0, True, False),
            )
        ),
        "A5 08 03 E8 7F FC F9 C2 0D 49 19 03",
    ),
    # 0.2.3, platform 0x82 (CCY), application 3 (firmware), parameter version 0x0102 in bytes
    # 5–6 (bits 8–23), byte 7 reserved.
    (FwVersion(0, 2, 3, 0x82, 3, 0x0102), "A5 0A 00 02 03 82 03 01 02 00 93 03"),
    (GitHash(0x5638A7E18ECCE8F0), "A5 0B 56 38 A7 E1 8E CC E8 F0 89 03"),
    # Active (bit 63), module 7 = APP_HVSWITCH (48–62), reason 2 (32–47), 0x0001, 0x0203.
    (
        ErrorMessage(True, ErrorModule.APP_HVSWITCH, 2, 1, 0x0203),
        "A5 0E 80 07 00 02 00 01 02 03 E6 03",
    ),
    # Inquiry for FwVersion: data byte 0 = 0x0A.
    (Inquiry(0x0A), "A5 FF 0A 00 00 00 00 00 00 00 83 03"),
]


def test_crc_check_value_of_the_catalogue() -> None:
    """CRC-8/SAE-J1850's catalogued check: the CRC of ASCII "123456789" is 0x4B."""
    assert crc8_sae_j1850(b"123456789") == 0x4B
    assert crc8_sae_j1850(b"") == 0x00  # init 0xFF, nothing shifted, xorout 0xFF


@pytest.mark.parametrize(("message", "wire"), KNOWN_FRAMES)
def test_known_frames_encode_and_parse(message: Message, wire: str) -> None:
    expected = bytes.fromhex(wire)
    assert message.frame().to_bytes() == expected
    (frame,) = FrameReader().feed(expected)
    assert parse(frame) == message


def test_every_com_of_the_note_has_a_known_answer() -> None:
    assert {bytes.fromhex(w)[1] for _, w in KNOWN_FRAMES} == {
        0x08,
        0x0A,
        0x0B,
        0x0E,
        0x10,
        0x11,
        0xFF,
    }


def test_old_firmware_invalid_codes_and_undefined_codes() -> None:
    assert ChargeState2.parse(0xF << 60 | 0xF << 56).ce is CeState.INVALID
    assert ChargeState2.parse(0xF << 60 | 0xF << 56).id is IdState.INVALID
    with pytest.raises(WireError, match="CE code 0x9"):
        ChargeState2.parse(0x9 << 60)
    with pytest.raises(WireError, match="CCSReady code 0x3"):
        ChargeControl2.parse(0x3 << 60)
    with pytest.raises(WireError, match="COM 0x42"):
        parse(RawFrame(0x42, 0))


def test_charge_control_reports_bits_the_note_does_not_define() -> None:
    message = ChargeControl2.parse(1 << 60 | 1 << 40)  # e.g. a non-MCS contactor request bit
    assert message == ChargeControl2(CcsReady.READY, 1 << 40)


def test_values_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="14-bit"):
        Pt1000Channel(819.1).word()  # 8191 is the "unused" marker
    with pytest.raises(ValueError, match="parameter version"):
        FwVersion(0, 0, 0, parameter_version=0x10000).frame()
    with pytest.raises(ValueError, match="module"):
        ErrorMessage(True, 1 << 15, 0).frame()
    with pytest.raises(ValueError, match="64 bits"):
        RawFrame(0x10, 1 << 64)


def _stream() -> tuple[bytes, list[RawFrame]]:
    good = [RawFrame(0x10, 0x1122334455667788), RawFrame(0x08, 0xA5A5A5A5A5A5A5A5)]
    a, b = (f.to_bytes() for f in good)
    bad_crc = a[:10] + bytes((a[10] ^ 0x01,)) + a[11:]
    no_eof = a[:11] + b"\x00"
    garbage = b"\x03\xa5\x00\xa5\x11"  # stray SOF and EOF bytes
    return garbage + bad_crc + a + no_eof + a[:5] + b + garbage, good


def test_reader_resynchronises_after_garbage_bad_crc_and_missing_eof() -> None:
    stream, wanted = _stream()
    reader = FrameReader()
    assert reader.feed(stream) == wanted
    assert reader.counts["bad_crc"] == 1
    assert reader.counts["missing_eof"] >= 1
    assert reader.counts["garbage_bytes"] > 0


def test_reader_result_does_not_depend_on_chunking() -> None:
    stream, wanted = _stream()
    reader = FrameReader()
    frames = [f for i in range(len(stream)) for f in reader.feed(stream[i : i + 1])]
    assert frames == wanted
    assert len(reader._buf) < FRAME_LEN
