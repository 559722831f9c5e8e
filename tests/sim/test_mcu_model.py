# SPDX-License-Identifier: Apache-2.0
"""The pure MCU model: init, plug/CE, E-stop and safe state, temperatures, errors, reset."""

import pytest

from ccy.bsp.protocol.messages import (
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
    Pt1000State,
    SafeState,
    decode,
    encode,
)
from ccy.sim.mcu.model import McuModel, ScenarioError, module_number


def state(model: McuModel) -> ChargeState2:
    cs, pt, *_ = model.periodic()
    assert isinstance(cs, ChargeState2)
    assert isinstance(pt, Pt1000State)
    return cs


def running(ccs_ready: CcsReady = CcsReady.NOT_READY) -> McuModel:
    model = McuModel()
    model.on_message(ChargeControl2(ccs_ready))
    return model


def test_init_state_until_the_first_charge_control() -> None:
    model = McuModel()
    init = ChargeState2(CeState.UNKNOWN, IdState.UNKNOWN, EstopReason.NO_STOP,
                        SafeState.NOT_AVAILABLE)  # fmt: skip
    assert state(model) == init
    assert model.on_message(Inquiry(0x0A)) == [model.firmware]
    assert state(model) == init  # inquiries alone do not end init
    model.on_message(ChargeControl2())
    assert state(model) == ChargeState2(
        CeState.A, IdState.NOT_CONNECTED, EstopReason.NO_STOP, SafeState.NORMAL
    )


def test_inquiries_answer_the_seed_firmware() -> None:
    model = McuModel()
    (fw,) = model.on_message(Inquiry(0x0A))
    (gh,) = model.on_message(Inquiry(0x0B))
    assert isinstance(fw, FwVersion)
    assert isinstance(gh, GitHash)
    assert (fw.version, fw.platform_name, fw.application.value) == ("0.2.3", "CC Y", "Firmware")
    assert gh.text == "g5638a7e18ecce8f0"
    assert model.on_message(Inquiry(0x10)) == []
    assert model.unsupported_inquiries == 1


def test_plug_ccs_ready_and_ev_ce() -> None:
    model = running()
    model.plug()
    assert (state(model).ce, state(model).id) == (CeState.B0, IdState.CONNECTED)
    model.on_message(ChargeControl2(CcsReady.READY))
    assert state(model).ce is CeState.B
    model.set_ce(CeState.C)
    assert state(model).ce is CeState.C
    assert model.contactor_closed()
    model.on_message(ChargeControl2(CcsReady.NOT_READY))
    assert state(model).ce is CeState.B0
    assert not model.contactor_closed()
    model.set_ce(CeState.E)
    assert state(model).ce is CeState.E
    model.unplug()
    assert (state(model).ce, state(model).id) == (CeState.A, IdState.NOT_CONNECTED)


def test_set_ce_needs_a_vehicle_and_a_settable_state() -> None:
    model = running()
    with pytest.raises(ScenarioError, match="plug first"):
        model.set_ce(CeState.C)
    model.plug()
    with pytest.raises(ScenarioError, match="Unknown"):
        model.set_ce(CeState.UNKNOWN)


def test_estop_latches_safe_state_until_reset() -> None:
    model = running(CcsReady.READY)
    model.plug()
    model.set_ce(CeState.C)
    model.set_estop(EstopReason.EMERGENCY_INPUT)
    cs = state(model)
    assert (cs.estop, cs.safe_state, cs.ce) == (
        EstopReason.EMERGENCY_INPUT, SafeState.SAFE_STATE_ACTIVE, CeState.EC)  # fmt: skip
    assert not model.contactor_closed()
    model.set_estop(EstopReason.NO_STOP)
    cs = state(model)
    assert (cs.estop, cs.safe_state) == (EstopReason.NO_STOP, SafeState.SAFE_STATE_ACTIVE)
    model.unplug()
    assert state(model).ce is CeState.A
    model.hold_reset()
    assert not model.talking(5.0)
    model.release_reset(5.0)
    assert not model.talking(5.2)
    assert model.talking(5.3)
    assert state(model).safe_state is SafeState.NOT_AVAILABLE  # init again
    model.on_message(ChargeControl2())
    assert state(model).safe_state is SafeState.NORMAL
    assert model.resets == 1


def test_every_estop_reason_enters_safe_state() -> None:
    for reason in EstopReason:
        if reason is EstopReason.NO_STOP:
            continue
        model = running()
        model.set_estop(reason)
        cs = state(model)
        assert (cs.estop, cs.safe_state) == (reason, SafeState.SAFE_STATE_ACTIVE)


def test_host_emergency_stop_enters_safe_state_on_that_frame() -> None:
    model = running(CcsReady.READY)
    model.plug()
    model.on_message(ChargeControl2(CcsReady.EMERGENCY_STOP))
    cs = state(model)
    assert (cs.safe_state, cs.ce) == (SafeState.SAFE_STATE_ACTIVE, CeState.EC)


def test_over_temperature_stops_charging_on_that_channel() -> None:
    model = running()
    model.set_temperature(3, 84.9)
    assert state(model).estop is EstopReason.NO_STOP
    model.set_temperature(3, 85.0)
    cs, pt, *_ = model.periodic()
    assert isinstance(cs, ChargeState2)
    assert isinstance(pt, Pt1000State)
    assert cs.estop is EstopReason.TEMP3_OVER_TEMPERATURE
    assert cs.safe_state is SafeState.SAFE_STATE_ACTIVE
    assert [c.charging_stopped for c in pt.channels] == [False, False, True, False]
    assert pt.channels[2].temperature_degC == 85.0


def test_unused_channel_and_selftest_failure() -> None:
    model = running()
    model.set_temperature(4, None)
    model.set_selftest_failed(2, True)
    cs, pt, *_ = model.periodic()
    assert isinstance(cs, ChargeState2)
    assert isinstance(pt, Pt1000State)
    assert pt.channels[3].temperature_degC is None
    assert pt.channels[1].selftest_failed
    assert cs.estop is EstopReason.TEMP2_MALFUNCTION


def test_temperature_limits_of_the_scenario() -> None:
    model = running()
    model.set_temperature(1, -300.0)  # below absolute zero on purpose: the host must refuse it
    with pytest.raises(ScenarioError, match="does not fit"):
        model.set_temperature(1, 900.0)
    with pytest.raises(ScenarioError, match="channel 5"):
        model.set_temperature(5, 20.0)


def test_error_messages_are_sent_on_change_only() -> None:
    model = running()
    assert model.set_error(ErrorModule.APP_HVSWITCH, 0x21, True, 1, 2)
    assert not model.set_error(ErrorModule.APP_HVSWITCH, 0x21, True)
    frames = model.periodic()
    assert frames[2:] == [ErrorMessage(True, ErrorModule.APP_HVSWITCH, 0x21, 1, 2)]
    assert model.periodic()[2:] == []
    assert model.set_error(ErrorModule.APP_HVSWITCH, 0x21, False)
    (message,) = model.periodic()[2:]
    assert isinstance(message, ErrorMessage)
    assert not message.active
    with pytest.raises(ScenarioError, match="module"):
        model.set_error(1 << 15, 0, True)


def test_firmware_can_be_changed() -> None:
    model = McuModel()
    model.set_firmware("1.12.0", 0xABCDEF)
    (fw,) = model.on_message(Inquiry(0x0A))
    (gh,) = model.on_message(Inquiry(0x0B))
    assert isinstance(fw, FwVersion)
    assert isinstance(gh, GitHash)
    assert (fw.version, gh.text) == ("1.12.0", "g0000000000abcdef")
    for bad in ("1.2", "1.2.x", "1.2.300"):
        with pytest.raises(ScenarioError, match=r"MAJOR\.MINOR\.BUILD"):
            model.set_firmware(bad)


def test_host_must_not_send_mcu_messages() -> None:
    with pytest.raises(ScenarioError, match="ChargeState2"):
        McuModel().on_message(ChargeState2())


def test_every_frame_the_model_sends_decodes() -> None:
    model = running(CcsReady.READY)
    model.plug()
    model.set_ce(CeState.C)
    model.set_temperature(1, 99.9)
    model.set_temperature(2, None)
    model.set_temperature(3, -40.0)
    model.set_error(ErrorModule.APP_TEMP, 7, True)
    for message in model.periodic():
        assert decode(encode(message)) == message


def test_module_number() -> None:
    assert module_number("APP_HVSWITCH") == ErrorModule.APP_HVSWITCH
    assert module_number("app_temp") == ErrorModule.APP_TEMP
    assert module_number("0x20") == 0x20
    assert module_number(9) == 9
    with pytest.raises(ScenarioError, match="unknown error module"):
        module_number("MW_NOPE")


def test_status_is_plain_data() -> None:
    model = running(CcsReady.READY)
    model.plug()
    status = model.status(0.0)
    assert status["ce"] == "B"
    assert status["host_ccs_ready"] == "Ready"
    assert status["git_hash"] == "g5638a7e18ecce8f0"


def test_host_silence_is_a_com_timeout_and_latches_safe_state() -> None:
    """A crashed host stops ChargeControl2: the MCU stops charging by itself (ComTimeout)."""
    model = McuModel()
    model.on_message(ChargeControl2(CcsReady.READY))
    model.note_host_frame(10.0)
    model.check_host(10.9)
    cs, *_ = model.periodic()
    assert cs.estop is EstopReason.NO_STOP and cs.safe_state is SafeState.NORMAL
    model.check_host(11.1)
    cs, *_ = model.periodic()
    assert cs.estop is EstopReason.COM_TIMEOUT and cs.safe_state is SafeState.SAFE_STATE_ACTIVE
    model.note_host_frame(11.2)  # the host is back: the reason clears, safe state stays
    cs, *_ = model.periodic()
    assert cs.estop is EstopReason.NO_STOP and cs.safe_state is SafeState.SAFE_STATE_ACTIVE
