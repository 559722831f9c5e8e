# SPDX-License-Identifier: Apache-2.0
"""org.ccy.PowerStage1's properties as a view of the model's :class:`Snapshot`, spelled once.

Names and signatures as in dbus/org.ccy.PowerStage1.xml (the names from
:class:`ccy.profinet.contract.Prop`); the simulated server's publisher diffs this table around
every input and its interface's getters read it (:mod:`ccy.runtime.state`). ccy-profinet's
own server can use the same table over the PLC's state once it exists.
"""

from ccy.profinet.contract import IFACE
from ccy.profinet.contract import Prop as P
from ccy.profinet.stage.model import Snapshot
from ccy.runtime.state import Prop, PropertyTable

POWER_STAGE_TABLE: PropertyTable[Snapshot] = PropertyTable(
    IFACE,
    (
        Prop(P.MODE.value, "s", lambda s: str(s.mode)),
        Prop(P.PRESENT_VOLTAGE.value, "d", lambda s: float(s.present_voltage)),
        Prop(P.PRESENT_CURRENT.value, "d", lambda s: float(s.present_current)),
        Prop(P.TARGET_VOLTAGE.value, "d", lambda s: float(s.target_voltage)),
        Prop(P.TARGET_CURRENT.value, "d", lambda s: float(s.target_current)),
        Prop(P.ISOLATION_RESISTANCE.value, "d", lambda s: float(s.isolation_resistance)),
        Prop(P.ISOLATION_STATUS.value, "s", lambda s: str(s.isolation_status)),
        Prop(P.SELF_TEST.value, "s", lambda s: str(s.self_test)),
        Prop(P.SUPPLY_READY.value, "b", lambda s: s.supply_ready),
        Prop(P.MAX_VOLTAGE.value, "d", lambda s: float(s.limits.max_voltage_v)),
        Prop(P.MIN_VOLTAGE.value, "d", lambda s: float(s.limits.min_voltage_v)),
        Prop(P.MAX_CURRENT.value, "d", lambda s: float(s.limits.max_current_a)),
        Prop(P.MIN_CURRENT.value, "d", lambda s: float(s.limits.min_current_a)),
        Prop(P.MAX_POWER.value, "d", lambda s: float(s.limits.max_power_w)),
        Prop(P.METER_ENERGY.value, "d", lambda s: float(s.meter_energy_wh)),
        Prop(P.LEASE_SECONDS.value, "d", lambda s: float(s.lease_s)),
    ),
)
