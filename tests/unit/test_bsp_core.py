# SPDX-License-Identifier: Apache-2.0
"""The ccy-bsp core without bus or UART: messages in, properties/signals/errors out.

Each test names the rule of safety-link.md ("Host behaviour") it checks.
"""

import logging
import math
from pathlib import Path

import pytest

from ccy.bsp.core import BspCore, CommandRefused, cp_from_ce
from ccy.bsp.protocol.codes import CcsReady, CeState, EstopReason, IdState, SafeState
from ccy.bsp.protocol.messages import (
    ChargeState2,
    ErrorMessage,
    FwVersion,
    GitHash,
    Pt1000Channel,
    Pt1000State,
)
from ccy.bsp.settings import BspSettings
from ccy.runtime.errors import ErrorRegistry

SETTINGS = BspSettings(
    serial_port=Path("/dev/ttyLP2"),
    serial_baud_Bd=115200,
    reset_line_driver="file",
    reset_line_chip=Path("/dev/gpiochip0"),
    reset_line_name="nSAFETY_RESET_INT",
    reset_line_file=Path("/run/reset"),
    reset_pulse_s=0.005,
    startup_wait_s=0.3,
    link_timeout_s=1.5,
    charge_control_period_s=0.1,
    estop_confirm_timeout_s=1.0,
    temperature_publish_period_s=1.0,
    temperature_warning_degC=70.0,
    temperature_derating_start_degC=75.0,
    temperature_derating_end_degC=85.0,
    temperature_channel_names=("dc_plus", "dc_minus", "aux1", "aux2"),
    led_status_path=None,
    led_charging_path=None,
    led_error_path=None,
    firmware_inquiry_retries=3,
    firmware_inquiry_timeout_s=0.5,
)


class Recorder:
    def __init__(self) -> None:
        self.props: dict[str, object] = {}
        self.signals: list[tuple[str, str, str]] = []
        self.resets: list[str] = []

    def changed(self, prop: str, value: object) -> None:
        self.props[prop] = value

    def ce_changed(self, old: str, new: str) -> None:
        self.signals.append(("CeChanged", old, new))

    def id_changed(self, old: str, new: str) -> None:
        self.signals.append(("IdChanged", old, new))

    def request_reset(self, reason: str) -> None:
        self.resets.append(reason)


def make() -> tuple[BspCore, Recorder, ErrorRegistry]:
    rec = Recorder()
    errors = ErrorRegistry(logging.getLogger("test"))
    return BspCore(SETTINGS, errors, rec, logging.getLogger("test")), rec, errors


def cs(
    ce: CeState = CeState.A,
    id_: IdState = IdState.NOT_CONNECTED,
    estop: EstopReason = EstopReason.NO_STOP,
    safe: SafeState = SafeState.NORMAL,
) -> ChargeState2:
    return ChargeState2(ce=ce, id=id_, estop=estop, safe_state=safe)


def active(errors: ErrorRegistry) -> set[tuple[str, str]]:
    return {(e.type, e.subtype) for e in errors.active()}


@pytest.mark.parametrize(
    ("ce", "previous", "expected"),
    [
        (CeState.A, "B", "A"),
        (CeState.B, "A", "B"),
        (CeState.C, "B", "C"),
        (CeState.E, "C", "E"),
        (CeState.EC, "C", "F"),
        (CeState.INVALID, "B", "Fault"),
        (CeState.B0, "A", "A"),
        (CeState.B0, "C", "B"),
        (CeState.B0, "F", "B"),
        (CeState.B0, "B", "B"),
    ],
)
def test_ce_to_charging_state_mapping(ce: CeState, previous: str, expected: str) -> None:
    assert cp_from_ce(ce, previous) == expected


def test_first_frame_brings_link_up_and_announces_transitions() -> None:
    core, rec, _ = make()
    core.on_charge_state(cs(), now=0.0)
    assert rec.props["LinkUp"] is True
    assert rec.props["CeState"] == "A" and rec.props["CpState"] == "A"
    assert rec.signals == [("IdChanged", "Unknown", "NotConnected"), ("CeChanged", "Unknown", "A")]
    core.on_charge_state(cs(), now=0.1)
    assert len(rec.signals) == 2  # no change, no signal


def test_plug_in_sequence_b0_then_b_after_hlc_enable() -> None:
    core, rec, _ = make()
    core.on_charge_state(cs(), 0.0)
    core.enable(True)
    core.on_charge_state(cs(CeState.B0, IdState.CONNECTED), 0.1)
    assert rec.props["IdState"] == "Connected" and rec.props["CpState"] == "A"
    core.set_ccs_ready("Ready", 0.2)
    assert core.charge_control().ccs_ready is CcsReady.READY
    core.on_charge_state(cs(CeState.B, IdState.CONNECTED), 0.3)
    assert rec.props["CpState"] == "B"


def test_hlc_enable_refused_when_disabled_or_link_down_or_bad_value() -> None:
    core, _, _ = make()
    with pytest.raises(CommandRefused) as down:
        core.set_ccs_ready("Ready", 0.0)
    assert down.value.kind == "NotReady"
    core.on_charge_state(cs(), 0.0)
    with pytest.raises(CommandRefused) as disabled:
        core.set_ccs_ready("Ready", 0.0)
    assert disabled.value.kind == "NotPermitted" and "disabled" in str(disabled.value)
    with pytest.raises(CommandRefused) as bad:
        core.set_ccs_ready("Maybe", 0.0)
    assert bad.value.kind == "InvalidArgument" and "NotReady, Ready, EmergencyStop" in str(
        bad.value
    )


def test_emergency_input_raises_estop_error_and_withdraws_power_on() -> None:
    core, rec, errors = make()
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED), 0.0)
    core.enable(True)
    core.allow_power_on(True)
    core.on_charge_state(
        cs(CeState.C, IdState.CONNECTED, EstopReason.EMERGENCY_INPUT, SafeState.SAFE_STATE_ACTIVE),
        0.1,
    )
    assert rec.props["EmergencyStop"] == "EmergencyInput"
    assert rec.props["PowerOnAllowed"] is False
    assert active(errors) == {("EmergencyStop", "EmergencyInput")}
    with pytest.raises(CommandRefused, match="safe state"):
        core.allow_power_on(True)
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE), 0.2)
    assert active(errors) == set()


def test_other_estop_reasons_are_vendor_errors_named_after_the_reason() -> None:
    core, _, errors = make()
    core.on_charge_state(cs(estop=EstopReason.COM_TIMEOUT), 0.0)
    assert active(errors) == {("VendorError", "ComTimeout")}
    core.on_charge_state(cs(estop=EstopReason.TEMP2_OVER_TEMPERATURE), 0.1)
    assert active(errors) == {("VendorError", "Temp2OverTemperature")}


def test_estop_request_must_be_confirmed_within_the_timeout() -> None:
    core, _, errors = make()
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED), 0.0)
    core.set_ccs_ready("EmergencyStop", now=1.0)
    core.tick(1.9)
    assert active(errors) == set()
    core.tick(2.0)
    assert active(errors) == {("EmergencyStopNotConfirmed", "")}


def test_estop_request_confirmed_by_safe_state() -> None:
    core, _, errors = make()
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED), 0.0)
    core.set_ccs_ready("EmergencyStop", now=1.0)
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED, safe=SafeState.SAFE_STATE_ACTIVE), 1.2)
    core.tick(5.0)
    assert active(errors) == set()


def test_recovery_from_safe_state_resets_when_ce_returns_to_a() -> None:
    core, rec, _ = make()
    safe = SafeState.SAFE_STATE_ACTIVE
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED, safe=safe), 0.0)
    core.set_ccs_ready("EmergencyStop", 0.0)
    core.on_charge_state(cs(CeState.B0, IdState.CONNECTED, safe=safe), 0.1)
    assert rec.resets == []
    core.on_charge_state(cs(CeState.A, IdState.CONNECTED, safe=safe), 0.2)
    core.on_charge_state(cs(CeState.A, IdState.NOT_CONNECTED, safe=safe), 0.3)
    assert rec.resets == ["CE returned to A"]  # once, until the reset is done
    assert core.charge_control().ccs_ready is CcsReady.NOT_READY


def test_recovery_when_id_changes_while_ce_invalid() -> None:
    core, rec, _ = make()
    safe = SafeState.SAFE_STATE_ACTIVE
    core.on_charge_state(cs(CeState.INVALID, IdState.CONNECTED, safe=safe), 0.0)
    core.on_charge_state(cs(CeState.INVALID, IdState.NOT_CONNECTED, safe=safe), 0.1)
    assert rec.resets == ["ID changed while CE is Invalid"]


def test_link_loss_makes_everything_unknown_and_raises_link_lost() -> None:
    core, rec, errors = make()
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED), 0.0)
    core.enable(True)
    core.allow_power_on(True)
    core.on_link_lost(1.5)
    assert rec.props["LinkUp"] is False and rec.props["PowerOnAllowed"] is False
    assert (rec.props["CeState"], rec.props["IdState"], rec.props["SafeState"]) == (
        "Unknown",
        "Unknown",
        "NotAvailable",
    )
    assert active(errors) == {("LinkLost", "")}
    core.on_charge_state(cs(), 2.0)
    assert active(errors) == set()


def test_temperatures_status_warning_with_hysteresis_and_derating() -> None:
    core, rec, errors = make()
    ch = Pt1000Channel

    def pt(t1: float | None, *, stopped: bool = False) -> Pt1000State:
        return Pt1000State(channels=(ch(t1, stopped), ch(25.0), ch(None), ch(None)))

    core.on_pt1000(pt(70.0))
    assert active(errors) == {("TemperatureWarning", "dc_plus")}
    core.on_pt1000(pt(69.5))
    assert ("TemperatureWarning", "dc_plus") in active(errors)  # within the hysteresis
    core.on_pt1000(pt(68.9))
    assert active(errors) == set()
    core.on_pt1000(pt(80.0))
    assert rec.props["DeratingFactor"] == 0.5
    core.publish_temperatures()
    temps = rec.props["Temperatures"]
    assert isinstance(temps, list)
    assert temps[0] == ["dc_plus", 80.0, "Derating"] and temps[1][2] == "Ok"
    assert temps[2][0] == "aux1" and math.isnan(temps[2][1]) and temps[2][2] == "Unused"
    core.on_pt1000(pt(86.0, stopped=True))
    assert ("TemperatureStopped", "dc_plus") in active(errors)
    assert rec.props["DeratingFactor"] == 0.0


def test_firmware_line_like_the_seed() -> None:
    core, _, _ = make()
    core.on_fw_version(FwVersion(0, 2, 3))
    core.on_git_hash(GitHash(0x5638A7E18ECCE8F0))
    assert core.firmware_line() == (
        "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)"
    )


def test_mcu_error_messages_are_warnings_named_after_the_module() -> None:
    core, _, errors = make()
    em = ErrorMessage(active=True, module=0x0006, reason=0x12)
    core.on_error_message(em)
    ((type_, sub),) = active(errors)
    assert type_ == "McuWarning" and sub == em.module_name
    core.on_error_message(ErrorMessage(active=False, module=0x0006, reason=0x12))
    assert active(errors) == set()


def test_disable_withdraws_hlc_and_power_on() -> None:
    core, _, _ = make()
    core.on_charge_state(cs(CeState.C, IdState.CONNECTED), 0.0)
    core.enable(True)
    core.set_ccs_ready("Ready", 0.0)
    core.allow_power_on(True)
    core.enable(False)
    assert core.state.ccs_ready is CcsReady.NOT_READY and core.state.power_on_allowed is False
