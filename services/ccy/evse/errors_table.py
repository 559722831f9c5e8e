# SPDX-License-Identifier: Apache-2.0
"""Which error stops how: the table ccy-evse applies to every Errors1 error of every unit.

Per (unit, type):
  stop      EmergencyShutdown - power withdrawn at once (power stage Off and the contactor
                                opened in the same input); the vehicle learns
                                EmergencyShutdown (ccy-v2g answers FAILED).
            Terminate         - power stage Off, the contactor opens once the current is below
                                stop_current_threshold_A (at once when the current is unknown,
                                NaN, and the stage shows Off or is gone); the vehicle learns
                                Terminate.
            None              - keeps power (warnings).
  latches   True: the session stays Faulted and no new session charges until the next
            plug-in, even after the unit cleared the error ("All errors cleared" at plug-in).
            False: clears by itself: once the unit clears it, the next session may charge.
  retested  True: a new session starts while the error is still active, because its cable
            check repeats the test before any voltage (the IMD self-test: PowerStage1 keeps
            SelfTestFailed until the next StartSelfTest, which only a session asks for).
            False (all others): a new session stops at once while the error is active.

An error a unit marks StopsPower in its catalogue but this table does not list stops with
Terminate and does not latch; one marked KeepsPower keeps power. A High error of a unit we do
not know stops with Terminate (the safe default).
"""

from dataclasses import dataclass
from enum import StrEnum

from ccy.bsp import contract as bsp
from ccy.evse import contract as evse
from ccy.profinet import contract as stage
from ccy.runtime.contract import ErrorSpec


class Stop(StrEnum):
    EMERGENCY = "EmergencyShutdown"
    TERMINATE = "Terminate"
    NONE = "None"


@dataclass(frozen=True)
class Rule:
    stop: Stop
    latches: bool
    why: str
    retested: bool = False


E, T = Stop.EMERGENCY, Stop.TERMINATE
TABLE: dict[tuple[str, str], Rule] = {
    # ccy-bsp: the safety MCU has already opened the contactor for these.
    (bsp.UNIT, bsp.EMERGENCY_STOP.name): Rule(E, True, "E-stop: the operator must look first"),
    (bsp.UNIT, bsp.VENDOR_ERROR.name): Rule(E, True, "the MCU stopped for a safety reason"),
    (bsp.UNIT, bsp.ESTOP_NOT_CONFIRMED.name): Rule(E, True, "the MCU did not confirm a stop"),
    (bsp.UNIT, bsp.HV_SWITCH_FAULT.name): Rule(E, True, "contactor feedback fault"),
    (bsp.UNIT, bsp.TEMPERATURE_STOPPED.name): Rule(E, False, "clears once the inlet cooled"),
    (bsp.UNIT, bsp.TEMPERATURE_SELF_TEST.name): Rule(T, True, "a sensor that failed its test"),
    (bsp.UNIT, bsp.LINK_LOST.name): Rule(
        E, False, "the MCU's own host timeout stops; the link returns by itself"
    ),
    (bsp.UNIT, bsp.RESET_FAILED.name): Rule(T, False, "retried by ccy-bsp"),
    # the power stage
    (stage.UNIT, stage.ISOLATION_FAULT.name): Rule(E, True, "insulation fault: a hazard"),
    (stage.UNIT, stage.OVER_CURRENT.name): Rule(E, True, "over-current of the DC output"),
    (stage.UNIT, stage.SUPPLY_FAULT.name): Rule(T, False, "clears when the supply is back"),
    (stage.UNIT, stage.SELF_TEST_FAILED.name): Rule(
        T, True, "the IMD cannot be trusted; each cable check tests it again", retested=True
    ),
    (stage.UNIT, stage.LEASE_EXPIRED.name): Rule(T, False, "cleared by the next setpoint"),
    (stage.UNIT, stage.PLC_LOST.name): Rule(T, False, "clears when the PLC is back"),
    # ccy-evse's own
    (evse.UNIT, evse.BSP_LOST.name): Rule(E, False, "no safety link owner: stop at once"),
    (evse.UNIT, evse.POWER_STAGE_LOST.name): Rule(E, False, "no stage: open the contactor"),
    (evse.UNIT, evse.VEHICLE_LOST.name): Rule(T, False, "nobody to tell; stop normally"),
    (evse.UNIT, evse.CABLE_CHECK_FAILED.name): Rule(E, True, "insulation not proven"),
    (evse.UNIT, evse.PRE_CHARGE_FAILED.name): Rule(T, False, "the EV's voltage not reached"),
    (evse.UNIT, evse.POWER_STAGE_FAULT.name): Rule(T, False, "the stage's own error decides"),
    (evse.UNIT, evse.WELDING_DETECTED.name): Rule(E, True, "contactor welded: never re-close"),
}

CATALOGUES: dict[str, tuple[ErrorSpec, ...]] = {
    bsp.UNIT: bsp.CONTRACT.errors,
    stage.UNIT: stage.POWER_STAGE.errors,
    evse.UNIT: evse.CONTRACT.errors,
}
KEEP = Rule(Stop.NONE, False, "the catalogue says KeepsPower")


def retested(type_: str, subtype: str) -> bool:
    """Whether one of ccy-evse's own errors is retested at the next cable check: its
    PowerStageFault mirrors the stage's error named in the subtype and is retested when that
    error is (the stage's own error decides)."""
    if type_ == evse.POWER_STAGE_FAULT.name:
        return rule_for(stage.UNIT, subtype).retested
    return rule_for(evse.UNIT, type_).retested


def rule_for(unit: str, type_: str, severity: str = "") -> Rule:
    """The rule of an error of ``unit`` (its contract's UNIT) named ``type_``."""
    known = TABLE.get((unit, type_))
    if known is not None:
        return known
    for spec in CATALOGUES.get(unit, ()):
        if spec.name == type_:
            return Rule(T, False, "StopsPower in its catalogue") if spec.stops_power else KEEP
    if severity == "High":
        return Rule(T, False, "a High error of an unknown type")
    return KEEP
