# SPDX-License-Identifier: Apache-2.0
"""The pure MCU model with a fake clock: init, plug/CE, E-stop and its confirmation, safe
state, temperatures, errors, the reset pulse check, the start-up gate, the host watchdog."""

import pytest

from ccy.sim.mcu.messages import (
    CcsReady,
    CeState,
    ChargeControl2,
    ChargeState2,
    Com,
    ErrorMessage,
    ErrorModule,
    EstopReason,
    FwVersion,
    GitHash,
    IdState,
    Inquiry,
    Pt1000State,
    SafeState,
    parse,
)
from ccy.sim.mcu.model import McuModel, ResetOutcome, ScenarioError, module_number

T0 = 100.0  # a time well after the model's start (released_at = -inf)


def state(model: McuModel, now: float = T0) -> ChargeState2:
    cs, pt, *_ = model.periodic(now)
    assert isinstance(cs, ChargeState2)
    assert isinstance(pt, Pt1000State)
    return cs


def control(model: McuModel, ccs_ready: CcsReady, now: float = T0) -> None:
    assert model.on_message(ChargeControl2(ccs_ready), now) == []


def running(ccs_ready: CcsReady = CcsReady.NOT_READY) -> McuModel:
    model = McuModel()
    control(model, ccs_ready)
    return model


def charging() -> McuModel:
    model = running(CcsReady.READY)
    model.plug()
    model.set_ce(CeState.C)
    assert model.contactor_closed()
    return model


def test_init_state_until_the_first_charge_control() -> None:
    model = McuModel()
    assert state(model) == ChargeState2(
        CeState.UNKNOWN, IdState.UNKNOWN, EstopReason.NO_STOP, SafeState.NOT_AVAILABLE
    )
    assert model.on_message(Inquiry(Com.FW_VERSION), T0) == [model.firmware]
    assert state(model).safe_state is SafeState.NOT_AVAILABLE  # inquiries do not end init
    control(model, CcsReady.NOT_READY)
    assert state(model) == ChargeState2(
        CeState.A, IdState.NOT_CONNECTED, EstopReason.NO_STOP, SafeState.NORMAL
    )


def test_inquiries_answer_the_default_firmware() -> None:
    model = McuModel()
    (fw,) = model.on_message(Inquiry(Com.FW_VERSION), T0)
    (gh,) = model.on_message(Inquiry(Com.GIT_HASH), T0)
    assert isinstance(fw, FwVersion)
    assert isinstance(gh, GitHash)
    assert (fw.version, fw.platform, fw.application) == ("0.2.3", 0x82, 3)
    assert fw.parameter_version == 0x0102  # 16 bits: a one-byte decoder gets it wrong
    assert gh.text == "g5638a7e18ecce8f0"
    assert model.on_message(Inquiry(Com.CHARGE_STATE2), T0) == []
    assert model.unsupported_inquiries == 1


def test_plug_ccs_ready_and_ev_ce() -> None:
    model = running()
    model.plug()
    assert (state(model).ce, state(model).id) == (CeState.B0, IdState.CONNECTED)
    control(model, CcsReady.READY)
    assert state(model).ce is CeState.B
    model.set_ce(CeState.C)
    assert state(model).ce is CeState.C
    model.set_ce(CeState.E)
    assert state(model).ce is CeState.E
    model.unplug()
    assert (state(model).ce, state(model).id) == (CeState.A, IdState.NOT_CONNECTED)


def test_contactor_consent_is_ccs_ready_and_not_ready_withdraws_it() -> None:
    """No frame carries "allow power on" (ChargeControl2 holds only CCSReady): the MCU bridges
    the contactor only while the host keeps CCSReady=Ready in CE C."""
    model = running()
    model.plug()
    model.set_ce(CeState.C)  # the EV asks for power ...
    assert state(model).ce is CeState.B0  # ... but without the host's Ready the pilot stays B0
    assert not model.contactor_closed()
    control(model, CcsReady.READY)
    assert model.contactor_closed()
    assert model.status(T0)["host_consent"] is True
    control(model, CcsReady.NOT_READY)
    assert state(model).ce is CeState.B0
    assert not model.contactor_closed()
    assert model.status(T0)["host_consent"] is False


def test_set_ce_needs_a_vehicle_and_a_settable_state() -> None:
    model = running()
    with pytest.raises(ScenarioError, match="plug first"):
        model.set_ce(CeState.C)
    model.plug()
    with pytest.raises(ScenarioError, match="Unknown"):
        model.set_ce(CeState.UNKNOWN)


def test_estop_latches_safe_state_until_reset() -> None:
    model = charging()
    model.set_estop(EstopReason.EMERGENCY_INPUT)
    cs = state(model)
    assert (cs.estop, cs.safe_state, cs.ce) == (
        EstopReason.EMERGENCY_INPUT, SafeState.SAFE_STATE_ACTIVE, CeState.EC)  # fmt: skip
    assert not model.contactor_closed()
    model.set_estop(EstopReason.NO_STOP)
    cs = state(model)
    assert (cs.estop, cs.safe_state) == (EstopReason.NO_STOP, SafeState.SAFE_STATE_ACTIVE)
    model.hold_reset(T0)
    assert not model.talking(T0 + 0.1)
    assert model.release_reset(T0 + 0.005) is ResetOutcome.RESET
    assert state(model).safe_state is SafeState.NOT_AVAILABLE  # init again
    control(model, CcsReady.NOT_READY, T0 + 0.4)
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


# ---------------------------------------------------------------- reset pulse and start-up gate
def test_a_reset_pulse_shorter_than_the_minimum_is_no_reset() -> None:
    model = charging()
    model.set_estop(EstopReason.EMERGENCY_INPUT)  # safe state latched: only a reset clears it
    model.hold_reset(T0)
    assert not model.talking(T0)  # silent while the line is low
    assert model.release_reset(T0 + 0.0009) is ResetOutcome.SHORT_PULSE
    assert (model.resets, model.short_reset_pulses) == (0, 1)
    assert model.talking(T0 + 0.001)  # goes on at once: it never restarted
    assert model.safe_state_latched and model.initialised
    model.hold_reset(T0 + 1)
    assert model.release_reset(T0 + 1.001) is ResetOutcome.RESET  # 1 ms is enough
    assert (model.resets, model.short_reset_pulses) == (1, 1)
    assert not model.safe_state_latched and not model.initialised
    assert model.status(T0)["short_reset_pulses"] == 1


def test_reset_minimum_is_configurable_and_release_without_hold_is_nothing() -> None:
    model = McuModel()
    assert model.release_reset(T0) is ResetOutcome.NOT_HELD
    model.set_reset_min_pulse(0.0)
    model.hold_reset(T0)
    assert model.release_reset(T0) is ResetOutcome.RESET
    with pytest.raises(ScenarioError, match="out of range"):
        model.set_reset_min_pulse(2.0)


def test_frames_in_the_first_300_ms_after_release_are_ignored_and_counted() -> None:
    model = McuModel()
    model.hold_reset(T0)
    model.release_reset(T0 + 0.005)
    assert model.on_message(ChargeControl2(CcsReady.READY), T0 + 0.2) == []
    assert model.on_message(Inquiry(Com.FW_VERSION), T0 + 0.304) == []
    assert model.frames_before_ready == 2
    assert not model.initialised  # the early ChargeControl2 did not count
    assert not model.talking(T0 + 0.304)
    assert model.on_message(Inquiry(Com.FW_VERSION), T0 + 0.305) == [model.firmware]
    control(model, CcsReady.NOT_READY, T0 + 0.4)
    assert model.initialised
    assert model.status(T0 + 1)["frames_before_ready"] == 2


# ---------------------------------------------------------------- E-stop confirmation
def test_host_emergency_stop_confirmed_on_that_frame_by_default() -> None:
    model = charging()
    control(model, CcsReady.EMERGENCY_STOP)
    assert model.safe_state_latched and model.estop_confirmed
    cs = state(model)
    assert (cs.safe_state, cs.ce) == (SafeState.SAFE_STATE_ACTIVE, CeState.EC)
    assert not model.contactor_closed()


def test_host_emergency_stop_confirmed_after_the_configured_delay() -> None:
    model = charging()
    model.set_estop_confirmation(0.5)
    control(model, CcsReady.EMERGENCY_STOP, T0)
    control(model, CcsReady.EMERGENCY_STOP, T0 + 0.1)  # the request repeats every 100 ms
    cs = state(model, T0 + 0.4)
    # Not yet confirmed: no safe state and no early B0 that a host could take as evidence.
    assert (cs.safe_state, cs.ce) == (SafeState.NORMAL, CeState.C)
    assert model.status(T0 + 0.4)["estop_requested"] is True
    cs = state(model, T0 + 0.5)  # timed from the first EmergencyStop frame
    assert (cs.safe_state, cs.ce) == (SafeState.SAFE_STATE_ACTIVE, CeState.EC)
    assert model.estop_confirmed


def test_host_emergency_stop_never_confirmed() -> None:
    model = charging()
    model.set_estop_confirmation(None)
    for tick in range(30):
        control(model, CcsReady.EMERGENCY_STOP, T0 + tick / 10)
        cs = state(model, T0 + tick / 10)
        assert (cs.safe_state, cs.ce) == (SafeState.NORMAL, CeState.C)
    assert model.status(T0 + 3)["estop_confirm_delay_ms"] is None
    assert not model.estop_confirmed


def test_a_withdrawn_emergency_stop_request_is_not_confirmed_later() -> None:
    model = charging()
    model.set_estop_confirmation(0.5)
    control(model, CcsReady.EMERGENCY_STOP, T0)
    control(model, CcsReady.READY, T0 + 0.1)
    assert state(model, T0 + 1).safe_state is SafeState.NORMAL
    with pytest.raises(ScenarioError, match="out of range"):
        model.set_estop_confirmation(-1)


# ---------------------------------------------------------------- host watchdog (assumed)
def test_host_silence_is_a_com_timeout_and_latches_safe_state() -> None:
    """A crashed host stops ChargeControl2: the MCU stops charging by itself (ComTimeout)."""
    model = charging()
    model.check_host(T0 + 0.9)
    assert state(model).safe_state is SafeState.NORMAL
    model.check_host(T0 + 1.1)
    cs = state(model)
    assert cs.estop is EstopReason.COM_TIMEOUT and cs.safe_state is SafeState.SAFE_STATE_ACTIVE
    assert not model.contactor_closed()
    control(model, CcsReady.READY, T0 + 1.2)  # the host is back: reason clears, safe state stays
    cs = state(model)
    assert cs.estop is EstopReason.NO_STOP and cs.safe_state is SafeState.SAFE_STATE_ACTIVE


def test_host_timeout_is_configurable_and_only_charge_control_feeds_it() -> None:
    model = charging()
    model.set_host_timeout(3.0)
    model.on_message(Inquiry(Com.FW_VERSION), T0 + 2.5)  # an inquiry is no ChargeControl2
    model.check_host(T0 + 2.9)
    assert state(model).estop is EstopReason.NO_STOP
    model.check_host(T0 + 3.1)
    assert state(model).estop is EstopReason.COM_TIMEOUT
    with pytest.raises(ScenarioError, match="out of range"):
        model.set_host_timeout(0.01)


def test_undefined_charge_control_bits_are_counted() -> None:
    model = McuModel()
    model.on_message(ChargeControl2(CcsReady.READY, undefined_bits=1 << 40), T0)
    model.on_message(ChargeControl2(CcsReady.READY), T0)
    assert (model.control_frames, model.control_undefined_bits) == (2, 1)


# ---------------------------------------------------------------- temperatures, errors, misc
def test_over_temperature_stops_charging_on_that_channel() -> None:
    model = running()
    model.set_temperature(3, 84.9)
    assert state(model).estop is EstopReason.NO_STOP
    model.set_temperature(3, 85.0)
    cs, pt, *_ = model.periodic(T0)
    assert isinstance(cs, ChargeState2)
    assert isinstance(pt, Pt1000State)
    assert cs.estop is EstopReason.TEMP3_OVER_TEMPERATURE
    assert cs.safe_state is SafeState.SAFE_STATE_ACTIVE
    assert [c.charging_stopped for c in pt.channels] == [False, False, True, False]
    assert pt.channels[2].degC == 85.0


def test_unused_channel_and_selftest_failure() -> None:
    model = running()
    model.set_temperature(4, None)
    model.set_selftest_failed(2, True)
    cs, pt, *_ = model.periodic(T0)
    assert isinstance(cs, ChargeState2)
    assert isinstance(pt, Pt1000State)
    assert pt.channels[3].degC is None
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
    assert model.periodic(T0)[2:] == [ErrorMessage(True, ErrorModule.APP_HVSWITCH, 0x21, 1, 2)]
    assert model.periodic(T0)[2:] == []
    assert model.set_error(ErrorModule.APP_HVSWITCH, 0x21, False)
    (message,) = model.periodic(T0)[2:]
    assert isinstance(message, ErrorMessage)
    assert not message.active
    with pytest.raises(ScenarioError, match="module"):
        model.set_error(1 << 15, 0, True)


def test_firmware_can_be_changed() -> None:
    model = McuModel()
    model.set_firmware("1.12.0", 0xABCDEF, 0xBEEF)
    (fw,) = model.on_message(Inquiry(Com.FW_VERSION), T0)
    (gh,) = model.on_message(Inquiry(Com.GIT_HASH), T0)
    assert isinstance(fw, FwVersion)
    assert isinstance(gh, GitHash)
    assert (fw.version, fw.parameter_version, gh.text) == ("1.12.0", 0xBEEF, "g0000000000abcdef")
    for bad in ("1.2", "1.2.x", "1.2.300"):
        with pytest.raises(ScenarioError, match=r"MAJOR\.MINOR\.BUILD"):
            model.set_firmware(bad)
    with pytest.raises(ScenarioError, match="16 bits"):
        model.set_firmware(parameter_version=0x10000)


def test_host_must_not_send_mcu_messages() -> None:
    with pytest.raises(ScenarioError, match="ChargeState2"):
        McuModel().on_message(ChargeState2(), T0)


def test_every_frame_the_model_sends_parses_back() -> None:
    model = charging()
    model.set_temperature(1, 99.9)
    model.set_temperature(2, None)
    model.set_temperature(3, -40.0)
    model.set_error(ErrorModule.MW_PARAM, 7, True)
    for message in model.periodic(T0):
        assert parse(message.frame()) == message


def test_module_number() -> None:
    assert module_number("APP_HVSWITCH") == ErrorModule.APP_HVSWITCH == 7
    assert module_number("mw_param") == 13
    assert module_number("0x20") == 0x20
    assert module_number(9) == 9
    with pytest.raises(ScenarioError, match="unknown error module"):
        module_number("MW_NOPE")


def test_status_is_plain_data() -> None:
    model = running(CcsReady.READY)
    model.plug()
    status = model.status(T0)
    assert status["ce"] == "B"
    assert status["host_ccs_ready"] == "Ready"
    assert status["git_hash"] == "g5638a7e18ecce8f0"
    assert (status["host_timeout_ms"], status["estop_confirm_delay_ms"]) == (1000, 0)
