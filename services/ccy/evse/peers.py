# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's peers on the bus: org.ccy.Bsp (Bsp1) and org.ccy.Profinet (PowerStage1).

For each: watch the owner (ccy.runtime.bus.watch_name_owner), GetAll when it appears (a
restarted peer included), follow PropertiesChanged of its main interface and of its
org.ccy.Errors1 (ActiveErrors) from that owner only, and record every Raised/Cleared in the
error history. Calls: Bsp1.Enable/SetCcsReady/AllowPowerOn and PowerStage1.SetMode/
StartSelfTest are awaited in their own task (a refusal goes back to the core as an input);
PowerStage1.SetTarget goes out with NO_REPLY_EXPECTED and is never awaited (the hot path).
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import Message, MessageFlag, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.bsp import contract as bsp
from ccy.profinet import contract as stage
from ccy.runtime import bus as rbus
from ccy.runtime.contract import ERRORS_IFACE

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


def unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value


class Peers:
    """Calls back ``on_present(peer, present, props)``, ``on_props(peer, props)``,
    ``on_errors(peer, active)`` and ``on_history(peer, kind, body)``."""

    def __init__(
        self,
        b: MessageBus,
        log: logging.Logger,
        on_present: Callable[[Peer, bool, dict[str, Any]], None],
        on_props: Callable[[Peer, dict[str, Any]], None],
        on_errors: Callable[[Peer, list[tuple[str, str, str, str, int]]], None],
        on_history: Callable[[Peer, str, list[Any]], None],
        spawn: Callable[[Any, str], Any],
    ) -> None:
        self.bus = b
        self.log = log
        self.owner: dict[str, str] = {}
        self._on_present = on_present
        self._on_props = on_props
        self._on_errors = on_errors
        self._on_history = on_history
        self._spawn = spawn

    async def start(self) -> None:
        self.bus.add_message_handler(self._handler)
        for peer in PEERS:
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

    def _owner_changed(self, peer: Peer, new: str) -> None:
        self.owner[peer.unit] = new
        if not new:
            self.log.warning("%s vanished from the bus", peer.bus_name)
            self._on_present(peer, False, {})
            return
        self._spawn(self._appeared(peer, new), f"peer-{peer.unit}")

    async def _appeared(self, peer: Peer, owner: str) -> None:
        try:
            props = await self._get_all(peer, peer.iface)
            errors = await self._get_all(peer, ERRORS_IFACE)
        except Exception as exc:  # gone again, or not yet exported: the next change retries
            self.log.warning("%s: GetAll failed: %s", peer.bus_name, exc)
            return
        if self.owner.get(peer.unit) != owner:
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
        for peer in PEERS:
            if msg.path != peer.path or msg.sender != self.owner.get(peer.unit):
                continue
            if msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
                iface, changed = msg.body[0], {k: unwrap(v) for k, v in msg.body[1].items()}
                if iface == peer.iface:
                    self._on_props(peer, changed)
                elif iface == ERRORS_IFACE and "ActiveErrors" in changed:
                    self._on_errors(peer, [tuple(e) for e in changed["ActiveErrors"]])
            elif msg.interface == ERRORS_IFACE and msg.member in ("Raised", "Cleared"):
                self._on_history(peer, str(msg.member), list(msg.body))
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
