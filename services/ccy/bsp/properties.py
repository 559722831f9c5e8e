# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Bsp1's properties as a view of :class:`ccy.bsp.core.BspState`, spelled once.

The core mutates its typed state and names no bus member; this table is the only place where
a state field becomes a property (name and signature as in dbus/org.ccy.Bsp1.xml, the
conversion to the wire value). The publisher diffs it around every input and the interface's
getters read it (:mod:`ccy.runtime.state`). LinkStatistics is not state (UART counters, no
PropertiesChanged) and stays a plain property of the interface.
"""

import math

from ccy.bsp.contract import IFACE
from ccy.bsp.state import BspState
from ccy.runtime.state import Prop, PropertyTable

TEMPERATURES = "Temperatures"


def temperatures_wire(state: BspState) -> list[list[object]]:
    """a(sds): name, °C (NaN for an unused or spoiled channel), status."""
    return [
        [t.name, math.nan if t.degC is None else float(t.degC), str(t.status)]
        for t in state.temperatures
    ]


BSP_TABLE: PropertyTable[BspState] = PropertyTable(
    IFACE,
    (
        Prop("LinkUp", "b", lambda s: s.link_up),
        Prop("CeState", "s", lambda s: str(s.ce)),
        Prop("CpState", "s", lambda s: str(s.cp)),
        Prop("IdState", "s", lambda s: str(s.id)),
        Prop("EmergencyStop", "s", lambda s: str(s.estop)),
        Prop("SafeState", "s", lambda s: str(s.safe_state)),
        Prop(TEMPERATURES, "a(sds)", temperatures_wire),
        Prop("DeratingFactor", "d", lambda s: float(s.derating_factor)),
        Prop("FirmwareVersion", "s", lambda s: s.firmware_version),
        Prop("FirmwarePlatform", "s", lambda s: str(s.firmware_platform)),
        Prop("FirmwareApplication", "s", lambda s: str(s.firmware_application)),
        Prop("GitHash", "s", lambda s: s.git_hash),
        Prop("Enabled", "b", lambda s: s.enabled),
        Prop("CcsReady", "s", lambda s: str(s.ccs_ready)),
        Prop("PowerOnAllowed", "b", lambda s: s.power_on_allowed),
    ),
)
