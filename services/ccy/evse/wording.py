# SPDX-License-Identifier: Apache-2.0
"""The seed's journal wording (EVerest's EvseManager lines), spelled once.

The state names of "EVSE IEC Charger state: A->B" are the seed's labels (Evse1.State values
are CamelCase on the bus; the journal keeps what operators know from the seed). Numbers in
"Change HLC Limits" are printed as the seed prints them: the shortest text that reads back
as the same 32-bit float ("25.97647", "22080", "0.1").
"""

import math
import struct

from ccy.evse.contract import State

STATE_LABEL: dict[State, str] = {
    State.DISABLED: "Disabled",
    State.IDLE: "Idle",
    State.RESERVED: "Reserved",
    State.WAITING_FOR_AUTHENTICATION: "Wait for Auth",
    State.PREPARE_CHARGING: "PrepareCharging",
    State.CHARGING: "Charging",
    State.CHARGING_PAUSED_EV: "Car Paused",
    State.CHARGING_PAUSED_EVSE: "EVSE Paused",
    State.STOPPING_CHARGING: "Stopping Charging",
    State.FINISHED: "Finished",
    State.FAULTED: "Faulted",
}

READY = "\U0001f300\U0001f300\U0001f300 Ready to start charging \U0001f300\U0001f300\U0001f300"
NO_METER = "No powermeter value received yet!"
CLOCK_NOT_SYNCHRONIZED = (
    "Clock not synchronized: transaction timestamps come from the unsynchronized system clock"
)
CLEANUP = "Cleaning up any other transaction on start up"
ALL_CLEARED = "All errors cleared"
LOG_STARTED = "SYS  Session logging started."
LOG_STOPPED = "SYS  Session logging stopped."
TIMING_TITLE = "Timing statistics (Plugin to CurrentDemand)"
TIMING_RULE = "-" * 43


def f32(value: float) -> str:
    """The shortest decimal that reads back as the same float32 (C++ fmt's ``{}``)."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    target = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{target:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == target:
            break
    if "e" in text:
        text = f"{float(text):f}".rstrip("0").rstrip(".")
    return text


def kwh(energy_wh: float | None) -> str:
    """ "0 kWh", "12.5 kWh"; unknown energy is said so (never 0)."""
    if energy_wh is None or math.isnan(energy_wh):
        return "unknown kWh, no meter value"
    return f"{round(energy_wh / 1000.0, 3):g} kWh"


def state_line(old: State, new: State) -> str:
    return f"EVSE IEC Charger state: {STATE_LABEL[old]}->{STATE_LABEL[new]}"


def hlc_limits_line(power_w: float, current_a: float, target_v: float, actual_v: float) -> str:
    return (
        f"EVSE ISO Change HLC Limits: {f32(power_w)}W/{f32(current_a)}A, "
        f"target_voltage {f32(target_v)}, actual_voltage {f32(actual_v)}, hack_bpt false"
    )


def supply_set_line(volts: float, amps: float, req_volts: float, req_amps: float) -> str:
    return (
        f"EVSE IEC DC power supply set: {volts:g}V/{amps:g}A, "
        f"requested was {req_volts:g}V/{req_amps:g}A."
    )
