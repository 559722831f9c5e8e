# SPDX-License-Identifier: Apache-2.0
"""The charger's input data for the PLC (io_layout.ChargerToPlc) from what the unit sees (pure).

ccy-evse's state and session, ccy-bsp's CE/ID, contactor consent, E-stop, safe state, link,
temperatures and derating (watched, :mod:`ccy.profinet.peers`), the power stage's requested
mode, setpoints and self-test request (:class:`ccy.profinet.power_stage_plc.StageOutputs`),
the error bits from the active diagnoses and the stage's errors, and the heartbeat.
A peer that is not on the bus contributes nothing (codes Unknown, bits clear, temperatures
not available), so the PLC sees its absence.
"""

import math

from ccy.profinet.contract import (
    ISOLATION_FAULT,
    LEASE_EXPIRED,
)
from ccy.profinet.diagnosis import Diagnosis, stops_power
from ccy.profinet.io_layout import (
    CE_CODES,
    EVSE_STATE_CODES,
    ID_CODES,
    TEMPERATURE_CHANNELS,
    ChargerStatus,
    ChargerToPlc,
    ErrorBits,
    code_of,
    temperature_code,
)
from ccy.profinet.peers import PeerView
from ccy.profinet.power_stage_plc import StageOutputs
from ccy.profinet.stage.model import Snapshot

EVSE_FAULTED = "Faulted"
NO_STOP = "NoStop"
SAFE_STATES = ("SafeStateActive", "Unknown")
TEMPERATURE_STOP_TYPES = ("TemperatureStopped", "TemperatureSelfTest")


def _code(value: object, codes: tuple[str, ...], unknown: int) -> int:
    code = code_of(str(value), codes) if isinstance(value, str) else unknown
    return unknown if code == 255 else code


def _temperatures(bsp: PeerView) -> list[int]:
    entries = bsp.get("Temperatures", []) if bsp.present else []
    codes = []
    for i in range(TEMPERATURE_CHANNELS):
        try:
            deg_c = float(entries[i][1])
        except (IndexError, TypeError, ValueError):
            deg_c = math.nan
        codes.append(temperature_code(deg_c))
    return codes


def charger_inputs(
    evse: PeerView,
    bsp: PeerView,
    stage: StageOutputs,
    snapshot: Snapshot,
    diagnoses: tuple[Diagnosis, ...],
    heartbeat: int,
) -> ChargerToPlc:
    status = ChargerStatus(0)
    if bsp.present:
        if bsp.get("PowerOnAllowed") is True:
            status |= ChargerStatus.CONTACTOR_CLOSED
        if bsp.get("EmergencyStop", NO_STOP) != NO_STOP:
            status |= ChargerStatus.EMERGENCY_STOP
        if bsp.get("SafeState") in SAFE_STATES:
            status |= ChargerStatus.SAFE_STATE
        if bsp.get("LinkUp") is True:
            status |= ChargerStatus.BSP_LINK_UP
        if bsp.get("Enabled") is True:
            status |= ChargerStatus.PORT_ENABLED
    if evse.present:
        status |= ChargerStatus.EVSE_CONNECTED
        if evse.get("SessionId"):
            status |= ChargerStatus.SESSION_ACTIVE
    if stage.self_test_request:
        status |= ChargerStatus.SELF_TEST_REQUEST

    errors = ErrorBits(0)
    if diagnoses:
        errors |= ErrorBits.STOPPING_ERROR
    types = {(d.source, d.type) for d in diagnoses}
    if ("ccy-bsp", "LinkLost") in types:
        errors |= ErrorBits.LINK_LOST
    if ("ccy-bsp", "EmergencyStop") in types or ChargerStatus.EMERGENCY_STOP in status:
        errors |= ErrorBits.EMERGENCY_STOP
    if any(("ccy-bsp", t) in types for t in TEMPERATURE_STOP_TYPES):
        errors |= ErrorBits.TEMPERATURE_STOP
    if ISOLATION_FAULT.name in snapshot.errors:
        errors |= ErrorBits.ISOLATION_FAULT
    if LEASE_EXPIRED.name in snapshot.errors:
        errors |= ErrorBits.LEASE_EXPIRED
    if evse.present and evse.get("State") == EVSE_FAULTED:
        errors |= ErrorBits.EVSE_FAULTED
    warnings = [
        e for v in (evse, bsp) for e in v.errors if not stops_power(v.unit, e.type, e.severity)
    ]
    if warnings:
        errors |= ErrorBits.WARNING

    derating = bsp.get("DeratingFactor", 1.0) if bsp.present else 1.0
    t1, t2, t3, t4 = _temperatures(bsp)
    return ChargerToPlc(
        evse_state=_code(evse.get("State"), EVSE_STATE_CODES, 255) if evse.present else 255,
        requested_mode=stage.requested_mode,
        ce_state=_code(bsp.get("CeState"), CE_CODES, 0) if bsp.present else 0,
        id_state=_code(bsp.get("IdState"), ID_CODES, 0) if bsp.present else 0,
        status=status,
        error_bits=errors,
        target_voltage=stage.target_voltage,
        target_current=stage.target_current,
        derating_factor=float(derating) if isinstance(derating, int | float) else 1.0,
        temperature_1=t1,
        temperature_2=t2,
        temperature_3=t3,
        temperature_4=t4,
        heartbeat=heartbeat & 0xFFFF,
    )
