# SPDX-License-Identifier: Apache-2.0
"""sd_notify(3) without libsystemd: READY=1, STATUS=, STOPPING=1 and watchdog pings.

The protocol is one datagram to the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading "@"
means the abstract namespace). Without that variable every call is a no-op, so a unit runs the
same way by hand. The watchdog interval comes from ``$WATCHDOG_USEC`` (for this process only
when ``$WATCHDOG_PID`` is absent or equals our pid); systemd-python has no helper for that.

The ping is withheld while the unit reports itself unhealthy (``healthy()`` False): systemd
then kills and restarts it after WatchdogSec, while the hardware's own watchdog (for ccy-bsp
the safety MCU's host timeout) keeps the charger safe meanwhile.
"""

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

NOTIFY_ENV = "NOTIFY_SOCKET"


def _address(raw: str) -> str | bytes:
    return b"\0" + raw[1:].encode() if raw.startswith("@") else raw


def notify(*assignments: str) -> bool:
    """Send ``KEY=value`` lines to the service manager; False when nobody listens."""
    raw = os.environ.get(NOTIFY_ENV)
    if not raw:
        return False
    message = "\n".join(assignments).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        # Never block the unit's event loop: a manager that does not read (its queue full)
        # loses this datagram (False), it does not stall the unit, watchdog pings included.
        sock.setblocking(False)
        try:
            sock.sendto(message, _address(raw))
        except OSError:
            return False
    return True


def ready(status: str = "") -> bool:
    return notify("READY=1", f"STATUS={status}") if status else notify("READY=1")


def status(text: str) -> bool:
    return notify(f"STATUS={text}")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval_s() -> float | None:
    """Half of the watchdog timeout systemd expects pings within, or None when disabled."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        timeout_us = int(usec)
    except ValueError:
        return None
    return timeout_us / 2_000_000 if timeout_us > 0 else None


def _always() -> bool:
    return True


async def watchdog_loop(
    interval_s: float,
    healthy: Callable[[], bool] = _always,
    log: logging.Logger | None = None,
) -> None:
    """Ping WATCHDOG=1 every ``interval_s`` while the loop is alive and ``healthy()``."""
    withheld = False
    while True:
        try:
            ok = healthy()
        except Exception:
            if log is not None:
                log.exception("health check failed; counted as unhealthy")
            ok = False
        if ok:
            notify("WATCHDOG=1")
            if withheld and log is not None:
                log.warning("healthy again: watchdog pings resumed")
            withheld = False
        elif not withheld:
            withheld = True
            if log is not None:
                log.critical("unhealthy: watchdog pings withheld, systemd will restart the unit")
        await asyncio.sleep(interval_s)


def start_watchdog(
    healthy: Callable[[], bool] = _always, log: logging.Logger | None = None
) -> asyncio.Task[None] | None:
    interval = watchdog_interval_s()
    if interval is None:
        return None
    return asyncio.get_running_loop().create_task(
        watchdog_loop(interval, healthy, log), name="watchdog"
    )


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
