# SPDX-License-Identifier: Apache-2.0
"""ccy-auth's side of org.ccy.Evse1: watch its sessions, call its authorization methods.

contracts.md: ccy-auth calls Evse1.Authorize, Deauthorize, StopTransaction and
SetReservation, and only watches the rest (SessionStarted, SessionFinished,
TransactionStarted, TransactionFinished, PropertiesChanged of SessionId, Authorized and
TransactionId). Names come from ccy.evse.contract. The peer follows the owner of
org.ccy.Evse: when it appears (a restart included) the unit takes its present session from
Get; when it vanishes the unit forgets the sessions until it is back.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError

from ccy.evse.contract import BUS_NAME, IFACE, OBJECT_PATH, Method, Prop, Signal, StopRequest
from ccy.runtime import bus as rbus

PROPERTIES = "org.freedesktop.DBus.Properties"
CALL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Snapshot:
    session_id: str
    authorized: bool
    transaction_id: str


class EvseListener:
    """What the unit does with what it sees (each runs as one input of the unit)."""

    def __init__(
        self,
        appeared: Callable[[Snapshot], None],
        vanished: Callable[[], None],
        session_started: Callable[[str], None],
        session_finished: Callable[[str], None],
        transaction_started: Callable[[str, str], None],
        transaction_finished: Callable[[str], None],
    ) -> None:
        self.appeared = appeared
        self.vanished = vanished
        self.session_started = session_started
        self.session_finished = session_finished
        self.transaction_started = transaction_started
        self.transaction_finished = transaction_finished


class EvseUnavailable(RuntimeError):
    """org.ccy.Evse is not on the bus."""


class EvsePeer:
    def __init__(self, bus: MessageBus, listener: EvseListener, spawn: Callable[..., Any]) -> None:
        self.bus = bus
        self.listener = listener
        self._spawn = spawn
        self.owner = ""

    async def start(self) -> None:
        self.bus.add_message_handler(self._on_message)
        rule = f"type='signal',sender='{BUS_NAME}',path='{OBJECT_PATH}'"
        await self._driver("AddMatch", "s", [rule])
        owner = await rbus.watch_name_owner(self.bus, BUS_NAME, self._owner_changed)
        if owner:
            self._owner_changed("", owner)
        else:
            self.listener.vanished()

    async def _driver(self, member: str, signature: str, body: list[Any]) -> None:
        reply = await self.bus.call(
            Message(
                destination=rbus.BUS_DRIVER,
                path=rbus.BUS_DRIVER_PATH,
                interface=rbus.BUS_DRIVER,
                member=member,
                signature=signature,
                body=body,
            )
        )
        if reply is None or reply.message_type is MessageType.ERROR:
            raise DBusError(str(reply.error_name if reply else "NoReply"), f"{member} failed")

    def _owner_changed(self, _old: str, new: str) -> None:
        self.owner = new
        if new:
            self._spawn(self._read_snapshot(new), "evse-snapshot")
        else:
            self.listener.vanished()

    async def _read_snapshot(self, owner: str) -> None:
        try:
            reply = await asyncio.wait_for(
                self.bus.call(
                    Message(
                        destination=BUS_NAME,
                        path=OBJECT_PATH,
                        interface=PROPERTIES,
                        member="GetAll",
                        signature="s",
                        body=[IFACE],
                    )
                ),
                CALL_TIMEOUT_S,
            )
        except TimeoutError:
            return
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            return
        if owner != self.owner:
            return
        props = {k: v.value for k, v in reply.body[0].items()}
        self.listener.appeared(
            Snapshot(
                str(props.get(Prop.SESSION_ID, "")),
                bool(props.get(Prop.AUTHORIZED, False)),
                str(props.get(Prop.TRANSACTION_ID, "")),
            )
        )

    def _on_message(self, msg: Message) -> None:
        if (
            msg.message_type is not MessageType.SIGNAL
            or not self.owner
            or msg.sender != self.owner
            or msg.path != OBJECT_PATH
        ):
            return
        body = msg.body
        if msg.interface == IFACE:
            if msg.member == Signal.SESSION_STARTED:
                self.listener.session_started(str(body[0]))
            elif msg.member == Signal.SESSION_FINISHED:
                self.listener.session_finished(str(body[0]))
            elif msg.member == Signal.TRANSACTION_STARTED:
                self.listener.transaction_started(str(body[0]), str(body[2]))
            elif msg.member == Signal.TRANSACTION_FINISHED:
                self.listener.transaction_finished(str(body[0]))
        elif msg.interface == PROPERTIES and msg.member == "PropertiesChanged" and body[0] == IFACE:
            changed = {k: v.value for k, v in body[1].items()}
            session = changed.get(Prop.SESSION_ID)
            if session is not None:
                if session:
                    self.listener.session_started(str(session))
                else:
                    self.listener.session_finished("")

    # ------------------------------------------------------------ calls
    async def _call(self, member: str, signature: str, *body: Any) -> None:
        if not self.owner:
            raise EvseUnavailable(f"{BUS_NAME} is not on the bus")
        reply = await asyncio.wait_for(
            self.bus.call(
                Message(
                    destination=BUS_NAME,
                    path=OBJECT_PATH,
                    interface=IFACE,
                    member=str(member),
                    signature=signature,
                    body=[str(b) if isinstance(b, str) else b for b in body],
                )
            ),
            CALL_TIMEOUT_S,
        )
        if reply is None:
            raise DBusError("org.freedesktop.DBus.Error.NoReply", f"{member}: no reply")
        if reply.message_type is MessageType.ERROR:
            text = str(reply.body[0]) if reply.body else ""
            raise DBusError(str(reply.error_name), text)

    async def authorize(self, session_id: str, token_hash: str, token_type: str) -> None:
        await self._call(Method.AUTHORIZE, "sss", session_id, token_hash, token_type)

    async def deauthorize(self, session_id: str, reason: str) -> None:
        await self._call(Method.DEAUTHORIZE, "ss", session_id, reason)

    async def stop_transaction(self) -> None:
        await self._call(Method.STOP_TRANSACTION, "s", StopRequest.MASTER_PASS.value)

    async def set_reservation(self, reservation_id: str, expires_at: float) -> None:
        await self._call(Method.SET_RESERVATION, "sd", reservation_id, expires_at)
