# SPDX-License-Identifier: Apache-2.0
"""Bus glue shared by the units: connect to the system bus, own a name, named D-Bus errors.

``MessageBus(bus_type=SYSTEM)`` honours ``$DBUS_SYSTEM_BUS_ADDRESS``, so the same unit talks to
the device's bus or to the simulator's private one. The error names are declared in
``dbus/org.ccy.Errors1.xml``; handlers raise them through :func:`error`.
"""

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dbus_fast import BusType, DBusError, Message, MessageType, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag

from ccy.runtime.refusal import Refusal
from ccy.runtime.service import UnitStartError

T = TypeVar("T")

ERROR_PREFIX = "org.ccy.Error."
INVALID_ARGUMENT = ERROR_PREFIX + "InvalidArgument"
NOT_READY = ERROR_PREFIX + "NotReady"
NOT_PERMITTED = ERROR_PREFIX + "NotPermitted"
NOT_SUPPORTED = ERROR_PREFIX + "NotSupported"
FAILED = ERROR_PREFIX + "Failed"


class NameNotOwnedError(RuntimeError):
    """Another connection owns the unit's well-known name."""


def error(name: str, message: str) -> DBusError:
    """A named ``org.ccy.Error.*`` reply for a method handler to raise."""
    return DBusError(name, message)


def answer(action: Callable[[], T], log: logging.Logger, where: str) -> T:
    """Run a method handler's action: a :class:`~ccy.runtime.refusal.Refusal` becomes
    ``org.ccy.Error.<kind>`` with its message; anything unexpected is logged with its
    traceback and answered ``org.ccy.Error.Failed`` naming only the exception's type (its
    text might carry an identity), never a Python exception name on the bus."""
    try:
        return action()
    except Refusal as exc:
        raise error(ERROR_PREFIX + exc.kind, str(exc)) from exc
    except DBusError:
        raise
    except Exception as exc:
        log.exception("%s call failed", where)
        raise error(FAILED, f"internal error: {type(exc).__name__}") from exc


async def answer_async(action: Awaitable[T], log: logging.Logger, where: str) -> T:
    """:func:`answer` for an awaited action."""
    try:
        return await action
    except Refusal as exc:
        raise error(ERROR_PREFIX + exc.kind, str(exc)) from exc
    except DBusError:
        raise
    except Exception as exc:
        log.exception("%s call failed", where)
        raise error(FAILED, f"internal error: {type(exc).__name__}") from exc


async def connect_system_bus() -> MessageBus:
    """The system bus ($DBUS_SYSTEM_BUS_ADDRESS if set); UnitStartError when unreachable."""
    try:
        return await MessageBus(bus_type=BusType.SYSTEM).connect()
    except OSError as exc:
        where = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "the default system bus socket")
        raise UnitStartError(f"cannot connect to {where}: {exc.strerror or exc}") from exc


async def own_name(bus: MessageBus, name: str) -> None:
    """Become primary owner of ``name`` or raise; a policy denial raises DBusError AccessDenied."""
    reply = await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
    if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
        raise NameNotOwnedError(f"{name} is owned by another connection ({reply.name})")


BUS_DRIVER = "org.freedesktop.DBus"
BUS_DRIVER_PATH = "/org/freedesktop/DBus"
NAME_HAS_NO_OWNER = "org.freedesktop.DBus.Error.NameHasNoOwner"


async def _driver_call(bus: MessageBus, member: str, signature: str, body: list[Any]) -> Message:
    reply = await bus.call(
        Message(
            destination=BUS_DRIVER,
            path=BUS_DRIVER_PATH,
            interface=BUS_DRIVER,
            member=member,
            signature=signature,
            body=body,
        )
    )
    assert reply is not None
    return reply


async def watch_name_owner(
    bus: MessageBus, name: str, on_change: Callable[[str, str], None]
) -> str:
    """Call ``on_change(old_owner, new_owner)`` on every NameOwnerChanged of ``name`` (an
    owner is a unique name, "" for none) and return the owner now.

    contracts.md: a unit watches the names it calls and the names it depends on for safety
    (ccy-bsp withdraws power when the owner of org.ccy.Evse vanishes or changes).
    """

    def handler(msg: Message) -> None:
        if (
            msg.message_type is MessageType.SIGNAL
            and msg.sender == BUS_DRIVER
            and msg.interface == BUS_DRIVER
            and msg.member == "NameOwnerChanged"
            and msg.body[0] == name
        ):
            on_change(str(msg.body[1]), str(msg.body[2]))

    bus.add_message_handler(handler)
    rule = (
        f"type='signal',sender='{BUS_DRIVER}',interface='{BUS_DRIVER}',"
        f"member='NameOwnerChanged',arg0='{name}'"
    )
    reply = await _driver_call(bus, "AddMatch", "s", [rule])
    if reply.message_type is MessageType.ERROR:
        raise DBusError(str(reply.error_name), f"AddMatch for {name}: {reply.body}")
    reply = await _driver_call(bus, "GetNameOwner", "s", [name])
    if reply.message_type is MessageType.ERROR:
        if reply.error_name == NAME_HAS_NO_OWNER:
            return ""
        raise DBusError(str(reply.error_name), f"GetNameOwner {name}: {reply.body}")
    return str(reply.body[0])
