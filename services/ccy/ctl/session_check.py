# SPDX-License-Identifier: Apache-2.0
"""Is a charging session active? Asked of ccy-evse on the bus, with a short timeout.

A session is active when org.ccy.Evse has an owner and its ``org.ccy.Evse1.SessionId``
property is not empty (contracts.md "Sessions and identities": ccy-evse owns the session).
No owner of org.ccy.Evse means no session: without ccy-evse nothing charges (ccy-bsp withdraws
power-on when that name vanishes). When the answer cannot be had (no bus, access denied, no
reply in time) the state is unknown, and ``ccyctl config apply`` treats unknown as active: it
does not restart a unit it cannot prove idle.

The names of org.ccy.Evse1 come from ccy-evse's contract module (``ccy.evse.contract``); the
``EVSE_*`` aliases below stay for the callers that import them from here.
"""

import asyncio
from dataclasses import dataclass

from dbus_fast import DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.ctl.failure import CtlError
from ccy.ctl.system_bus import connect
from ccy.evse.contract import BUS_NAME, IFACE, OBJECT_PATH, Prop

EVSE_BUS_NAME = BUS_NAME
EVSE_OBJECT_PATH = OBJECT_PATH
EVSE_IFACE = IFACE
SESSION_ID = Prop.SESSION_ID.value
SESSION_TIMEOUT_S = 2.0
"""How long apply waits for the bus and ccy-evse to say whether a session runs."""

DBUS = "org.freedesktop.DBus"


@dataclass(frozen=True)
class SessionState:
    """``active`` is None when it could not be known; ``detail`` says what was seen."""

    active: bool | None
    detail: str


async def _call(bus: MessageBus, message: Message) -> list[object]:
    reply = await bus.call(message)
    if reply is None or reply.message_type == MessageType.ERROR:
        name = reply.error_name if reply is not None else "no reply"
        text = str(reply.body[0]) if reply is not None and reply.body else ""
        raise DBusError(name or "unknown", text)
    return list(reply.body)


async def session_on(bus: MessageBus) -> SessionState:
    """Ask the bus whether org.ccy.Evse is owned and, if so, its SessionId."""
    (owned,) = await _call(
        bus,
        Message(
            destination=DBUS,
            path="/org/freedesktop/DBus",
            interface=DBUS,
            member="NameHasOwner",
            signature="s",
            body=[EVSE_BUS_NAME],
        ),
    )
    if not owned:
        return SessionState(False, f"{EVSE_BUS_NAME} is not on the bus: no session")
    (value,) = await _call(
        bus,
        Message(
            destination=EVSE_BUS_NAME,
            path=EVSE_OBJECT_PATH,
            interface="org.freedesktop.DBus.Properties",
            member="Get",
            signature="ss",
            body=[EVSE_IFACE, SESSION_ID],
        ),
    )
    session = value.value if isinstance(value, Variant) else value
    if session:
        return SessionState(True, f"charging session {session} is active")
    return SessionState(False, "no charging session")


async def charging_session(timeout_s: float = SESSION_TIMEOUT_S) -> SessionState:
    """The session state on the system bus; never raises for bus trouble (active=None)."""
    try:
        bus = await connect(timeout_s)
    except CtlError as exc:
        return SessionState(None, f"cannot tell whether a session is active: {exc.cause}")
    try:
        return await asyncio.wait_for(session_on(bus), timeout_s)
    except TimeoutError:
        why = f"{EVSE_BUS_NAME} did not answer within {timeout_s:g} s"
        return SessionState(None, f"cannot tell whether a session is active: {why}")
    except DBusError as exc:
        why = f"{exc.type}: {exc.text}"
        return SessionState(None, f"cannot tell whether a session is active: {why}")
    finally:
        bus.disconnect()
