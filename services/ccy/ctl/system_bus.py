# SPDX-License-Identifier: Apache-2.0
"""ccyctl's connection to the system bus, with named timeouts and one-line failures.

The bus is the system bus, or ``$DBUS_SYSTEM_BUS_ADDRESS`` when set (``ccy-sim up`` prints the
simulator's). Connecting and every call are bounded by ``--timeout`` (default
DEFAULT_TIMEOUT_S), so a stuck unit is reported, not waited for.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError, InvalidAddressError

from ccy.ctl.failure import BUS_FIX, GROUP, CtlError, ExitCode, from_dbus, no_answer

ADDRESS_ENV = "DBUS_SYSTEM_BUS_ADDRESS"
DEFAULT_SOCKET = "/run/dbus/system_bus_socket"
DEFAULT_TIMEOUT_S = 10.0
"""How long ccyctl waits for the bus or a unit to answer one request."""

T = TypeVar("T")


def bus_address() -> str:
    """Where ccyctl looks for the system bus, for messages."""
    return os.environ.get(ADDRESS_ENV) or f"unix:path={DEFAULT_SOCKET}"


async def connect(timeout_s: float = DEFAULT_TIMEOUT_S) -> MessageBus:
    """A connection to the system bus, or CtlError naming the address and the fix."""
    where = bus_address()
    try:
        return await asyncio.wait_for(MessageBus(bus_type=BusType.SYSTEM).connect(), timeout_s)
    except TimeoutError:
        raise CtlError(
            f"the system bus at {where} did not answer within {timeout_s:g} s", *BUS_FIX
        ) from None
    except PermissionError:
        raise CtlError(
            f"no access to the system bus at {where}",
            f"run as root or as a member of group {GROUP}",
            ExitCode.NO_PERMISSION,
        ) from None
    except OSError as exc:
        raise CtlError(f"no system bus at {where}: {exc.strerror or exc}", *BUS_FIX) from None
    except InvalidAddressError as exc:
        raise CtlError(f"{ADDRESS_ENV} is not a D-Bus address: {exc}", *BUS_FIX) from None
    except AuthError as exc:
        raise CtlError(
            f"the system bus at {where} refused ccyctl: {exc}",
            f"run as root or as a member of group {GROUP}",
            ExitCode.NO_PERMISSION,
        ) from None


@asynccontextmanager
async def system_bus(timeout_s: float = DEFAULT_TIMEOUT_S) -> AsyncIterator[MessageBus]:
    """``async with system_bus() as bus``: connected, disconnected on the way out."""
    bus = await connect(timeout_s)
    try:
        yield bus
    finally:
        bus.disconnect()


async def answer_within(request: Awaitable[T], unit: str, timeout_s: float) -> T:
    """The reply of ``request`` to ``unit``; CtlError naming ``unit`` when none or an error came."""
    try:
        return await asyncio.wait_for(request, timeout_s)
    except TimeoutError:
        raise no_answer(unit, timeout_s) from None
    except DBusError as exc:
        raise from_dbus(exc, unit) from exc
