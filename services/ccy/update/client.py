# SPDX-License-Identifier: Apache-2.0
"""Thin dbus-fast glue to RAUC: de.pengutronix.rauc, object /, de.pengutronix.rauc.Installer.

The interface text below restates the members ccy uses (RAUC manual, "D-Bus API"; RAUC 1.8).
Every D-Bus error becomes a named :mod:`ccy.update.errors` exception; "the name has no owner"
becomes :class:`RaucNotRunningError`.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from dbus_fast import BusType, DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.introspection import Node

from ccy.update.errors import (
    InstallBusyError,
    RaucCallError,
    RaucNotRunningError,
)
from ccy.update.install import ProgressCallback
from ccy.update.model import IDLE, InstallerState, Progress, SlotStatus, slots_from_dbus

NAME = "de.pengutronix.rauc"
PATH = "/"
IFACE = "de.pengutronix.rauc.Installer"
PROPERTIES = "org.freedesktop.DBus.Properties"

_NOT_RUNNING = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
}

BUSY_TEXT = "Already processing"
"""RAUC 1.8's refusal of a call while an installation runs (a GError without a D-Bus name)."""

INTROSPECTION = f"""<node>
  <interface name="{IFACE}">
    <method name="InstallBundle">
      <arg name="source" type="s" direction="in"/>
      <arg name="args" type="a{{sv}}" direction="in"/>
    </method>
    <method name="Info">
      <arg name="bundle" type="s" direction="in"/>
      <arg name="compatible" type="s" direction="out"/>
      <arg name="version" type="s" direction="out"/>
    </method>
    <method name="Mark">
      <arg name="state" type="s" direction="in"/>
      <arg name="slot_identifier" type="s" direction="in"/>
      <arg name="slot_name" type="s" direction="out"/>
      <arg name="message" type="s" direction="out"/>
    </method>
    <method name="GetSlotStatus">
      <arg name="slot_status_array" type="a(sa{{sv}})" direction="out"/>
    </method>
    <method name="GetPrimary">
      <arg name="primary" type="s" direction="out"/>
    </method>
    <signal name="Completed"><arg name="result" type="i"/></signal>
    <property name="Operation" type="s" access="read"/>
    <property name="LastError" type="s" access="read"/>
    <property name="Progress" type="(isi)" access="read"/>
    <property name="Compatible" type="s" access="read"/>
    <property name="Variant" type="s" access="read"/>
    <property name="BootSlot" type="s" access="read"/>
  </interface>
  <interface name="{PROPERTIES}">
    <method name="Get">
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="v" direction="out"/>
    </method>
    <method name="GetAll">
      <arg type="s" direction="in"/><arg type="a{{sv}}" direction="out"/>
    </method>
    <signal name="PropertiesChanged">
      <arg type="s"/><arg type="a{{sv}}"/><arg type="as"/>
    </signal>
  </interface>
</node>"""


def _unwrap(value: Any) -> Any:
    if isinstance(value, Variant):
        return _unwrap(value.value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_unwrap(v) for v in value]
    return value


def _named(exc: DBusError) -> Exception:
    if exc.type in _NOT_RUNNING:
        return RaucNotRunningError(
            f"RAUC is not running: {NAME} is not on the system bus ({exc.text})"
        )
    return RaucCallError(exc.type, exc.text)


async def connect() -> MessageBus:
    """The system bus ($DBUS_SYSTEM_BUS_ADDRESS when set) or RaucNotRunningError."""
    try:
        return await MessageBus(bus_type=BusType.SYSTEM).connect()
    except (OSError, DBusError) as exc:
        raise RaucNotRunningError(f"RAUC is not reachable: no system bus ({exc})") from exc


class RaucClient:
    """Typed calls to RAUC's Installer; implements :class:`ccy.update.install.InstallerPort`."""

    def __init__(self, bus: MessageBus) -> None:
        obj = bus.get_proxy_object(NAME, PATH, Node.parse(INTROSPECTION))
        self._iface: Any = obj.get_interface(IFACE)
        self._props: Any = obj.get_interface(PROPERTIES)
        self._handlers: tuple[Any, Any, Any] | None = None
        self._bus = bus

    async def _call(self, member: str, *args: Any) -> Any:
        try:
            return await getattr(self._iface, "call_" + member)(*args)
        except DBusError as exc:
            raise _named(exc) from exc

    async def _get(self, prop: str) -> Any:
        try:
            value = await self._props.call_get(IFACE, prop)
        except DBusError as exc:
            raise _named(exc) from exc
        return _unwrap(value)

    async def state(self) -> InstallerState:
        try:
            values = await self._props.call_get_all(IFACE)
        except DBusError as exc:
            raise _named(exc) from exc
        return InstallerState.from_dbus(_unwrap(values))

    async def operation(self) -> str:
        return str(await self._get("Operation"))

    async def last_error(self) -> str:
        return str(await self._get("LastError"))

    async def slot_status(self) -> list[SlotStatus]:
        return slots_from_dbus(_unwrap(await self._call("get_slot_status")))

    async def primary(self) -> str:
        return str(await self._call("get_primary"))

    async def mark(self, state: str, slot: str) -> tuple[str, str]:
        """Mark(state, slot): state good|bad|active, slot booted|other|<name>."""
        name, message = await self._call("mark", state, slot)
        return str(name), str(message)

    async def info(self, bundle: str) -> tuple[str, str]:
        """Info(bundle) → (compatible, version), signature checked against the keyring."""
        compatible, version = await self._call("info", bundle)
        return str(compatible), str(version)

    async def install_bundle(self, source: str) -> None:
        try:
            await self._iface.call_install_bundle(source, {})
        except DBusError as exc:
            busy = BUSY_TEXT in (exc.text or "")
            if busy or (exc.type not in _NOT_RUNNING and await self.operation() != IDLE):
                raise InstallBusyError(
                    "RAUC is busy: another installation is running; "
                    f"wait for it to complete ({exc.text})"
                ) from exc
            raise _named(exc) from exc

    async def watch(self, on_progress: ProgressCallback) -> Awaitable[int]:
        """Forward Progress changes to ``on_progress``; the result is Completed's value.

        Should RAUC leave the bus before Completed (stopped or crashed), the awaitable raises
        :class:`RaucNotRunningError` instead of waiting forever.
        """
        self.unwatch()
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def changed(iface: str, changed: dict[str, Variant], _gone: list[str]) -> None:
            if iface == IFACE and "Progress" in changed:
                on_progress(Progress.from_dbus(_unwrap(changed["Progress"])))

        def completed(result: int) -> None:
            if not done.done():
                done.set_result(int(result))

        def owner(msg: Message) -> None:
            if (
                msg.message_type == MessageType.SIGNAL
                and msg.member == "NameOwnerChanged"
                and msg.body[:1] == [NAME]
                and not msg.body[2]
                and not done.done()
            ):
                done.set_exception(
                    RaucNotRunningError(f"RAUC left the bus during the installation ({NAME})")
                )

        await self._bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[
                    "type='signal',sender='org.freedesktop.DBus',"
                    f"member='NameOwnerChanged',arg0='{NAME}'"
                ],
            )
        )
        self._bus.add_message_handler(owner)
        self._props.on_properties_changed(changed)
        self._iface.on_completed(completed)
        self._handlers = (changed, completed, owner)
        return done

    def unwatch(self) -> None:
        if self._handlers is not None:
            changed, completed, owner = self._handlers
            self._handlers = None
            self._props.off_properties_changed(changed)
            self._iface.off_completed(completed)
            self._bus.remove_message_handler(owner)
