# SPDX-License-Identifier: Apache-2.0
"""What ccy-bsp publishes: the core's state as one typed value (no bus names here).

The glue diffs this state after every input and turns the differences into
PropertiesChanged and the CeChanged/IdChanged signals, so the core needs no events port.
"""

from dataclasses import dataclass

from ccy.bsp.contract import CpState, FirmwareApplicationValue, FirmwarePlatform, TemperatureStatus
from ccy.bsp.protocol.codes import CcsReady, CeState, EstopReason, IdState, SafeState


@dataclass(frozen=True)
class TemperatureReading:
    """One published PT1000 channel: its name, °C (None when unused, implausible or stale)
    and its status."""

    name: str
    degC: float | None
    status: TemperatureStatus


@dataclass
class BspState:
    link_up: bool = False
    ce: CeState = CeState.UNKNOWN
    cp: CpState = CpState.UNKNOWN
    id: IdState = IdState.UNKNOWN
    estop: EstopReason = EstopReason.NO_STOP
    safe_state: SafeState = SafeState.NOT_AVAILABLE
    enabled: bool = False
    ccs_ready: CcsReady = CcsReady.NOT_READY
    power_on_allowed: bool = False
    firmware_version: str = ""
    firmware_platform: FirmwarePlatform = FirmwarePlatform.NOT_KNOWN_YET
    firmware_application: FirmwareApplicationValue = FirmwareApplicationValue.NOT_KNOWN_YET
    git_hash: str = ""
    derating_factor: float = 1.0
    temperatures: tuple[TemperatureReading, ...] = ()
    """The published values, refreshed once per temperature_publish_period_s."""


_CP_BY_CE = {
    CeState.A: CpState.A,
    CeState.B: CpState.B,
    CeState.C: CpState.C,
    CeState.E: CpState.E,
    CeState.EC: CpState.F,
    CeState.INVALID: CpState.FAULT,
    CeState.UNKNOWN: CpState.UNKNOWN,
}


def cp_from_ce(ce: CeState, previous: CpState) -> CpState:
    """The charging state a CE value means, given the previous one (safety-link.md, "Host
    behaviour"): A→A, B→B, C→C, E→E, EC→F, Invalid→Fault; B0 is ignored unless the previous
    state was C or F (EC), where it means B."""
    if ce is CeState.B0:
        return CpState.B if previous in (CpState.C, CpState.F) else previous
    return _CP_BY_CE[ce]
