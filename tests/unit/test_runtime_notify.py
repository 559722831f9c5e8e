# SPDX-License-Identifier: Apache-2.0
"""sd_notify over a real AF_UNIX datagram socket, as systemd's notify socket receives it."""

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.runtime import notify


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_ready_with_status_is_one_datagram(listener: socket.socket) -> None:
    assert notify.ready("link up")
    assert listener.recv(1024) == b"READY=1\nSTATUS=link up"


def test_a_manager_that_does_not_read_never_stalls_the_unit(listener: socket.socket) -> None:
    """A full queue (nobody reads) drops the datagram at once; the call does not block."""
    sent = [notify.notify(f"STATUS={'x' * 512} {i}") for i in range(5000)]
    assert sent[0] is True and sent[-1] is False  # the queue filled, then sends were dropped
    assert listener.recv(2048).startswith(b"STATUS=")  # what was queued is intact


def test_abstract_namespace_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"ccy-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert notify.stopping()
        assert sock.recv(64) == b"STOPPING=1"


def test_without_a_manager_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify.ready() is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("10000000", None, 5.0),
        ("10000000", "self", 5.0),
        ("10000000", "1", None),
        ("0", None, None),
        ("junk", None, None),
        (None, None, None),
    ],
)
def test_watchdog_interval_is_half_the_timeout_for_this_process(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for key, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, str(os.getpid()) if value == "self" else value)
    assert notify.watchdog_interval_s() == expected


def _run_checks(answers: list[bool | Exception]) -> None:
    """Run the watchdog loop for exactly ``len(answers)`` health checks."""

    def healthy() -> bool:
        if not answers:
            raise asyncio.CancelledError  # ends the loop after the last answer
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await notify.watchdog_loop(0, healthy)

    asyncio.run(run())


def _received(sock: socket.socket) -> list[bytes]:
    sock.setblocking(False)
    got = []
    with contextlib.suppress(BlockingIOError):
        while True:
            got.append(sock.recv(64))
    return got


def test_the_watchdog_ping_stops_while_the_unit_is_unhealthy(listener: socket.socket) -> None:
    _run_checks([True, False, False, True, True])
    assert _received(listener) == [b"WATCHDOG=1"] * 3


def test_a_health_check_that_raises_counts_as_unhealthy(listener: socket.socket) -> None:
    _run_checks([RuntimeError("bug"), RuntimeError("bug")])
    assert _received(listener) == []
