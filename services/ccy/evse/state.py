# SPDX-License-Identifier: Apache-2.0
"""What ccy-evse publishes (EvseState) and what it sees of its peers (BspView, StageView).

The views are plain copies of the peers' properties, kept current by the glue from
PropertiesChanged (ccy.evse.peers); the core reads them and names no bus member.
"""

import math
from dataclasses import dataclass, field

from ccy.evse.contract import Notification, State
from ccy.evse.limits import UNLIMITED, Limits


@dataclass
class BspView:
    """org.ccy.Bsp1 as last seen; ``present`` False while org.ccy.Bsp has no owner."""

    present: bool = False
    link_up: bool = False
    ce: str = "Unknown"
    id: str = "Unknown"
    estop: str = "NoStop"
    safe_state: str = "NotAvailable"
    enabled: bool = False
    ccs_ready: str = "NotReady"
    power_on_allowed: bool = False
    derating: float = 1.0


@dataclass
class StageView:
    """org.ccy.PowerStage1 as last seen; ``present`` False while org.ccy.Profinet has none."""

    present: bool = False
    mode: str = "Off"
    voltage: float = 0.0
    current: float = 0.0
    target_voltage: float = 0.0
    target_current: float = 0.0
    isolation_ohm: float = math.nan
    isolation: str = "Invalid"
    self_test: str = "Idle"
    supply_ready: bool = False
    limits: Limits = UNLIMITED
    meter_wh: float = math.nan
    lease_s: float = 1.0


@dataclass
class EvseState:
    """Evse1's properties as one typed value (ccy.evse.properties maps it once)."""

    state: State = State.IDLE
    enabled: bool = True
    waiting_for: tuple[str, ...] = ()
    session_id: str = ""
    transaction_id: str = ""
    authorized: bool = False
    reservation_id: str = ""
    evse_id: str = ""
    connector_limits: Limits = UNLIMITED
    effective_limits: Limits = UNLIMITED
    external_limits: tuple[float, float, float] = (math.nan, math.nan, 0.0)
    present_voltage: float = 0.0
    present_current: float = 0.0
    target_voltage: float = 0.0
    target_current: float = 0.0
    energy_wh: float = math.nan
    notification: Notification = Notification.NONE
    timing: dict[str, float] = field(default_factory=dict)
