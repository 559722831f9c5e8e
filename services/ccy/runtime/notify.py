# SPDX-License-Identifier: Apache-2.0
"""sd_notify(3) without libsystemd: READY=1, STATUS=, STOPPING=1 and watchdog pings.

The protocol is one datagram to the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading "@"
means the abstract namespace). Without that variable every call is a no-op, so a unit runs the
same way by hand. The watchdog interval comes from ``$WATCHDOG_USEC`` (for this process only
when ``$WATCHDOG_PID`` is absent or equals our pid); systemd-python has no helper for that.
"""

import asyncio
import contextlib
import os
import socket

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


async def watchdog_loop(interval_s: float) -> None:
    """Ping WATCHDOG=1 every ``interval_s`` while the event loop is alive."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval_s)


def start_watchdog() -> asyncio.Task[None] | None:
    interval = watchdog_interval_s()
    if interval is None:
        return None
    return asyncio.get_running_loop().create_task(watchdog_loop(interval), name="watchdog")


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
