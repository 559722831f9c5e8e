# SPDX-License-Identifier: Apache-2.0
"""The ccy-bsp core without bus or UART: messages in, state/errors/effects out.

Each test names the rule of safety-link.md ("Host behaviour") it checks. The issue-9 safety
cases are in test_bsp_core_safety.py, link and inquiry timing in test_bsp_core_link.py.
"""

import pytest
from bsp_core_kit import PLUGGED_C, active, cs, make, powered

from ccy.bsp.contract import CpState, TemperatureStatus
from ccy.bsp.core import CommandRefused, ResetMcu, cp_from_ce
from ccy.bsp.protocol.codes import CcsReady, CeState, EstopReason, IdState, SafeState
from ccy.bsp.protocol.messages import (
    ErrorMessage,
    FwVersion,
    GitHash,
    Pt1000Channel,
    Pt1000State,
)
from ccy.bsp.state import TemperatureReading

C = CpState


@pytest.mark.parametrize(
    ("ce", "previous", "expected"),
    [
        (CeState.A, C.B, C.A),
        (CeState.B, C.A, C.B),
        (CeState.C, C.B, C.C),
        (CeState.E, C.C, C.E),
        (CeState.EC, C.C, C.F),
        (CeState.INVALID, C.B, C.FAULT),
        (CeState.B0, C.A, C.A),
        (CeState.B0, C.C, C.B),
        (CeState.B0, C.F, C.B),
        (CeState.B0, C.B, C.B),
    ],
)
def test_ce_to_charging_state_mapping(ce: CeState, previous: CpState, expected: CpState) -> None:
    assert cp_from_ce(ce, previous) is expected


def test_first_frame_brings_link_up_and_sets_ce_and_id() -> None:
    core, _ = make()
    core.on_message(cs(), 0.0)
    s = core.state
    assert s.link_up is True
    assert (s.ce, s.cp, s.id) == (CeState.A, CpState.A, IdState.NOT_CONNECTED)


def test_plug_in_sequence_b0_then_b_after_hlc_enable() -> None:
    core, _ = make()
    core.on_message(cs(), 0.0)
    core.enable(True, 0.0)
    core.on_message(cs(CeState.B0, IdState.CONNECTED), 0.1)
    assert core.state.id is IdState.CONNECTED and core.state.cp is CpState.A
    core.set_ccs_ready("Ready", 0.2)
    assert core.charge_control().ccs_ready is CcsReady.READY
    core.on_message(cs(CeState.B, IdState.CONNECTED), 0.3)
    assert core.state.cp is CpState.B


def test_hlc_enable_refused_when_disabled_or_link_down_or_bad_value() -> None:
    core, _ = make()
    with pytest.raises(CommandRefused) as down:
        core.set_ccs_ready("Ready", 0.0)
    assert down.value.kind == "NotReady"
    core.on_message(cs(), 0.0)
    with pytest.raises(CommandRefused) as disabled:
        core.set_ccs_ready("Ready", 0.0)
    assert disabled.value.kind == "NotPermitted" and "disabled" in str(disabled.value)
    with pytest.raises(CommandRefused) as bad:
        core.set_ccs_ready("Maybe", 0.0)
    assert bad.value.kind == "InvalidArgument" and "NotReady, Ready, EmergencyStop" in str(
        bad.value
    )


def test_emergency_input_raises_estop_error_and_withdraws_power_on() -> None:
    core, errors = powered()
    core.on_message(
        cs(CeState.C, IdState.CONNECTED, EstopReason.EMERGENCY_INPUT, SafeState.SAFE_STATE_ACTIVE),
        0.1,
    )
    assert core.state.estop is EstopReason.EMERGENCY_INPUT
    assert core.state.power_on_allowed is False
    assert active(errors) == {("EmergencyStop", "EmergencyInput")}
    with pytest.raises(CommandRefused, match="safe state"):
        core.allow_power_on(True, 0.1)
    core.on_message(cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE), 0.2)
    assert active(errors) == set()


def test_other_estop_reasons_are_vendor_errors_named_after_the_reason() -> None:
    core, errors = make()
    core.on_message(cs(estop=EstopReason.COM_TIMEOUT), 0.0)
    assert active(errors) == {("VendorError", "ComTimeout")}
    core.on_message(cs(estop=EstopReason.TEMP2_OVER_TEMPERATURE), 0.1)
    assert active(errors) == {("VendorError", "Temp2OverTemperature")}


def test_estop_request_must_be_confirmed_within_the_timeout() -> None:
    core, errors = make()
    core.on_message(PLUGGED_C, 0.0)
    core.set_ccs_ready("EmergencyStop", now=1.0)
    core.on_message(PLUGGED_C, 1.1)
    core.tick(1.9)
    assert active(errors) == set()
    core.tick(2.0)
    assert active(errors) == {("EmergencyStopNotConfirmed", "")}


def test_estop_request_confirmed_by_safe_state() -> None:
    core, errors = make()
    core.on_message(PLUGGED_C, 0.0)
    core.set_ccs_ready("EmergencyStop", now=1.0)
    core.on_message(cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE), 1.2)
    core.tick(2.5)
    assert active(errors) == set()


def test_recovery_from_safe_state_resets_when_ce_returns_to_a() -> None:
    core, _ = make()
    safe = SafeState.SAFE_STATE_ACTIVE
    core.on_message(cs(CeState.C, IdState.CONNECTED, safe=safe), 0.0)
    core.set_ccs_ready("EmergencyStop", 0.0)
    assert core.on_message(cs(CeState.B0, IdState.CONNECTED, safe=safe), 0.1) == []
    first = core.on_message(cs(CeState.A, IdState.CONNECTED, safe=safe), 0.2)
    again = core.on_message(cs(CeState.A, IdState.NOT_CONNECTED, safe=safe), 0.3)
    assert (first, again) == ([ResetMcu("CE returned to A")], [])  # once, until it is done
    assert core.charge_control().ccs_ready is CcsReady.NOT_READY


def test_recovery_when_id_changes_while_ce_invalid() -> None:
    core, _ = make()
    safe = SafeState.SAFE_STATE_ACTIVE
    effects = core.on_message(cs(CeState.INVALID, IdState.CONNECTED, safe=safe), 0.0)
    effects += core.on_message(cs(CeState.INVALID, IdState.NOT_CONNECTED, safe=safe), 0.1)
    resets = [e for e in effects if isinstance(e, ResetMcu)]
    assert resets == [ResetMcu("ID changed while CE is Invalid")]


def test_link_loss_makes_everything_unknown_and_raises_link_lost() -> None:
    core, errors = powered()
    core.tick(1.5)
    s = core.state
    assert s.link_up is False and s.power_on_allowed is False
    assert (s.ce, s.id, s.safe_state) == (CeState.UNKNOWN, IdState.UNKNOWN, SafeState.NOT_AVAILABLE)
    assert active(errors) == {("LinkLost", "")}
    core.on_message(cs(), 2.0)
    assert active(errors) == set()


def pt(t1: float | None, *, stopped: bool = False) -> Pt1000State:
    ch = Pt1000Channel
    return Pt1000State(channels=(ch(t1, stopped), ch(25.0), ch(None), ch(None)))


def test_temperatures_warning_with_hysteresis_and_derating() -> None:
    core, errors = make()
    core.on_message(pt(70.0), 0.0)
    assert active(errors) == {("TemperatureWarning", "dc_plus")}
    core.on_message(pt(69.5), 0.1)
    assert ("TemperatureWarning", "dc_plus") in active(errors)  # within the hysteresis
    core.on_message(pt(68.9), 0.2)
    assert active(errors) == set()
    core.on_message(pt(80.0), 0.3)
    assert core.state.derating_factor == 0.5
    core.on_message(pt(86.0, stopped=True), 0.4)
    assert ("TemperatureStopped", "dc_plus") in active(errors)
    assert core.state.derating_factor == 0.0


def test_temperatures_are_published_once_per_period() -> None:
    core, _ = make()
    unused = TemperatureStatus.UNUSED
    assert core.state.temperatures[0] == TemperatureReading("dc_plus", None, unused)
    for t in (0.0, 0.5, 1.0, 1.5):
        core.on_message(cs(), t)  # keeps the link up
    core.on_message(pt(80.0), 0.1)
    core.tick(0.9)
    assert core.state.temperatures[0].status is unused  # not yet: once per period
    core.tick(1.0)
    assert core.state.temperatures == (
        TemperatureReading("dc_plus", 80.0, TemperatureStatus.DERATING),
        TemperatureReading("dc_minus", 25.0, TemperatureStatus.OK),
        TemperatureReading("aux1", None, unused),
        TemperatureReading("aux2", None, unused),
    )
    core.on_message(pt(71.0), 1.1)
    core.tick(1.9)
    assert core.state.temperatures[0].degC == 80.0
    core.tick(2.0)
    assert core.state.temperatures[0] == TemperatureReading(
        "dc_plus", 71.0, TemperatureStatus.WARNING
    )


def test_firmware_line_like_the_seed() -> None:
    core, _ = make()
    core.on_message(FwVersion(0, 2, 3), 0.0)
    core.on_message(GitHash(0x5638A7E18ECCE8F0), 0.0)
    assert core.firmware_line() == (
        "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)"
    )


def test_mcu_error_messages_are_warnings_named_after_the_module() -> None:
    core, errors = make()
    em = ErrorMessage(active=True, module=0x0006, reason=0x12)
    core.on_message(em, 0.0)
    ((type_, sub),) = active(errors)
    assert type_ == "McuWarning" and sub == em.module_name
    core.on_message(ErrorMessage(active=False, module=0x0006, reason=0x12), 0.1)
    assert active(errors) == set()


def test_disable_withdraws_hlc_and_power_on() -> None:
    core, _ = make()
    core.on_message(PLUGGED_C, 0.0)
    core.enable(True, 0.0)
    core.set_ccs_ready("Ready", 0.0)
    core.allow_power_on(True, 0.0)
    core.enable(False, 0.0)
    assert core.state.ccs_ready is CcsReady.NOT_READY and core.state.power_on_allowed is False
