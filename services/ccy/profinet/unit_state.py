# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Profinet1's state and its property table, spelled once.

:class:`ProfinetState` is what the unit's glue mutates (replaced, never changed in place);
:data:`PROFINET_TABLE` maps each field to its property (names from
:class:`ccy.profinet.contract.ProfinetProp`, signatures as in dbus/org.ccy.Profinet1.xml). The
publisher diffs it around every input; CycleStatistics is not state (counters, no
PropertiesChanged) and stays a plain property of the interface.
"""

from dataclasses import dataclass

from ccy.profinet.contract import PROFINET_IFACE, ArState, UnitMode
from ccy.profinet.contract import ProfinetProp as P
from ccy.runtime.state import Prop, PropertyTable

NO_IP = "0.0.0.0"


@dataclass(frozen=True)
class ProfinetState:
    mode: UnitMode
    interface: str = ""
    mac_address: str = ""
    station_name: str = ""
    ip_address: str = NO_IP
    netmask: str = NO_IP
    gateway: str = NO_IP
    ar_state: ArState = ArState.DISABLED
    plc_connected: bool = False
    plc_address: str = ""
    last_abort_reason: str = ""
    cycle_time_s: float = 0.0
    diagnoses: tuple[tuple[str, str, str], ...] = ()
    last_alarm: str = ""


PROFINET_TABLE: PropertyTable[ProfinetState] = PropertyTable(
    PROFINET_IFACE,
    (
        Prop(P.MODE.value, "s", lambda s: str(s.mode)),
        Prop(P.INTERFACE.value, "s", lambda s: s.interface),
        Prop(P.MAC_ADDRESS.value, "s", lambda s: s.mac_address),
        Prop(P.STATION_NAME.value, "s", lambda s: s.station_name),
        Prop(P.IP_ADDRESS.value, "s", lambda s: s.ip_address),
        Prop(P.NETMASK.value, "s", lambda s: s.netmask),
        Prop(P.GATEWAY.value, "s", lambda s: s.gateway),
        Prop(P.AR_STATE.value, "s", lambda s: str(s.ar_state)),
        Prop(P.PLC_CONNECTED.value, "b", lambda s: s.plc_connected),
        Prop(P.PLC_ADDRESS.value, "s", lambda s: s.plc_address),
        Prop(P.LAST_ABORT_REASON.value, "s", lambda s: s.last_abort_reason),
        Prop(P.CYCLE_TIME.value, "d", lambda s: float(s.cycle_time_s)),
        Prop(P.ACTIVE_DIAGNOSES.value, "a(sss)", lambda s: [list(d) for d in s.diagnoses]),
        Prop(P.LAST_ALARM.value, "s", lambda s: s.last_alarm),
    ),
)
