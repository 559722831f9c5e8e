# SPDX-License-Identifier: Apache-2.0
"""Watching ccy-evse and ccy-bsp: their properties and active errors, never a call.

contracts.md: ccy-profinet only watches ccy-evse and ccy-bsp (PropertiesChanged, the
org.ccy.Errors1 signals, Get/GetAll). A :class:`PeerWatch` follows one peer: the owner of its
bus name (NameOwnerChanged), its main interface's properties (GetAll when it appears, then
PropertiesChanged) and its active errors (ActiveErrors when it appears, then Raised and
Cleared). When the peer vanishes everything it showed is forgotten. ``on_change`` runs after
every change, on the event loop; :class:`PeerView` is what the pure code reads.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError

from ccy.runtime import bus
from ccy.runtime.contract import ERRORS_IFACE

PROPERTIES = "org.freedesktop.DBus.Properties"


@dataclass(frozen=True)
class ActiveError:
    type: str
    subtype: str
    severity: str
    message: str


@dataclass(frozen=True)
class PeerView:
    """What one peer shows now (empty while it is not on the bus)."""

    unit: str
    present: bool = False
    props: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    errors: tuple[ActiveError, ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        return self.props.get(name, default)


def _plain(value: Any) -> Any:
    """A Variant's value with nested Variants unwrapped."""
    if isinstance(value, Variant):
        return _plain(value.value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class PeerWatch:
    def __init__(
        self,
        unit: str,
        bus_name: str,
        path: str,
        iface: str,
        on_change: Callable[[], None],
        log: logging.Logger,
    ) -> None:
        self.unit, self.bus_name, self.path, self.iface = unit, bus_name, path, iface
        self._on_change = on_change
        self._log = log
        self._owner = ""
        self._props: dict[str, Any] = {}
        self._errors: dict[tuple[str, str], ActiveError] = {}
        self._bus: MessageBus | None = None
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def view(self) -> PeerView:
        return PeerView(
            self.unit,
            bool(self._owner),
            MappingProxyType(dict(self._props)),
            tuple(self._errors.values()),
        )

    async def start(self, b: MessageBus) -> None:
        self._bus = b
        b.add_message_handler(self._on_message)
        for rule in (
            f"type='signal',sender='{self.bus_name}',path='{self.path}',"
            f"interface='{PROPERTIES}',member='PropertiesChanged',arg0='{self.iface}'",
            f"type='signal',sender='{self.bus_name}',path='{self.path}',interface='{ERRORS_IFACE}'",
        ):
            await b.call(
                Message(
                    destination=bus.BUS_DRIVER,
                    path=bus.BUS_DRIVER_PATH,
                    interface=bus.BUS_DRIVER,
                    member="AddMatch",
                    signature="s",
                    body=[rule],
                )
            )
        owner = await bus.watch_name_owner(b, self.bus_name, self._owner_changed)
        if owner:
            self._owner_changed("", owner, load=False)
            await self._load(self._generation)

    # ---------------------------------------------------------------- events
    def _owner_changed(self, old: str, new: str, load: bool = True) -> None:
        self._generation += 1
        self._owner = new
        self._props.clear()
        self._errors.clear()
        self._log.info("%s owner: %s → %s", self.bus_name, old or "none", new or "none")
        self._on_change()
        if new and load and self._bus is not None:
            task = asyncio.get_running_loop().create_task(self._load(self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _load(self, generation: int) -> None:
        """GetAll and ActiveErrors of a newly appeared owner (ignored if it changed again)."""
        assert self._bus is not None
        try:
            props = await self._call(PROPERTIES, "GetAll", "s", [self.iface])
            errors = await self._call(PROPERTIES, "Get", "ss", [ERRORS_IFACE, "ActiveErrors"])
        except (DBusError, OSError) as exc:
            self._log.warning("reading %s failed: %s", self.bus_name, exc)
            return
        if generation != self._generation:
            return
        self._props.update({k: _plain(v) for k, v in props[0].items()})
        for t, sub, severity, message, _us in _plain(errors[0]):
            self._errors[(t, sub)] = ActiveError(t, sub, severity, message)
        self._on_change()

    async def _call(self, iface: str, member: str, sig: str, body: list[Any]) -> list[Any]:
        assert self._bus is not None
        reply = await self._bus.call(
            Message(
                destination=self.bus_name,
                path=self.path,
                interface=iface,
                member=member,
                signature=sig,
                body=body,
            )
        )
        if reply is None or reply.message_type is MessageType.ERROR:
            name = reply.error_name if reply is not None else "no reply"
            raise DBusError(str(name), f"{member} on {self.bus_name}: {reply and reply.body}")
        return list(reply.body)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is not MessageType.SIGNAL or not self._owner:
            return
        if msg.sender != self._owner or msg.path != self.path:
            return
        if msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
            if msg.body[0] != self.iface:
                return
            self._props.update({k: _plain(v) for k, v in msg.body[1].items()})
            for name in msg.body[2]:
                self._props.pop(name, None)
        elif msg.interface == ERRORS_IFACE and msg.member == "Raised":
            t, sub, severity, message = (str(v) for v in msg.body[:4])
            self._errors[(t, sub)] = ActiveError(t, sub, severity, message)
        elif msg.interface == ERRORS_IFACE and msg.member == "Cleared":
            self._errors.pop((str(msg.body[0]), str(msg.body[1])), None)
        else:
            return
        self._on_change()
