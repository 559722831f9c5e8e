# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's peers on the bus: org.ccy.Bsp (Bsp1) and org.ccy.Profinet (PowerStage1), and
the units it only watches: org.ccy.V2g (V2g1) and org.ccy.Auth (Auth1).

For each: watch the owner (ccy.runtime.bus.watch_name_owner), GetAll when it appears (a
restarted peer included), follow PropertiesChanged of its main interface (peers only) and of
its org.ccy.Errors1 (ActiveErrors) from that owner only, and record every Raised/Cleared in the
error history. From ccy-v2g also V2g1.V2gMessage (the session log's v2g.jsonl); nothing is
ever called on a watched unit (contracts.md: watching only).

Calls: Bsp1.Enable/SetCcsReady/AllowPowerOn and PowerStage1.SetMode/StartSelfTest are
awaited in their own task (a refusal goes back to the core as an input); PowerStage1.SetTarget
goes out with NO_REPLY_EXPECTED and is never awaited (the hot path).
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import Message, MessageFlag, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.auth import contract as auth
from ccy.bsp import contract as bsp
from ccy.profinet import contract as stage
from ccy.runtime import bus as rbus
from ccy.runtime.contract import ERRORS_IFACE
from ccy.v2g import contract as v2g

PROPERTIES = "org.freedesktop.DBus.Properties"


@dataclass(frozen=True)
class Peer:
    unit: str
    bus_name: str
    path: str
    iface: str


BSP = Peer(bsp.UNIT, bsp.BUS_NAME, bsp.OBJECT_PATH, bsp.IFACE)
STAGE = Peer(stage.UNIT, stage.BUS_NAME, stage.OBJECT_PATH, stage.IFACE)
PEERS = (BSP, STAGE)
"""The units a session needs: their state drives the core."""
V2G = Peer(v2g.UNIT, v2g.BUS_NAME, v2g.OBJECT_PATH, v2g.IFACE)
AUTH = Peer(auth.UNIT, auth.BUS_NAME, auth.OBJECT_PATH, auth.IFACE)
WATCHED = (V2G, AUTH)
"""Units only watched: their Errors1 (error history, session log) and ccy-v2g's V2gMessage."""
ALL = PEERS + WATCHED
V2G_MESSAGE = str(v2g.Signal.V2G_MESSAGE)


def unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value


class Peers:
    """Calls back ``on_present(peer, present, props)``, ``on_props(peer, props)``,
    ``on_errors(peer, active)``, ``on_history(peer, kind, body)`` and ``on_v2g(body)``
    (V2gMessage's direction, name, json, exi_hex). For a watched unit ``on_present`` gets no
    properties and ``on_props`` is never called."""

    def __init__(
        self,
        b: MessageBus,
        log: logging.Logger,
        on_present: Callable[[Peer, bool, dict[str, Any]], None],
        on_props: Callable[[Peer, dict[str, Any]], None],
        on_errors: Callable[[Peer, list[tuple[str, str, str, str, int]]], None],
        on_history: Callable[[Peer, str, list[Any]], None],
        spawn: Callable[[Any, str], Any],
        on_v2g: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self.bus = b
        self.log = log
        self.owner: dict[str, str] = {}
        self._on_present = on_present
        self._on_props = on_props
        self._on_errors = on_errors
        self._on_history = on_history
        self._spawn = spawn
        self._on_v2g = on_v2g
        self.closed = False

    async def start(self) -> None:
        self.bus.add_message_handler(self._handler)
        for peer in ALL:
            rule = f"type='signal',sender='{peer.bus_name}',path='{peer.path}'"
            await self.bus.call(
                Message(
                    destination=rbus.BUS_DRIVER,
                    path=rbus.BUS_DRIVER_PATH,
                    interface=rbus.BUS_DRIVER,
                    member="AddMatch",
                    signature="s",
                    body=[rule],
                )
            )
            owner = await rbus.watch_name_owner(self.bus, peer.bus_name, self._watcher(peer))
            if owner:
                self._owner_changed(peer, owner)

    def _watcher(self, peer: Peer) -> Callable[[str, str], None]:
        def changed(old: str, new: str) -> None:
            self._owner_changed(peer, new)

        return changed

    def close(self) -> None:
        """Stop following the peers (the unit stops): no callback after this."""
        self.closed = True
        self.bus.remove_message_handler(self._handler)

    def _owner_changed(self, peer: Peer, new: str) -> None:
        if self.closed:
            return
        self.owner[peer.unit] = new
        if not new:
            self.log.warning("%s vanished from the bus", peer.bus_name)
            self._on_present(peer, False, {})
            return
        self._spawn(self._appeared(peer, new), f"peer-{peer.unit}")

    async def _appeared(self, peer: Peer, owner: str) -> None:
        try:
            props = await self._get_all(peer, peer.iface) if peer in PEERS else {}
            errors = await self._get_all(peer, ERRORS_IFACE)
        except Exception as exc:  # gone again, or not yet exported: the next change retries
            self.log.warning("%s: GetAll failed: %s", peer.bus_name, exc)
            return
        if self.closed or self.owner.get(peer.unit) != owner:
            return
        self.log.info("%s is on the bus (%s)", peer.bus_name, owner)
        self._on_present(peer, True, props)
        self._on_errors(peer, [tuple(e) for e in errors.get("ActiveErrors", [])])

    async def _get_all(self, peer: Peer, iface: str) -> dict[str, Any]:
        reply = await self.bus.call(
            Message(
                destination=peer.bus_name,
                path=peer.path,
                interface=PROPERTIES,
                member="GetAll",
                signature="s",
                body=[iface],
            )
        )
        if reply is None or reply.message_type is MessageType.ERROR:
            raise RuntimeError(f"{iface}: {reply.error_name if reply else 'no reply'}")
        return {k: unwrap(v) for k, v in reply.body[0].items()}

    def _handler(self, msg: Message) -> None:
        if msg.message_type is not MessageType.SIGNAL:
            return
        for peer in ALL:
            if msg.path != peer.path or msg.sender != self.owner.get(peer.unit):
                continue
            if msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
                iface, changed = msg.body[0], {k: unwrap(v) for k, v in msg.body[1].items()}
                if iface == peer.iface and peer in PEERS:
                    self._on_props(peer, changed)
                elif iface == ERRORS_IFACE and "ActiveErrors" in changed:
                    self._on_errors(peer, [tuple(e) for e in changed["ActiveErrors"]])
            elif msg.interface == ERRORS_IFACE and msg.member in ("Raised", "Cleared"):
                self._on_history(peer, str(msg.member), list(msg.body))
            elif (
                peer is V2G
                and msg.interface == v2g.IFACE
                and msg.member == V2G_MESSAGE
                and msg.signature == "ssss"
                and self._on_v2g is not None
            ):
                self._on_v2g(list(msg.body))
            return

    # ---------------------------------------------------------------- calls
    def send_no_reply(self, peer: Peer, member: str, signature: str, body: list[Any]) -> None:
        self.bus.send(
            Message(
                destination=peer.bus_name,
                path=peer.path,
                interface=peer.iface,
                member=member,
                signature=signature,
                body=body,
                flags=MessageFlag.NO_REPLY_EXPECTED,
            )
        )

    async def call(self, peer: Peer, member: str, signature: str, body: list[Any]) -> str | None:
        """None when accepted, else the error text."""
        try:
            reply = await asyncio.wait_for(
                self.bus.call(
                    Message(
                        destination=peer.bus_name,
                        path=peer.path,
                        interface=peer.iface,
                        member=member,
                        signature=signature,
                        body=body,
                    )
                ),
                2.0,
            )
        except (TimeoutError, OSError, EOFError) as exc:
            return f"no answer: {exc!r}"
        if reply is None:
            return "no reply"
        if reply.message_type is MessageType.ERROR:
            return f"{reply.error_name}: {reply.body[0] if reply.body else ''}"
        return None
