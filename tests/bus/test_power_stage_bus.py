# SPDX-License-Identifier: Apache-2.0
"""The simulated power stage (python -m ccy.sim.power_stage) on a private bus, as ccy-evse sees it.

A real dbus-daemon with ccy's policy files plus the sandbox grant for the invoking user (as
ccy.sim.stack does), the server as a real process (READY=1 on $NOTIFY_SOCKET once it owns
the name), and a dbus-fast client at message level: the running introspection equals
dbus/org.ccy.PowerStage1.xml and org.ccy.Errors1.xml, the voltage ramps with PropertiesChanged,
a SetTarget sent with NO_REPLY_EXPECTED is applied, the lease runs out without fresh
setpoints, and bad arguments are org.ccy.Error.InvalidArgument.
"""

import asyncio
import getpass
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageFlag, MessageType
from dbus_fast.aio import MessageBus

from ccy.profinet.contract import (
    BUS_NAME,
    CALLER_BUS_NAME,
    ERRORS_IFACE,
    IFACE,
    LEASE_EXPIRED,
    OBJECT_PATH,
)
from ccy.testing.bus_daemon import PrivateBus, user_policy
from ccy.testing.folders import traversable_tmp
from ccy.testing.introspection import differences, interfaces

# No root mark: the sandbox policy grants the invoking user what ccy's users get (issue 10).
TOP = Path(__file__).resolve().parents[2]
READY_WAIT_S = 30.0
"""Generous: start-up of a Python process on a loaded 2-core machine."""
WAIT_S = 15.0
"""Generous bound for anything the stage does within a few seconds of model time."""
PROPERTIES = "org.freedesktop.DBus.Properties"


@dataclass
class Server:
    bus: PrivateBus
    proc: "subprocess.Popen[bytes]"
    stderr: Path

    @property
    def address(self) -> str:
        return self.bus.address


def _wait_ready(sock: socket.socket, proc: "subprocess.Popen[bytes]", stderr: Path) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}: {stderr.read_text()}")
        try:
            if b"READY=1" in sock.recv(4096).split(b"\n"):
                return
        except TimeoutError:
            continue
    pytest.fail(f"no READY=1 within {READY_WAIT_S} s: {stderr.read_text()}")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    directory = traversable_tmp("ccy-power-stage-")
    bus = PrivateBus(directory / "bus", [TOP / "dbus" / "policy"], user_policy(getpass.getuser()))
    bus.start()
    notify_path = directory / "notify"
    stderr = directory / "server.err"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify_path))
        env = {**bus.environ(), "NOTIFY_SOCKET": str(notify_path)}
        with stderr.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ccy.sim.power_stage", "--tick-ms", "20"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        try:
            _wait_ready(sock, proc, stderr)
            yield Server(bus, proc, stderr)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            bus.stop()
            shutil.rmtree(directory, ignore_errors=True)


# ------------------------------------------------------------------ client


@dataclass
class Client:
    """ccy-evse's side at message level: calls, Get, and every signal of the stage's object."""

    bus: MessageBus
    changes: list[dict[str, Any]] = field(default_factory=list)
    """PowerStage1 PropertiesChanged: {property: value}, in arrival order."""
    signals: list[tuple[str, str, list[Any]]] = field(default_factory=list)
    """(interface, member, body) of every signal from the stage's object."""

    def on_message(self, msg: Message) -> None:
        if msg.message_type is not MessageType.SIGNAL or msg.path != OBJECT_PATH:
            return
        self.signals.append((str(msg.interface), str(msg.member), list(msg.body)))
        if (msg.interface, msg.member, msg.body[0]) == (PROPERTIES, "PropertiesChanged", IFACE):
            self.changes.append({k: v.value for k, v in msg.body[1].items()})

    def message(self, member: str, signature: str = "", body: tuple[Any, ...] = ()) -> Message:
        return Message(
            destination=BUS_NAME,
            path=OBJECT_PATH,
            interface=IFACE,
            member=member,
            signature=signature,
            body=list(body),
        )

    async def call(self, member: str, signature: str = "", *body: Any) -> Message:
        reply = await self.bus.call(self.message(member, signature, body))
        assert reply is not None
        return reply

    async def ok(self, member: str, signature: str = "", *body: Any) -> None:
        reply = await self.call(member, signature, *body)
        assert reply.message_type is MessageType.METHOD_RETURN, (member, reply.body)

    async def get(self, name: str, interface: str = IFACE) -> Any:
        reply = await self.bus.call(
            Message(
                destination=BUS_NAME,
                path=OBJECT_PATH,
                interface=PROPERTIES,
                member="Get",
                signature="ss",
                body=[interface, name],
            )
        )
        assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
        return reply.body[0].value

    async def off(self) -> None:
        """Start each scenario from Off at 0 V with no LeaseExpired (an accepted SetMode clears
        it) and nothing recorded yet."""
        await self.ok("SetMode", "s", "Off")

        async def discharged() -> bool:
            return bool(await self.get("PresentVoltage") == 0.0)

        await eventually(discharged)
        self.changes.clear()
        self.signals.clear()


@asynccontextmanager
async def client(address: str) -> AsyncIterator[Client]:
    bus = await MessageBus(bus_address=address).connect()
    c = Client(bus)
    bus.add_message_handler(c.on_message)
    reply = await bus.call(
        Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="AddMatch",
            signature="s",
            body=[f"type='signal',path='{OBJECT_PATH}'"],
        )
    )
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
    try:
        await c.off()
        yield c
    finally:
        bus.disconnect()


async def eventually(probe: Callable[[], Any], timeout_s: float = WAIT_S) -> None:
    """Wait until ``probe()`` (sync or async) is truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            assert value, f"not within {timeout_s} s"
            return
        await asyncio.sleep(0.05)


async def renew(c: Client, voltage: float, current: float, period_s: float = 0.2) -> None:
    """Keep the lease as ccy-evse does (well within LeaseSeconds / 2)."""
    while True:
        await c.ok("SetTarget", "dd", voltage, current)
        await asyncio.sleep(period_s)


# ------------------------------------------------------------------ tests


def test_running_introspection_equals_the_contract_xml(server: Server) -> None:
    r = subprocess.run(
        [
            "busctl",
            f"--address={server.address}",
            "--no-pager",
            "introspect",
            "--xml-interface",
            BUS_NAME,
            OBJECT_PATH,
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    live = interfaces(r.stdout)
    for name in (IFACE, ERRORS_IFACE):
        xml = interfaces((TOP / "dbus" / f"{name}.xml").read_text())[name]
        assert name in live, f"{BUS_NAME} does not export {name}"
        assert differences(live[name], xml) == [], name
    assert {n for n in live if n.startswith("org.ccy.")} == {IFACE, ERRORS_IFACE}


def test_cable_check_ramps_the_voltage_with_properties_changed(server: Server) -> None:
    async def scenario() -> None:
        async with client(server.address) as c:
            await c.ok("SetMode", "s", "CableCheck")
            keep = asyncio.create_task(renew(c, 400.0, 5.0))
            try:
                await eventually(
                    lambda: any(ch.get("PresentVoltage", 0) >= 396 for ch in c.changes)
                )
                assert await c.get("Mode") == "CableCheck"
                assert await c.get("TargetVoltage") == 400.0
                # the IMD measures once the voltage is reached (the model's 10 Mohm: Valid)
                await eventually(
                    lambda: any(ch.get("IsolationStatus") == "Valid" for ch in c.changes)
                )
            finally:
                keep.cancel()
            seen = [ch["PresentVoltage"] for ch in c.changes if "PresentVoltage" in ch]
            ramp = [v for v in seen if 0 < v < 396]
            assert len(ramp) >= 2, seen  # intermediate values: a ramp, not a jump
            rising = seen[: seen.index(next(v for v in seen if v >= 396)) + 1]
            assert rising == sorted(rising), rising
            await c.off()

    asyncio.run(scenario())


def test_set_target_without_reply_is_applied(server: Server) -> None:
    async def scenario() -> None:
        async with client(server.address) as c:
            msg = c.message("SetTarget", "dd", (321.0, 7.0))
            msg.flags = MessageFlag.NO_REPLY_EXPECTED
            await c.bus.send(msg)
            await eventually(lambda: any(ch.get("TargetVoltage") == 321.0 for ch in c.changes))
            assert await c.get("TargetVoltage") == 321.0
            assert await c.get("TargetCurrent") == 7.0
            # an invalid one without reply changes nothing and the server lives on
            bad = c.message("SetTarget", "dd", (math.nan, 1.0))
            bad.flags = MessageFlag.NO_REPLY_EXPECTED
            await c.bus.send(bad)
            await c.ok("SetMode", "s", "Off")
            assert await c.get("TargetVoltage") == 321.0

    asyncio.run(scenario())


def test_lease_expires_without_fresh_setpoints(server: Server) -> None:
    async def scenario() -> None:
        async with client(server.address) as c:
            assert await c.get("LeaseSeconds") == 1.0
            await c.ok("SetMode", "s", "CableCheck")
            await c.ok("SetTarget", "dd", 300.0, 5.0)
            # nothing more: within LeaseSeconds the stage goes Off by itself
            raised = ("org.ccy.Errors1", "Raised")

            def lease_raised() -> bool:
                return any(s[:2] == raised and s[2][0] == LEASE_EXPIRED.name for s in c.signals)

            await eventually(lease_raised)
            assert await c.get("Mode") == "Off"
            assert any(ch.get("Mode") == "Off" for ch in c.changes)
            active = await c.get("ActiveErrors", ERRORS_IFACE)
            assert [e[0] for e in active] == [LEASE_EXPIRED.name]
            assert active[0][2] == "High"
            # the next accepted SetMode clears it
            await c.ok("SetMode", "s", "Off")
            await eventually(lambda: any(s[1] == "Cleared" for s in c.signals))
            assert await c.get("ActiveErrors", ERRORS_IFACE) == []

    asyncio.run(scenario())


def test_stage_goes_off_when_the_caller_vanishes(server: Server) -> None:
    async def scenario() -> None:
        async with client(server.address) as c:
            evse = await MessageBus(bus_address=server.address).connect()
            try:
                await evse.request_name(CALLER_BUS_NAME)
                await c.ok("SetMode", "s", "CableCheck")
                keep = asyncio.create_task(renew(c, 300.0, 5.0))  # the lease stays fresh
                try:
                    await eventually(
                        lambda: any(ch.get("PresentVoltage", 0) > 0 for ch in c.changes)
                    )
                    c.changes.clear()
                    evse.disconnect()
                    await eventually(lambda: any(ch.get("Mode") == "Off" for ch in c.changes))
                finally:
                    keep.cancel()
            finally:
                evse.disconnect()
            assert await c.get("Mode") == "Off"
            assert await c.get("ActiveErrors", ERRORS_IFACE) == []  # not the lease: the caller

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("member", "signature", "body"),
    [
        ("SetMode", "s", ("Boost",)),
        ("SetMode", "s", ("off",)),
        ("SetTarget", "dd", (-1.0, 5.0)),
        ("SetTarget", "dd", (400.0, math.nan)),
        ("SetTarget", "dd", (math.inf, 5.0)),
    ],
)
def test_bad_arguments_are_invalid_argument(
    server: Server, member: str, signature: str, body: tuple[Any, ...]
) -> None:
    async def scenario() -> None:
        async with client(server.address) as c:
            await c.ok("SetTarget", "dd", 200.0, 3.0)
            reply = await c.call(member, signature, *body)
            assert reply.message_type is MessageType.ERROR
            assert reply.error_name == "org.ccy.Error.InvalidArgument", reply.body
            assert await c.get("Mode") == "Off"
            assert await c.get("TargetVoltage") == 200.0  # nothing changed
            assert await c.get("TargetCurrent") == 3.0

    asyncio.run(scenario())


def test_no_bus_is_one_line_and_exit_69(tmp_path: Path) -> None:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'none'}"}
    r = subprocess.run(
        [sys.executable, "-m", "ccy.sim.power_stage"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 69, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect" in lines[0], r.stderr
