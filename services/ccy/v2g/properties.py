# SPDX-License-Identifier: Apache-2.0
"""org.ccy.V2g1's properties as a view of :class:`V2gState`, spelled once.

The unit copies what a session knows (ccy.v2g.session.SessionContext) into this state after
each request/response pair and whenever the connection or a peer changes; the publisher
diffs it (one PropertiesChanged per input). EvTargets and MessageCounters change every
charge loop and are not emitted: they are plain properties of the interface (dbus_iface).
"""

import math
from dataclasses import dataclass, field

from ccy.runtime.state import Prop, PropertyTable
from ccy.v2g.contract import IFACE, SecurityMode, SessionState


@dataclass
class V2gState:
    session_state: SessionState = SessionState.IDLE
    protocol: tuple[str, int] = ("", 0)
    security: SecurityMode = SecurityMode.NO_CONNECTION
    session_id: str = ""
    evse_session_id: str = ""
    evccid: str = ""
    """Redacted already."""
    selected_service: tuple[int, int] = (0, 0)
    selected_parameters: dict[str, int] = field(default_factory=dict)
    ev_limits: dict[str, float] = field(default_factory=dict)
    last_error: str = ""
    sdp_port: int = 0
    tcp_port: int = 0
    tls_port: int = 0
    leaf: tuple[str, float] = ("", 0.0)
    waiting_for: tuple[str, ...] = ()


def _floats(values: dict[str, float]) -> dict[str, float]:
    return {k: (float(v) if not math.isinf(v) else math.nan) for k, v in values.items()}


V2G_TABLE: PropertyTable[V2gState] = PropertyTable(
    IFACE,
    (
        Prop("SessionState", "s", lambda s: str(s.session_state)),
        Prop("Protocol", "(sy)", lambda s: [s.protocol[0], s.protocol[1]]),
        Prop("SecurityMode", "s", lambda s: str(s.security)),
        Prop("SessionId", "s", lambda s: s.session_id),
        Prop("EvseSessionId", "s", lambda s: s.evse_session_id),
        Prop("EVCCID", "s", lambda s: s.evccid),
        Prop("SelectedService", "(qq)", lambda s: list(s.selected_service)),
        Prop("SelectedParameters", "a{si}", lambda s: dict(s.selected_parameters)),
        Prop("EvLimits", "a{sd}", lambda s: _floats(s.ev_limits)),
        Prop("LastError", "s", lambda s: s.last_error),
        Prop("SdpPort", "q", lambda s: s.sdp_port),
        Prop("TcpPort", "q", lambda s: s.tcp_port),
        Prop("TlsPort", "q", lambda s: s.tls_port),
        Prop("Leaf", "(sd)", lambda s: [s.leaf[0], float(s.leaf[1])]),
        Prop("WaitingFor", "as", lambda s: list(s.waiting_for)),
    ),
)
