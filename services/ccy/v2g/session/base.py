# SPDX-License-Identifier: Apache-2.0
"""The shape of a state: one class per request, as Josev structures its SECC.

A state handles one request type (``request``), answers with its response type and names
the requests allowed next (``Answer.next``). ``failed(ctx, code)`` builds the smallest
schema-valid response carrying an error code (every mandatory element filled with a
neutral value): the machine uses it for FAILED_SequenceError, FAILED_UnknownSession and for
a failed call to ccy-evse. A FAILED_* answer ends the session (the EV stops communicating;
the connection is closed after the answer).
"""

import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ccy.evse.contract import Notification
from ccy.v2g.exi import Namespace
from ccy.v2g.exi.message import Node
from ccy.v2g.session.context import SessionContext, SessionSettings
from ccy.v2g.session.port import AuthPort, EvsePort
from ccy.v2g.session.rational import from_float

Body = dict[str, Any]

NOTIFICATION_MAX_DELAY_S = 0
"""EVSEStatus.NotificationMaxDelay sent with Pause/Terminate: react at once."""


@dataclass(frozen=True)
class Answer:
    """A state's response body (without Header), the requests allowed next, and whether the
    session ends after this answer (FAILED_*, SessionStop, Failed_NoNegotiation)."""

    body: Body
    next: frozenset[str]
    end: bool = False


@dataclass
class Env:
    """What a state may use: settings, ports, a logger, the clock, an ID source."""

    settings: SessionSettings
    evse: EvsePort
    auth: AuthPort | None
    log: logging.Logger
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    redact: Callable[[str], str] = lambda value: value
    new_session_id: Callable[[], str] = lambda: secrets.token_hex(8).upper()
    """A new V2G SessionID: 8 random bytes as 16 upper-case hex digits."""
    paused: dict[str, SessionContext] = field(default_factory=dict)
    """Paused sessions by SessionID (SessionStop Pause), shared by all connections."""


def is_failure(code: str) -> bool:
    return code.startswith("FAILED") or code == "Failed_NoNegotiation"


class State(ABC):
    """One request type of the -20 DC session."""

    request: ClassVar[str]
    """The request's root element name, e.g. ``SessionSetupReq``."""
    namespace: ClassVar[Namespace] = Namespace.CM
    requirement: ClassVar[str] = ""
    """The requirement cited (design/v2g.md gives no requirement numbers: the section)."""

    @classmethod
    def response(cls) -> str:
        return cls.request[: -len("Req")] + "Res"

    @abstractmethod
    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        """Answer one request (each request's class implements it)."""

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        """The smallest valid response with ResponseCode ``code`` (override to fill the
        mandatory elements of the response type)."""
        return {"ResponseCode": code}


def rational(value: float) -> dict[str, int]:
    return from_float(value)


ZERO = {"Exponent": 0, "Value": 0}


def evse_status(notification: Notification) -> dict[str, Any] | None:
    """EVSEStatus for PowerDeliveryRes/ChargeLoopRes (None: no notification to send).

    EmergencyShutdown travels as EVSENotification Terminate with ResponseCode FAILED
    (Evse1.Notification's contract)."""
    if notification is Notification.PAUSE:
        return {"NotificationMaxDelay": NOTIFICATION_MAX_DELAY_S, "EVSENotification": "Pause"}
    if notification in (Notification.TERMINATE, Notification.EMERGENCY_SHUTDOWN):
        return {"NotificationMaxDelay": NOTIFICATION_MAX_DELAY_S, "EVSENotification": "Terminate"}
    return None


def ongoing_expired(env: Env, ctx: SessionContext, state: str, limit_s: float) -> bool:
    """Start (first call) or check the Ongoing timer of ``state``; True past its limit."""
    now = env.monotonic()
    started = ctx.ongoing_since.setdefault(state, now)
    return now - started > limit_s


def ongoing_done(ctx: SessionContext, state: str) -> None:
    ctx.ongoing_since.pop(state, None)
