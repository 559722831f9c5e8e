# SPDX-License-Identifier: Apache-2.0
"""Diagnoses for the PLC and the charger's input data, from what the peers show (pure):
ccy.profinet.diagnosis and ccy.profinet.inputs, with PeerView values as the bus would give."""

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ccy.profinet import diagnosis
from ccy.profinet.contract import ISOLATION_FAULT
from ccy.profinet.inputs import charger_inputs
from ccy.profinet.io_layout import (
    NOT_AVAILABLE_TEMP,
    ChargerStatus,
    ErrorBits,
    StageMode,
)
from ccy.profinet.peers import ActiveError, PeerView
from ccy.profinet.power_stage_plc import StageOutputs
from ccy.profinet.stage.model import PowerStageModel, Snapshot

ESTOP = ActiveError("EmergencyStop", "EmergencyInput", "High", "the emergency input opened")
WARNING = ActiveError("TemperatureWarning", "dc_plus", "Low", "72 degC")
UNLISTED_HIGH = ActiveError("SomethingNew", "", "High", "?")
UNLISTED_LOW = ActiveError("SomethingMild", "", "Low", "?")


def view(unit: str, errors: tuple[ActiveError, ...] = (), **props: Any) -> PeerView:
    return PeerView(unit, True, MappingProxyType(props), errors)


def test_only_stopping_errors_are_diagnoses() -> None:
    bsp = view("ccy-bsp", (ESTOP, WARNING))
    evse = view("ccy-evse", (UNLISTED_HIGH, UNLISTED_LOW))
    found = diagnosis.active((evse, bsp))
    assert [(d.source, d.type) for d in found] == [
        ("ccy-bsp", "EmergencyStop"),
        ("ccy-evse", "SomethingNew"),  # not catalogued: High counts as stopping
    ]


def test_changes_are_disappear_first_and_keyed() -> None:
    a = diagnosis.Diagnosis("ccy-bsp", "LinkLost", "", "lost")
    b = diagnosis.Diagnosis("ccy-bsp", "EmergencyStop", "EmergencyInput", "opened")
    b2 = diagnosis.Diagnosis("ccy-bsp", "EmergencyStop", "EmergencyInput", "other text")
    changes = diagnosis.changes((a, b), (b2,))
    assert [(c.appears, c.diagnosis.type) for c in changes] == [(False, "LinkLost")]
    assert diagnosis.changes((), (a,))[0].appears


def test_channel_error_types_are_distinct_per_catalogue_entry() -> None:
    bsp = diagnosis.catalogue("ccy-bsp")
    codes = {diagnosis.channel_error_type("ccy-bsp", name) for name in bsp}
    assert len(codes) == len(bsp)
    assert all(0x0200 <= c < 0x02FF for c in codes)
    assert diagnosis.channel_error_type("ccy-bsp", "Nope") == 0x02FF
    assert diagnosis.channel_error_type("ccy-evse", "Nope") == 0x01FF


def test_the_seed_wording() -> None:
    change = diagnosis.AlarmChange(True, diagnosis.Diagnosis("ccy-evse", "PowerStageFault", ""))
    assert diagnosis.journal_line(change).startswith("Error raised EVSEManager: connector")
    assert change.line() == "appears ccy-evse PowerStageFault"


def snapshot(errors: frozenset[str] = frozenset()) -> Snapshot:
    return replace(PowerStageModel().snapshot(), errors=errors)


def test_absent_peers_contribute_nothing() -> None:
    out = StageOutputs(StageMode.OFF, 0.0, 0.0, False)
    data = charger_inputs(
        PeerView("ccy-evse"), PeerView("ccy-bsp"), out, snapshot(), (), heartbeat=70000
    )
    assert data.evse_state == 255 and data.ce_state == 0 and data.id_state == 0
    assert data.status == ChargerStatus(0) and data.error_bits == ErrorBits(0)
    assert data.temperature_1 == NOT_AVAILABLE_TEMP and data.derating_factor == 1.0
    assert data.heartbeat == 70000 & 0xFFFF


def test_what_the_peers_show_reaches_the_plc() -> None:
    bsp = view(
        "ccy-bsp",
        (ESTOP, WARNING),
        CeState="C",
        IdState="Connected",
        PowerOnAllowed=True,
        EmergencyStop="EmergencyInput",
        SafeState="SafeStateActive",
        LinkUp=True,
        Enabled=True,
        DeratingFactor=0.75,
        Temperatures=[["dc_plus", 72.5, "Warning"], ["dc_minus", float("nan"), "Unused"]],
    )
    evse = view("ccy-evse", (), State="Faulted", SessionId="abc")
    diags = diagnosis.active((evse, bsp))
    out = StageOutputs(StageMode.CABLE_CHECK, 800.0, 10.0, True)
    data = charger_inputs(
        evse, bsp, out, snapshot(frozenset({ISOLATION_FAULT.name})), diags, heartbeat=3
    )
    assert data.evse_state == 9 and data.ce_state == 4 and data.id_state == 2
    assert data.requested_mode is StageMode.CABLE_CHECK
    assert (data.target_voltage, data.target_current) == (800.0, 10.0)
    assert data.status == (
        ChargerStatus.CONTACTOR_CLOSED
        | ChargerStatus.EMERGENCY_STOP
        | ChargerStatus.SAFE_STATE
        | ChargerStatus.BSP_LINK_UP
        | ChargerStatus.PORT_ENABLED
        | ChargerStatus.EVSE_CONNECTED
        | ChargerStatus.SESSION_ACTIVE
        | ChargerStatus.SELF_TEST_REQUEST
    )
    assert data.error_bits == (
        ErrorBits.STOPPING_ERROR
        | ErrorBits.EMERGENCY_STOP
        | ErrorBits.ISOLATION_FAULT
        | ErrorBits.EVSE_FAULTED
        | ErrorBits.WARNING
    )
    assert (data.temperature_1, data.temperature_2) == (725, NOT_AVAILABLE_TEMP)
    assert data.derating_factor == 0.75
