# SPDX-License-Identifier: Apache-2.0
"""One connector session (plug-in to unplug) as the core keeps it: its step, the V2G binding,
the authorization and transaction, the EV's limits, the phases' progress and its timing."""

import math
from dataclasses import dataclass, field
from enum import StrEnum

from ccy.evse.contract import AuthorizationStatus, ControlMode, StopReason
from ccy.evse.errors_table import Stop
from ccy.evse.timing import Timing


class Step(StrEnum):
    """Where a session is; Evse1.State is derived from it (``STATE_OF``)."""

    WAIT_AUTH = "wait-auth"
    AUTHORIZED = "authorized"
    CABLE_CHECK = "cable-check"
    CABLE_CHECK_DONE = "cable-check-done"
    PRECHARGE = "precharge"
    PRECHARGE_DONE = "precharge-done"
    POWER_ON = "power-on"
    """PowerDelivery(Start) accepted; Charging begins with the first ChargeLoop."""
    CHARGING = "charging"
    PAUSED_EV = "paused-ev"
    PAUSED_EVSE = "paused-evse"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAULTED = "faulted"


class CableStep(StrEnum):
    BELOW_60V = "<60V"
    RELAY = "relay"
    EV_INFO = "ev-info"
    RAMP = "ramp-up"
    SELF_TEST = "self-test"
    MEASURE = "measure"
    DISCHARGE = "discharge"
    DONE = "done"


class StopStep(StrEnum):
    """The stop sequence: power stage Off, current below the threshold, contactor open."""

    CURRENT_DOWN = "current-down"
    OPEN = "open"


POWER_STEPS = frozenset(
    {
        Step.POWER_ON,
        Step.CHARGING,
        Step.PAUSED_EV,
        Step.PAUSED_EVSE,
        Step.PRECHARGE,
        Step.PRECHARGE_DONE,
        Step.CABLE_CHECK,
        Step.CABLE_CHECK_DONE,
    }
)
"""Steps in which the contactor may be closed or the stage on."""
LOOP_STEPS = frozenset(
    {
        Step.POWER_ON,
        Step.CHARGING,
        Step.PAUSED_EV,
        Step.PAUSED_EVSE,
        Step.STOPPING,
        Step.FINISHED,
        Step.FAULTED,
    }
)
"""Steps in which ChargeLoop is answered (after a stop: present values, 0 A, notification)."""


@dataclass
class Session:
    id: str
    start: float
    start_us: int
    timing: Timing
    step: Step = Step.WAIT_AUTH
    v2g_id: str = ""
    evccid: str = ""
    protocol: str = ""
    bound: bool = False
    auth: AuthorizationStatus = AuthorizationStatus.ONGOING
    token: str = ""
    token_type: str = ""
    tx_id: str = ""
    tx_open: bool = False
    meter_start: float | None = None
    meter_noted_at: float = 0.0
    ev_max_v: float = math.nan
    ev_min_v: float = math.nan
    ev_max_a: float = math.nan
    ev_min_a: float = math.nan
    ev_max_w: float = math.nan
    params_known: bool = False
    control_mode: ControlMode = ControlMode.DYNAMIC
    cable: CableStep | None = None
    cable_start: float = 0.0
    step_since: float = 0.0
    relay_at: float | None = None
    check_voltage: float = 0.0
    check_current: float = 0.0
    self_test_running: bool = False
    samples: int = 0
    isolation_measured: bool = False
    """This cable check has taken an isolation sample (CableCheck answers the stage's
    IsolationStatus only then)."""
    precharge_v: float = 0.0
    precharge_since: float = 0.0
    stop_step: StopStep | None = None
    stop_since: float = 0.0
    open_at: float | None = None
    welding_ok: bool = False
    stop_reason: StopReason | None = None
    stop_kind: Stop = Stop.NONE
    hlc_logged: tuple[str, str] | None = None
    hlc_logged_at: float = -math.inf
    energy_end: float | None = None
    tags: set[str] = field(default_factory=set)
