# SPDX-License-Identifier: Apache-2.0
"""The session's timers, one table (design/v2g.md "Session state sequence"; ISO 15118-20).

The transport enforces the per-message and sequence timeouts (ccy.v2g.server: the message
must be complete within ``message_timeout_s``; the next request must start within the
sequence timeout, configured as ``sequence_timeout_ms``). The states enforce how long an
answer may stay ``EVSEProcessing = Ongoing``: past its limit the state answers FAILED and
the session ends. The EV-side limits are listed so that no SECC work approaches them.
"""

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Timeout:
    seconds: float
    what: str
    source: str


SEQUENCE = Timeout(
    60.0,
    "next request after a response (transport idle timeout)",
    "design/v2g.md (reference stacks)",
)
ONGOING = Timeout(
    55.0, "EVSEProcessing Ongoing answers in one state", "design/v2g.md (reference stacks)"
)
AUTHORIZATION_EIM = Timeout(
    180.0, "EIM authorization Ongoing (an RFID card or app may take minutes)", "design/v2g.md"
)
CABLE_CHECK = Timeout(
    38.0, "DC_CableCheck Ongoing (EV gives up at 40 s)", "Josev EV CableCheck 40 s"
)
PRE_CHARGE = Timeout(9.0, "DC_PreCharge repeated (EV gives up at 10 s)", "Josev EV PreCharge 10 s")
CONTACTOR = Timeout(3.0, "contactor in PowerDelivery", "design/v2g.md")
EV_MESSAGE = Timeout(2.0, "EV waits for any response", "Josev EV default")
EV_CHARGE_LOOP = Timeout(0.5, "EV waits for DC_ChargeLoopRes", "Josev EV DC_ChargeLoop")
EV_COMMUNICATION_SETUP = Timeout(20.0, "EV communication setup", "Josev EV")

ONGOING_LIMITS = MappingProxyType(
    {
        "Authorization": AUTHORIZATION_EIM,
        "ScheduleExchange": ONGOING,
        "DC_CableCheck": CABLE_CHECK,
        "DC_PreCharge": PRE_CHARGE,
        "DC_WeldingDetection": ONGOING,
        "PowerDelivery": ONGOING,
    }
)
"""How long each state may keep answering Ongoing (or keep being repeated), by state name."""

TABLE = MappingProxyType(
    {
        "sequence": SEQUENCE,
        "ongoing": ONGOING,
        "authorization_eim": AUTHORIZATION_EIM,
        "cable_check": CABLE_CHECK,
        "pre_charge": PRE_CHARGE,
        "contactor": CONTACTOR,
        "ev_message": EV_MESSAGE,
        "ev_charge_loop": EV_CHARGE_LOOP,
        "ev_communication_setup": EV_COMMUNICATION_SETUP,
    }
)
