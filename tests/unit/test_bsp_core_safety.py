# SPDX-License-Identifier: Apache-2.0
"""Issue 9, "Power is withdrawn on every unsafe path": one test per case, on the core alone.

Each docstring says why the test fails on the core of commit b7fc2e9 (before issue 9).
"""

import dataclasses

import pytest
from bsp_core_kit import LOG, PLUGGED_C, SETTINGS, active, cs, make, powered

from ccy.bsp.contract import TemperatureStatus
from ccy.bsp.core import RESET_RETRY_INTERVAL_S, BspCore, CommandRefused, ResetMcu
from ccy.bsp.protocol.codes import CcsReady, CeState, ErrorModule, EstopReason, IdState, SafeState
from ccy.bsp.protocol.frame import Com, Frame
from ccy.bsp.protocol.messages import (
    ChargeState2,
    ErrorMessage,
    Message,
    Pt1000Channel,
    Pt1000State,
    decode,
)
from ccy.runtime.errors import ActiveError, ErrorRegistry

STOPPED = Pt1000Channel(86.0, charging_stopped=True)
SELFTEST = Pt1000Channel(25.0, selftest_failed=True)
FINE = Pt1000Channel(25.0)


# ------------------------------------------------------------------ PowerOnAllowed withdrawn


@pytest.mark.parametrize(
    "frame",
    [
        cs(CeState.C, IdState.CONNECTED, EstopReason.NO_STOP, SafeState.SAFE_STATE_ACTIVE),
        cs(CeState.C, IdState.CONNECTED, EstopReason.NO_STOP, SafeState.UNKNOWN),
    ],
    ids=["SafeStateActive-NoStop", "SafeState-unknown-code"],
)
def test_safe_state_withdraws_power_whatever_the_estop_reason(frame: ChargeState2) -> None:
    """b7fc2e9 withdrew only on an E-stop reason: SafeStateActive with NoStop left it on."""
    core, _ = powered()
    core.on_message(frame, 0.1)
    assert core.state.power_on_allowed is False
    with pytest.raises(CommandRefused) as refused:
        core.allow_power_on(True, 0.2)
    assert refused.value.kind == "NotPermitted" and "safe state" in str(refused.value)


@pytest.mark.parametrize(
    ("channel", "error"),
    [(STOPPED, "TemperatureStopped"), (SELFTEST, "TemperatureSelfTest")],
    ids=["charging-stopped", "self-test-failed"],
)
def test_pt1000_stop_or_self_test_failure_withdraws_power(
    channel: Pt1000Channel, error: str
) -> None:
    """b7fc2e9 raised the temperature error but left PowerOnAllowed true."""
    core, errors = powered()
    core.on_message(Pt1000State((FINE, channel, FINE, FINE)), 0.1)
    assert core.state.power_on_allowed is False
    assert (error, "dc_minus") in active(errors)
    with pytest.raises(CommandRefused, match="dc_minus"):
        core.allow_power_on(True, 0.2)


def test_hv_switch_error_message_withdraws_power_and_raises_hv_switch_fault() -> None:
    """b7fc2e9 raised only the McuWarning APP_HVSWITCH and left power allowed."""
    core, errors = powered()
    hv = ErrorModule.APP_HVSWITCH
    core.on_message(ErrorMessage(active=True, module=hv, reason=0x21), 0.1)
    assert core.state.power_on_allowed is False
    assert active(errors) == {("HvSwitchFault", "")}
    with pytest.raises(CommandRefused):
        core.allow_power_on(True, 0.2)
    core.on_message(ErrorMessage(active=False, module=hv, reason=0x21), 0.3)
    assert active(errors) == set()
    core.allow_power_on(True, 0.4)
    assert core.state.power_on_allowed is True


@pytest.mark.parametrize(
    "unplugged",
    [
        cs(CeState.A, IdState.CONNECTED),
        cs(CeState.C, IdState.NOT_CONNECTED),
        cs(CeState.A, IdState.NOT_CONNECTED),
    ],
    ids=["CE-A", "ID-NotConnected", "both"],
)
def test_unplug_withdraws_power(unplugged: ChargeState2) -> None:
    """The reproduction of issue 9: plug, CE C, power-on, unplug left PowerOnAllowed true."""
    core, _ = make()
    core.on_message(cs(CeState.B0, IdState.CONNECTED), 0.0)  # plug
    core.on_message(PLUGGED_C, 0.1)  # CE C
    core.enable(True, 0.1)
    core.allow_power_on(True, 0.2)  # power-on
    core.on_message(unplugged, 0.3)  # unplug
    assert core.state.power_on_allowed is False


@pytest.mark.parametrize("ce", [CeState.B, CeState.B0, CeState.E, CeState.EC, CeState.INVALID])
def test_leaving_ce_c_withdraws_power(ce: CeState) -> None:
    """The MCU bridges HV-ready only in CE C; a request must not outlive C (b7fc2e9 kept it,
    so a return to C re-closed the contactor without anyone asking)."""
    core, _ = powered()
    core.on_message(cs(ce, IdState.CONNECTED), 0.1)
    assert core.state.power_on_allowed is False


def test_link_loss_by_silence_withdraws_power() -> None:
    """Kept from b7fc2e9 (which passed this), now driven by the core's own watchdog."""
    core, _ = powered()
    core.tick(1.4)
    assert core.state.power_on_allowed is True
    core.tick(1.5)
    assert core.state.power_on_allowed is False


def test_uart_lost_withdraws_power_at_once() -> None:
    """b7fc2e9 waited for the 1.5 s watchdog after the device failed."""
    core, errors = powered()
    core.on_uart_lost(0.1, "UART hung up")
    assert core.state.power_on_allowed is False and core.state.link_up is False
    assert active(errors) == {("LinkLost", "")}


def test_disable_withdraws_power() -> None:
    """Kept from b7fc2e9 (which passed this)."""
    core, _ = powered()
    core.enable(False, 0.1)
    assert core.state.power_on_allowed is False


@pytest.mark.parametrize("link_up", [True, False], ids=["link-up", "link-down"])
def test_emergency_stop_request_is_always_accepted_and_withdraws_power(link_up: bool) -> None:
    """b7fc2e9 refused SetCcsReady(EmergencyStop) with NotReady while the link was down."""
    core, _ = powered()
    if not link_up:
        core.tick(1.5)  # silence: link lost
        assert core.state.link_up is False
    core.set_ccs_ready("EmergencyStop", 1.6)
    assert core.state.ccs_ready is CcsReady.EMERGENCY_STOP
    assert core.charge_control().ccs_ready is CcsReady.EMERGENCY_STOP
    assert core.state.power_on_allowed is False


def test_reported_emergency_stop_withdraws_power() -> None:
    core, _ = powered()
    core.on_message(cs(CeState.C, IdState.CONNECTED, EstopReason.COM_TIMEOUT), 0.1)
    assert core.state.power_on_allowed is False


@pytest.mark.parametrize(
    ("old", "new"),
    [(":1.7", ""), (":1.7", ":1.9"), ("", ":1.9")],
    ids=["vanished", "replaced", "appeared"],
)
def test_power_owner_change_withdraws_power_and_hlc_enable(old: str, new: str) -> None:
    """b7fc2e9 did not watch org.ccy.Evse at all: a dead ccy-evse left power allowed."""
    core, _ = powered()
    core.set_ccs_ready("Ready", 0.0)
    core.on_power_owner_changed(0.1, old, new)
    assert core.state.power_on_allowed is False
    assert core.state.ccs_ready is CcsReady.NOT_READY


def test_power_owner_unchanged_keeps_power() -> None:
    core, _ = powered()
    core.on_power_owner_changed(0.1, ":1.7", ":1.7")
    assert core.state.power_on_allowed is True


# ------------------------------------------------------------------ AllowPowerOn(true) refused


def _refusal(core: BspCore) -> CommandRefused:
    with pytest.raises(CommandRefused) as refused:
        core.allow_power_on(True, 0.5)
    assert core.state.power_on_allowed is False
    return refused.value


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        (cs(CeState.A, IdState.NOT_CONNECTED), "no vehicle"),
        (cs(CeState.C, IdState.NOT_CONNECTED), "no vehicle"),
        (cs(CeState.B, IdState.CONNECTED), "CE is B"),
        (cs(CeState.B0, IdState.CONNECTED), "CE is B0"),
        (cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE), "safe state"),
        (cs(CeState.C, IdState.CONNECTED, EstopReason.EMERGENCY_INPUT), "EmergencyInput"),
    ],
)
def test_allow_power_on_refused_unless_vehicle_connected_in_c_and_no_stop(
    frame: ChargeState2, text: str
) -> None:
    """b7fc2e9 allowed power in CE A with no vehicle connected."""
    core, _ = make()
    core.on_message(frame, 0.0)
    core.enable(True, 0.0)
    refused = _refusal(core)
    assert refused.kind == "NotPermitted" and text in str(refused)


def test_allow_power_on_refused_while_link_down_disabled_or_estop_requested() -> None:
    core, _ = make()
    assert _refusal(core).kind == "NotReady"
    core.on_message(PLUGGED_C, 0.0)
    assert "disabled" in str(_refusal(core))
    core.enable(True, 0.0)
    core.set_ccs_ready("EmergencyStop", 0.0)
    assert "emergency stop is requested" in str(_refusal(core))


def test_allow_power_on_refused_while_an_error_that_stops_power_is_active() -> None:
    """Everything else allows power; only ResetFailed (stops_power in the catalogue) is left."""
    core, errors = powered()
    assert core.request_reset(0.1, "operator") == [ResetMcu("operator")]
    core.on_reset_failed(0.2, "gpio line busy")
    core.on_message(PLUGGED_C, 0.3)  # the MCU was never reset: it still talks
    assert active(errors) == {("ResetFailed", "")}
    refused = _refusal(core)
    assert refused.kind == "NotPermitted" and "ResetFailed" in str(refused)


# ------------------------------------------------------------------ withdraw before notifying


class Boom(RuntimeError):
    pass


def _raising_registry(seen: list[tuple[str, bool]], core_ref: list[BspCore]) -> ErrorRegistry:
    registry = ErrorRegistry(LOG)

    def on_raised(err: ActiveError) -> None:
        seen.append((err.type, core_ref[0].state.power_on_allowed))
        raise Boom(f"listener failed on {err.type}")

    registry.on_raised.append(on_raised)
    return registry


HV_ON = ErrorMessage(active=True, module=ErrorModule.APP_HVSWITCH, reason=1)
SCENARIOS: dict[str, list[tuple[float, Message | None]]] = {
    "link-lost": [(1.6, None)],
    "estop-input": [(0.1, cs(CeState.C, IdState.CONNECTED, EstopReason.EMERGENCY_INPUT))],
    "vendor-stop": [(0.1, cs(CeState.C, IdState.CONNECTED, EstopReason.INTERNAL_ERROR))],
    "hv-switch": [(0.1, HV_ON)],
    "pt1000-stop": [(0.1, Pt1000State((STOPPED, FINE, FINE, FINE)))],
    "pt1000-selftest": [(0.1, Pt1000State((SELFTEST, FINE, FINE, FINE)))],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_power_is_withdrawn_before_any_error_listener_runs(scenario: str) -> None:
    """An error listener that raises must find power already withdrawn, and its exception
    must not stop the core. b7fc2e9 raised LinkLost before withdrawing, and neither the
    temperature errors nor the HV-switch warning withdrew at all."""
    seen: list[tuple[str, bool]] = []
    ref: list[BspCore] = []
    registry = _raising_registry(seen, ref)
    core = BspCore(SETTINGS, registry, LOG, 0.0)
    ref.append(core)
    core.on_message(PLUGGED_C, 0.0)
    core.enable(True, 0.0)
    core.allow_power_on(True, 0.0)
    for now, message in SCENARIOS[scenario]:
        if message is None:
            core.tick(now)
        else:
            core.on_message(message, now)
    assert seen, "an error was raised"
    assert all(allowed is False for _, allowed in seen), seen
    assert core.state.power_on_allowed is False


def test_estop_not_confirmed_is_raised_after_withdrawal_even_if_a_listener_fails() -> None:
    seen: list[tuple[str, bool]] = []
    ref: list[BspCore] = []
    core = BspCore(SETTINGS, _raising_registry(seen, ref), LOG, 0.0)
    ref.append(core)
    core.on_message(PLUGGED_C, 0.0)
    core.set_ccs_ready("EmergencyStop", 0.0)
    core.on_message(PLUGGED_C, 0.5)
    core.tick(1.0)
    assert seen == [("EmergencyStopNotConfirmed", False)]


# ------------------------------------------------------------------ CcsReady and the link


def test_link_loss_resets_ready_so_a_stale_ready_is_never_resent() -> None:
    """b7fc2e9 kept CcsReady=Ready through a link loss and sent it again on return."""
    core, _ = make()
    core.on_message(PLUGGED_C, 0.0)
    core.enable(True, 0.0)
    core.set_ccs_ready("Ready", 0.0)
    core.tick(1.5)
    assert core.charge_control().ccs_ready is CcsReady.NOT_READY
    core.on_message(PLUGGED_C, 2.0)
    assert core.charge_control().ccs_ready is CcsReady.NOT_READY


def test_link_loss_keeps_a_requested_emergency_stop() -> None:
    """Documented choice: the E-stop request stands (the safe side) until the MCU reset."""
    core, _ = make()
    core.on_message(PLUGGED_C, 0.0)
    core.set_ccs_ready("EmergencyStop", 0.0)
    core.tick(1.5)
    assert core.charge_control().ccs_ready is CcsReady.EMERGENCY_STOP
    with pytest.raises(CommandRefused) as refused:
        core.set_ccs_ready("Ready", 2.0)
    assert refused.value.kind == "NotPermitted"


# ------------------------------------------------------------------ decode: stop, not drop


def _frame_to_core(core: BspCore, frame: Frame, now: float) -> None:
    core.on_message(decode(frame), now)


def test_unknown_estop_reason_code_is_a_stop() -> None:
    """b7fc2e9 dropped the frame (UnknownCode): power stayed allowed until the watchdog."""
    core, errors = powered()
    _frame_to_core(core, Frame(Com.CHARGE_STATE2, 0x42 << 56 | 0x3C << 48), 0.1)
    assert core.state.estop is EstopReason.UNKNOWN
    assert core.state.power_on_allowed is False
    assert active(errors) == {("VendorError", "Unknown")}


def test_unknown_safe_state_code_is_a_stop() -> None:
    """b7fc2e9 dropped the frame (UnknownCode): power stayed allowed until the watchdog."""
    core, _ = powered()
    _frame_to_core(core, Frame(Com.CHARGE_STATE2, 0x42 << 56 | 2 << 46), 0.1)
    assert core.state.safe_state is SafeState.UNKNOWN
    assert core.state.power_on_allowed is False


def test_implausible_pt1000_channel_spoils_only_that_channel() -> None:
    """b7fc2e9 rejected the whole PT1000State (ImplausibleTemperature): no channel updated."""
    core, _ = make()
    core.on_message(cs(), 0.0)
    too_cold = (-3000 & 0x3FFF) << 2
    _frame_to_core(core, Frame(Com.PT1000_STATE, (725 << 2) << 48 | too_cold << 32), 0.1)
    core.on_message(cs(), 0.9)
    core.tick(1.0)
    dc_plus, dc_minus, *_ = core.state.temperatures
    assert (dc_plus.degC, dc_plus.status) == (72.5, TemperatureStatus.WARNING)
    assert (dc_minus.degC, dc_minus.status) == (None, TemperatureStatus.IMPLAUSIBLE)


# ------------------------------------------------------------------ E-stop confirmation


@pytest.mark.parametrize("ce", [CeState.B0, CeState.EC])
def test_estop_is_not_confirmed_by_a_ce_state_that_was_already_there(ce: CeState) -> None:
    """b7fc2e9 took a B0 (or EC) that predated the request as the confirmation."""
    core, errors = make()
    core.on_message(cs(ce, IdState.CONNECTED), 0.0)
    core.set_ccs_ready("EmergencyStop", 0.1)
    core.on_message(cs(ce, IdState.CONNECTED), 0.2)
    core.tick(1.0)
    assert active(errors) == set()
    core.on_message(cs(ce, IdState.CONNECTED), 1.05)
    core.tick(1.1)
    assert active(errors) == {("EmergencyStopNotConfirmed", "")}


@pytest.mark.parametrize(
    "evidence",
    [
        cs(CeState.B0, IdState.CONNECTED),
        cs(CeState.EC, IdState.CONNECTED),
        cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE),
    ],
    ids=["into-B0", "into-EC", "SafeStateActive"],
)
def test_estop_is_confirmed_by_evidence_after_the_request(evidence: ChargeState2) -> None:
    core, errors = make()
    core.on_message(PLUGGED_C, 0.0)
    core.set_ccs_ready("EmergencyStop", 0.1)
    core.on_message(evidence, 0.3)
    core.tick(1.2)
    assert active(errors) == set()


def test_late_evidence_clears_emergency_stop_not_confirmed() -> None:
    core, errors = make()
    core.on_message(PLUGGED_C, 0.0)
    core.set_ccs_ready("EmergencyStop", 0.0)
    core.on_message(PLUGGED_C, 0.9)
    core.tick(1.0)
    assert active(errors) == {("EmergencyStopNotConfirmed", "")}
    core.on_message(cs(CeState.EC, IdState.CONNECTED), 1.1)
    assert active(errors) == set()


# ------------------------------------------------------------------ reset, link, temperatures


def test_failed_reset_is_a_named_error_and_is_retried() -> None:
    """b7fc2e9 let a RuntimeError escape the reset task and never tried again."""
    core, errors = make()
    core.on_message(cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE), 0.0)
    assert core.on_message(cs(CeState.A, safe=SafeState.SAFE_STATE_ACTIVE), 0.1) == [
        ResetMcu("CE returned to A")
    ]
    core.on_reset_failed(0.2, "gpio line busy")
    assert ("ResetFailed", "") in active(errors)
    assert core.tick(0.2 + RESET_RETRY_INTERVAL_S - 0.01) == []
    assert core.tick(0.2 + RESET_RETRY_INTERVAL_S) == [ResetMcu("retry: CE returned to A")]
    assert core.tick(0.3 + RESET_RETRY_INTERVAL_S) == []  # one at a time
    core.on_reset_done(0.5 + RESET_RETRY_INTERVAL_S)
    assert ("ResetFailed", "") not in active(errors)


def test_operator_reset_refused_without_a_reset_line_or_while_one_runs() -> None:
    core, _ = make(dataclasses.replace(SETTINGS, reset_line_driver="none"))
    with pytest.raises(CommandRefused) as refused:
        core.request_reset(0.0, "operator")
    assert refused.value.kind == "NotSupported"
    core, _ = make()
    assert core.request_reset(0.0, "operator") == [ResetMcu("operator")]
    with pytest.raises(CommandRefused) as busy:
        core.request_reset(0.1, "operator")
    assert busy.value.kind == "NotReady"


def test_link_lost_is_raised_when_the_mcu_never_answered() -> None:
    """b7fc2e9 raised LinkLost only on the way down from link up: a silent MCU at start left
    no error at all."""
    core, errors = make(now=10.0)
    core.tick(11.4)
    assert active(errors) == set()
    core.tick(11.5)
    assert active(errors) == {("LinkLost", "")}
    assert "since start" in errors.active()[0].message


def test_only_charge_state2_keeps_the_link_alive() -> None:
    """b7fc2e9's link refreshed its watchdog on every decoded frame."""
    core, errors = powered()
    for step in range(1, 20):
        now = step * 0.1
        core.on_message(Pt1000State((FINE, FINE, FINE, FINE)), now)
        core.on_message(ErrorMessage(active=False, module=1, reason=0), now)
        core.tick(now)
    assert core.state.link_up is False
    assert ("LinkLost", "") in active(errors)
    assert core.state.power_on_allowed is False


def test_stale_temperatures_are_cleared_on_link_loss() -> None:
    """b7fc2e9 kept publishing the last readings after the link was lost."""
    core, errors = make()
    core.on_message(cs(), 0.0)
    core.on_message(Pt1000State((Pt1000Channel(72.0), FINE, FINE, FINE)), 0.0)
    core.on_message(cs(), 1.0)
    core.tick(1.0)
    assert core.state.temperatures[0].degC == 72.0
    core.tick(2.5)  # 1.5 s without ChargeState2
    assert all(
        (t.degC, t.status) == (None, TemperatureStatus.UNUSED) for t in core.state.temperatures
    )
    assert ("TemperatureWarning", "dc_plus") not in active(errors)


def test_healthy_reports_the_power_invariant() -> None:
    core, _ = powered()
    assert core.healthy()
    core.state.enabled = False  # as if a bug had bypassed the core's checks
    assert not core.healthy()
