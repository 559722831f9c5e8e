# SPDX-License-Identifier: Apache-2.0
"""Messages ↔ frames for every COM (safety-link.md, message sections)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccy.bsp.protocol.frame import Com, Frame, FrameParser, encode_frame
from ccy.bsp.protocol.messages import (
    CcsReady,
    CeState,
    ChargeControl2,
    ChargeState2,
    ErrorMessage,
    ErrorModule,
    EstopReason,
    FirmwareApplication,
    FwVersion,
    GitHash,
    IdState,
    Inquiry,
    Message,
    ProtocolError,
    Pt1000Channel,
    Pt1000State,
    SafeState,
    UnknownCode,
    UnknownCom,
    ValueOutOfRange,
    decode,
    encode,
)

# ---------------------------------------------------------------- known answers, every COM


def test_charge_state2_known_answer() -> None:
    # CE B0 (2), ID Connected (2), E-stop EmergencyInput (0xE), SafeStateActive (1 at bit 46).
    frame = Frame(Com.CHARGE_STATE2, 0x220E_4000_0000_0000)
    message = ChargeState2(
        CeState.B0, IdState.CONNECTED, EstopReason.EMERGENCY_INPUT, SafeState.SAFE_STATE_ACTIVE
    )
    assert decode(frame) == message
    assert encode(message) == frame


def test_charge_control2_known_answer() -> None:
    assert decode(Frame(Com.CHARGE_CONTROL2, 0x2 << 60)) == ChargeControl2(CcsReady.EMERGENCY_STOP)
    assert encode(ChargeControl2(CcsReady.READY)) == Frame(Com.CHARGE_CONTROL2, 1 << 60)


def test_pt1000_known_answer() -> None:
    # ch1 72.5 °C + charging stopped, ch2 -40.3 °C, ch3 unused + self-test failed, ch4 0.0 °C
    ch1 = (725 << 2) | 1
    ch2 = ((-403 & 0x3FFF) << 2) | 0
    ch3 = (0x1FFF << 2) | 2
    ch4 = 0
    frame = Frame(Com.PT1000_STATE, ch1 << 48 | ch2 << 32 | ch3 << 16 | ch4)
    message = Pt1000State(
        (
            Pt1000Channel(72.5, charging_stopped=True),
            Pt1000Channel(-40.3),
            Pt1000Channel(None, selftest_failed=True),
            Pt1000Channel(0.0),
        )
    )
    assert decode(frame) == message
    assert encode(message) == frame


def test_fw_version_seed_known_answer() -> None:
    frame = Frame(Com.FW_VERSION, 0x0002_0382_0300_0000)
    fw = decode(frame)
    assert fw == FwVersion(0, 2, 3, 0x82, FirmwareApplication.FIRMWARE, 0)
    assert isinstance(fw, FwVersion)
    assert (fw.version, fw.platform_name, fw.application.value) == ("0.2.3", "CC Y", "Firmware")
    assert encode(fw) == frame


def test_fw_version_parameter_block_is_16_bit_big_endian_in_bytes_5_and_6() -> None:
    # safety-link.md: bytes 5-6 (data bits 8-23), big-endian; byte 7 reserved. 0x1234 would
    # read as 0x12 with the old one-byte layout, and byte 7 (0xEE) must not leak in.
    frame = Frame(Com.FW_VERSION, 0x0102_0382_0312_34EE)
    fw = decode(frame)
    assert isinstance(fw, FwVersion)
    assert fw.parameter_block_version == 0x1234
    assert encode(FwVersion(1, 2, 3, 0x82, FirmwareApplication.FIRMWARE, 0x1234)) == Frame(
        Com.FW_VERSION, 0x0102_0382_0312_3400
    )


def test_git_hash_seed_known_answer() -> None:
    gh = decode(Frame(Com.GIT_HASH, 0x5638A7E18ECCE8F0))
    assert isinstance(gh, GitHash)
    assert gh.text == "g5638a7e18ecce8f0"


def test_seed_firmware_line_from_frames() -> None:
    fw = decode(Frame(Com.FW_VERSION, 0x0002_0382_0300_0000))
    gh = decode(Frame(Com.GIT_HASH, 0x5638A7E18ECCE8F0))
    assert isinstance(fw, FwVersion)
    assert isinstance(gh, GitHash)
    line = (
        f"Safety Controller Firmware: {fw.version} "
        f"({gh.text}, {fw.platform_name}, {fw.application.value.lower()})"
    )
    assert line == "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)"


def test_error_message_known_answer() -> None:
    frame = Frame(Com.ERROR_MESSAGE, 0x8007_1234_0005_0006)
    message = ErrorMessage(True, ErrorModule.APP_HVSWITCH, 0x1234, 5, 6)
    assert decode(frame) == message
    assert encode(message) == frame
    assert message.module_name == "APP_HVSWITCH"
    assert ErrorMessage(False, 0x4321, 0).module_name == "Module0x4321"


def test_inquiry_known_answer() -> None:
    assert encode(Inquiry(Com.GIT_HASH)) == Frame(Com.INQUIRY, 0x0B << 56)
    assert decode(Frame(Com.INQUIRY, 0x0A << 56)) == Inquiry(0x0A)


def test_platform_names() -> None:
    assert FwVersion(1, 0, 0, platform=0x81).platform_name == "chargeSOM"
    assert FwVersion(1, 0, 0, platform=0x07).platform_name == "platform 0x07"


# ---------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (0, "Unknown"),
        (1, "A"),
        (2, "B0"),
        (3, "B"),
        (4, "C"),
        (5, "E"),
        (6, "EC"),
        (7, "Invalid"),
        (0xF, "Invalid"),
    ],
)
def test_every_ce_code(code: int, state: str) -> None:
    message = decode(Frame(Com.CHARGE_STATE2, code << 60 | 1 << 56))
    assert isinstance(message, ChargeState2)
    assert message.ce == state


@pytest.mark.parametrize(
    ("code", "state"),
    [(0, "Unknown"), (1, "NotConnected"), (2, "Connected"), (3, "Invalid"), (0xF, "Invalid")],
)
def test_every_id_code(code: int, state: str) -> None:
    message = decode(Frame(Com.CHARGE_STATE2, 1 << 60 | code << 56))
    assert isinstance(message, ChargeState2)
    assert message.id == state


@pytest.mark.parametrize("code", [0x0F, 0x10, 0x7F, 0xFF])
def test_unknown_estop_reason_decodes_as_a_stop_not_an_error(code: int) -> None:
    message = decode(Frame(Com.CHARGE_STATE2, 0x42 << 56 | code << 48))
    assert message == ChargeState2(
        CeState.C, IdState.CONNECTED, EstopReason.UNKNOWN, SafeState.NORMAL
    )


def test_undefined_safe_state_code_decodes_as_unknown() -> None:
    message = decode(Frame(Com.CHARGE_STATE2, 0x42 << 56 | 2 << 46))
    assert isinstance(message, ChargeState2)
    assert message.safe_state is SafeState.UNKNOWN
    assert encode(message) == Frame(Com.CHARGE_STATE2, 0x42 << 56 | 2 << 46)


def test_every_estop_code_in_order() -> None:
    reasons = [
        decode(Frame(Com.CHARGE_STATE2, code << 48)).estop  # type: ignore[union-attr]
        for code in range(0xF)
    ]
    assert [r.value for r in reasons] == [
        "NoStop", "InternalError", "ComTimeout",
        "Temp1Malfunction", "Temp2Malfunction", "Temp3Malfunction", "Temp4Malfunction",
        "Temp1OverTemperature", "Temp2OverTemperature", "Temp3OverTemperature",
        "Temp4OverTemperature", "IdMalfunction", "CeMalfunction", "HvReadyMalfunction",
        "EmergencyInput",
    ]  # fmt: skip


@pytest.mark.parametrize(("code", "state"), [(0, "Normal"), (1, "SafeStateActive"),
                                             (2, "Unknown"), (3, "NotAvailable")])  # fmt: skip
def test_every_safe_state_code(code: int, state: str) -> None:
    message = decode(Frame(Com.CHARGE_STATE2, code << 46))
    assert isinstance(message, ChargeState2)
    assert message.safe_state == state


@pytest.mark.parametrize(
    ("frame", "field", "raw"),
    [
        (Frame(Com.CHARGE_STATE2, 9 << 60), "CE state", 9),
        (Frame(Com.CHARGE_STATE2, 5 << 56), "ID state", 5),
        (Frame(Com.CHARGE_CONTROL2, 3 << 60), "CCSReady", 3),
        (Frame(Com.FW_VERSION, 0x0002_0382_0700_0000), "application type", 7),
    ],
)
def test_unknown_codes_are_named(frame: Frame, field: str, raw: int) -> None:
    with pytest.raises(UnknownCode) as info:
        decode(frame)
    assert (info.value.field, info.value.raw) == (field, raw)
    assert field in str(info.value)
    assert isinstance(info.value, ProtocolError)


def test_unknown_com_is_named() -> None:
    with pytest.raises(UnknownCom, match="0x42"):
        decode(Frame(0x42, 0))


def test_temperature_below_absolute_zero_spoils_only_that_channel() -> None:
    lowest_ok = (-2731 & 0x3FFF) << 2
    message = decode(Frame(Com.PT1000_STATE, lowest_ok << 48))
    assert isinstance(message, Pt1000State)
    assert message.channels[0].temperature_degC == -273.1
    assert not message.channels[0].implausible
    too_cold = ((-2732 & 0x3FFF) << 2) | 1  # with charging stopped: the flag is kept
    ch1 = 725 << 2
    message = decode(Frame(Com.PT1000_STATE, ch1 << 48 | too_cold << 16 | 0x1FFF << 2))
    assert message == Pt1000State(
        (
            Pt1000Channel(72.5),
            Pt1000Channel(0.0),
            Pt1000Channel(None, charging_stopped=True, implausible=True),
            Pt1000Channel(None),
        )
    )
    assert decode(encode(message)) == message


@pytest.mark.parametrize(
    "message",
    [
        Pt1000State((Pt1000Channel(819.1),) * 4),  # 0x1FFF is "unused", not a reading
        Pt1000State((Pt1000Channel(-819.3),) * 4),
        Pt1000State((Pt1000Channel(),) * 3),
        FwVersion(256, 0, 0),
        FwVersion(1, 0, 0, parameter_block_version=0x10000),
        GitHash(1 << 64),
        ErrorMessage(True, 1 << 15, 0),
        ErrorMessage(True, 1, 1 << 16),
        Inquiry(0x100),
    ],
)
def test_values_that_do_not_fit_are_refused(message: Message) -> None:
    with pytest.raises(ValueOutOfRange):
        encode(message)


def test_bus_strings() -> None:
    assert [c.value for c in CcsReady] == ["NotReady", "Ready", "EmergencyStop"]
    assert [s.value for s in SafeState] == [
        "Normal",
        "SafeStateActive",
        "NotAvailable",
        "Unknown",
    ]
    assert EstopReason.UNKNOWN.value == "Unknown"
    assert [a.value for a in FirmwareApplication] == ["Firmware", "EndOfLine", "Qualification"]
    assert CeState("EC") is CeState.EC


# ---------------------------------------------------------------- round trips


temperatures = st.one_of(
    st.none(), st.integers(-2731, 8190).map(lambda raw: raw / 10)
)  # fmt: skip
channels = st.one_of(
    st.builds(Pt1000Channel, temperatures, st.booleans(), st.booleans()),
    st.builds(Pt1000Channel, st.none(), st.booleans(), st.booleans(), st.just(True)),
)
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(ChargeState2, st.sampled_from(CeState), st.sampled_from(IdState),
              st.sampled_from(EstopReason), st.sampled_from(SafeState)),
    st.builds(ChargeControl2, st.sampled_from(CcsReady)),
    st.builds(Pt1000State, st.tuples(channels, channels, channels, channels)),
    st.builds(FwVersion, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
              st.integers(0, 255), st.sampled_from(FirmwareApplication),
              st.integers(0, 0xFFFF)),
    st.builds(GitHash, st.integers(0, (1 << 64) - 1)),
    st.builds(ErrorMessage, st.booleans(), st.integers(0, 0x7FFF), st.integers(0, 0xFFFF),
              st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    st.builds(Inquiry, st.integers(0, 0xFF)),
)  # fmt: skip


@settings(max_examples=300)
@given(messages)
def test_round_trip_through_the_wire(message: Message) -> None:
    (frame,) = FrameParser().feed(encode_frame(encode(message)))
    assert decode(frame) == message


@settings(max_examples=300)
@given(st.integers(0, 0xFF), st.integers(0, (1 << 64) - 1))
def test_decode_raises_only_protocol_errors(com: int, data: int) -> None:
    try:
        message = decode(Frame(com, data))
    except ProtocolError:
        return
    assert com in set(Com)
    # What decodes, re-encodes to a frame that decodes to the same message.
    assert decode(encode(message)) == message
