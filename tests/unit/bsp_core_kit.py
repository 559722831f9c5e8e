# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the ccy-bsp core tests: settings, a core on a fake clock, frame builders.

The clock is a plain float passed to every call; nothing sleeps.
"""

import logging
from pathlib import Path

from ccy.bsp.core import BspCore
from ccy.bsp.protocol.codes import CeState, EstopReason, IdState, SafeState
from ccy.bsp.protocol.messages import ChargeState2
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
    firmware_inquiry_timeout_s=0.0625,  # exact in binary: the fake clock adds it up
)

LOG = logging.getLogger("test.bsp")


def make(settings: BspSettings = SETTINGS, now: float = 0.0) -> tuple[BspCore, ErrorRegistry]:
    errors = ErrorRegistry(LOG)
    return BspCore(settings, errors, LOG, now), errors


def cs(
    ce: CeState = CeState.A,
    id_: IdState = IdState.NOT_CONNECTED,
    estop: EstopReason = EstopReason.NO_STOP,
    safe: SafeState = SafeState.NORMAL,
) -> ChargeState2:
    return ChargeState2(ce=ce, id=id_, estop=estop, safe_state=safe)


PLUGGED_C = cs(CeState.C, IdState.CONNECTED)


def active(errors: ErrorRegistry) -> set[tuple[str, str]]:
    return {(e.type, e.subtype) for e in errors.active()}


def powered(now: float = 0.0) -> tuple[BspCore, ErrorRegistry]:
    """A core with the link up, the port enabled, a vehicle in CE C and power on allowed."""
    core, errors = make(now=now)
    core.on_message(PLUGGED_C, now)
    core.enable(True, now)
    core.allow_power_on(True, now)
    assert core.state.power_on_allowed
    return core, errors
