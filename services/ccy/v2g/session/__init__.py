# SPDX-License-Identifier: Apache-2.0
"""The ISO 15118-20 DC/MCS session of the SECC, free of bus code.

One state class per request (``setup``, ``auth``, ``services``, ``params``, ``dc``, ``stop``),
the machine that drives them per connection (``machine``), the ports through which it asks
ccy-evse and ccy-auth (``port``), and the timeouts table (``timeouts``).
"""

from ccy.v2g.server import Reply
from ccy.v2g.session.context import (
    AuthService,
    DcConnector,
    McsConnector,
    MobilityNeedsMode,
    OfferError,
    Pricing,
    ServiceId,
    SessionContext,
    SessionObserver,
    SessionSettings,
)
from ccy.v2g.session.machine import STATES, SessionHandler, SessionManager
from ccy.v2g.session.port import (
    AuthPort,
    CableCheckAnswer,
    ChargeLoopAnswer,
    ChargeLoopRequest,
    ContractChain,
    EvChargeLimits,
    EvseLimits,
    EvsePort,
    EvsePortError,
    EvseRefused,
    EvseUnavailable,
    VoltageAnswer,
)

__all__ = [
    "STATES",
    "AuthPort",
    "AuthService",
    "CableCheckAnswer",
    "ChargeLoopAnswer",
    "ChargeLoopRequest",
    "ContractChain",
    "DcConnector",
    "EvChargeLimits",
    "EvseLimits",
    "EvsePort",
    "EvsePortError",
    "EvseRefused",
    "EvseUnavailable",
    "McsConnector",
    "MobilityNeedsMode",
    "OfferError",
    "Pricing",
    "Reply",
    "ServiceId",
    "SessionContext",
    "SessionHandler",
    "SessionManager",
    "SessionObserver",
    "SessionSettings",
    "VoltageAnswer",
]
