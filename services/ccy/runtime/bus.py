# SPDX-License-Identifier: Apache-2.0
"""Bus glue shared by the units: connect to the system bus, own a name, named D-Bus errors.

``MessageBus(bus_type=SYSTEM)`` honours ``$DBUS_SYSTEM_BUS_ADDRESS``, so the same unit talks to
the device's bus or to the simulator's private one. The error names are declared in
``dbus/org.ccy.Errors1.xml``; handlers raise them through :func:`error`.
"""

import os

from dbus_fast import BusType, DBusError, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag

from ccy.runtime.service import UnitStartError

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
