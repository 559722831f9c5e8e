# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Evse1's properties as a view of :class:`ccy.evse.state.EvseState`, spelled once
(names and signatures as in dbus/org.ccy.Evse1.xml). The StatePublisher diffs this table
around every input, so one input gives one PropertiesChanged."""

from ccy.evse.contract import IFACE
from ccy.evse.contract import Prop as P
from ccy.evse.state import EvseState
from ccy.runtime.state import Prop, PropertyTable

EVSE_TABLE: PropertyTable[EvseState] = PropertyTable(
    IFACE,
    (
        Prop(P.STATE.value, "s", lambda s: str(s.state)),
        Prop(P.ENABLED.value, "b", lambda s: s.enabled),
        Prop(P.WAITING_FOR.value, "as", lambda s: list(s.waiting_for)),
        Prop(P.SESSION_ID.value, "s", lambda s: s.session_id),
        Prop(P.TRANSACTION_ID.value, "s", lambda s: s.transaction_id),
        Prop(P.AUTHORIZED.value, "b", lambda s: s.authorized),
        Prop(P.RESERVATION_ID.value, "s", lambda s: s.reservation_id),
        Prop(P.EVSE_ID.value, "s", lambda s: s.evse_id),
        Prop(P.CONNECTOR_LIMITS.value, "(ddddd)", lambda s: s.connector_limits.as_wire()),
        Prop(P.EFFECTIVE_LIMITS.value, "(ddddd)", lambda s: s.effective_limits.as_wire()),
        Prop(P.EXTERNAL_LIMITS.value, "(ddd)", lambda s: [float(x) for x in s.external_limits]),
        Prop(P.PRESENT_VOLTAGE.value, "d", lambda s: float(s.present_voltage)),
        Prop(P.PRESENT_CURRENT.value, "d", lambda s: float(s.present_current)),
        Prop(P.TARGET_VOLTAGE.value, "d", lambda s: float(s.target_voltage)),
        Prop(P.TARGET_CURRENT.value, "d", lambda s: float(s.target_current)),
        Prop(P.ENERGY_DELIVERED.value, "d", lambda s: float(s.energy_wh)),
        Prop(P.NOTIFICATION.value, "s", lambda s: str(s.notification)),
        Prop(P.TIMING.value, "a{sd}", lambda s: dict(s.timing)),
    ),
)
