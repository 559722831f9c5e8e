# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet in profinet.mode simulated on the simulated stack's private bus.

A stack of only ccy-bsp (ccy.sim.stack_table.BSP_ONLY: real dbus-daemon with ccy's
policies, the MCU simulator on a pty, the real ccy-bsp) plus ccy-profinet as a real process
(``python -m ccy.profinet.main --root DIR``, READY=1 on $NOTIFY_SOCKET). Checked: both
objects' live introspection equals dbus/org.ccy.Profinet1.xml, dbus/org.ccy.PowerStage1.xml
and org.ccy.Errors1.xml; Profinet1 shows the simulated mode; PowerStage1 serves (ramp,
Discharge, the lease, Off when org.ccy.Evse vanishes); the sim-only fault interface injects
faults; the watcher of ccy-bsp turns its E-stop into a diagnosis and clears it again;
ccyctl profinet reads the unit.
"""

import asyncio
import contextlib
import getpass
import math
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.profinet.contract import (
    BUS_NAME,
    CALLER_BUS_NAME,
    ERRORS_IFACE,
    FAULTS_IFACE,
    FAULTS_OBJECT_PATH,
    IFACE,
    ISOLATION_FAULT,
    LEASE_EXPIRED,
    OBJECT_PATH,
    PROFINET_IFACE,
    PROFINET_OBJECT_PATH,
    SUPPLY_FAULT,
)
from ccy.sim.mcu.control import mcu_control_path, send_command
from ccy.sim.stack import Stack
from ccy.testing.folders import traversable_tmp
from ccy.testing.introspection import differences, interfaces

TOP = Path(__file__).resolve().parents[2]
READY_WAIT_S = 30.0
WAIT_S = 15.0
PROPERTIES = "org.freedesktop.DBus.Properties"
CONFIG = """\
profinet:
  mode: simulated
  stage_tick_ms: 20
  sim_voltage_slew_Vps: 2000.0
  sim_discharge_Vps: 3000.0
  sim_isolation_delay_ms: 100
"""


@dataclass
class Unit:
    address: str
    proc: "subprocess.Popen[bytes]"
    log: Path
    stack_dir: Path


def _wait_ready(sock: socket.socket, proc: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ccy-profinet exited {proc.returncode}: {log.read_text()}")
        try:
            if b"READY=1" in sock.recv(4096).split(b"\n"):
                return
        except TimeoutError:
            continue
    pytest.fail(f"no READY=1 within {READY_WAIT_S} s: {log.read_text()}")


def _drain(sock: socket.socket) -> None:
    sock.settimeout(None)
    with contextlib.suppress(OSError):
        while sock.recv(4096):
            pass


@pytest.fixture(scope="module")
def bsp_stack() -> Iterator[Stack]:
    """The private bus, the MCU simulator and the real ccy-bsp: nothing else of the stack."""
    directory = traversable_tmp("ccy-stack-bsp-")
    s = Stack(directory, table="ccy.sim.stack_table:BSP_ONLY")
    s.up()
    try:
        yield s
    finally:
        s.down()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def unit(bsp_stack: Stack) -> Iterator[Unit]:
    stack = bsp_stack
    directory = traversable_tmp("ccy-profinet-")
    (directory / "etc/ccy").mkdir(parents=True)
    (directory / "etc/ccy/config.yaml").write_text(CONFIG)
    notify_path = directory / "notify"
    log = directory / "ccy-profinet.log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify_path))
        env = {
            "PATH": "/usr/bin:/bin",
            "DBUS_SYSTEM_BUS_ADDRESS": stack.address(),
            "NOTIFY_SOCKET": str(notify_path),
            "USER": getpass.getuser(),
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ccy.profinet.main", "--root", str(directory)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            _wait_ready(sock, proc, log)
            # keep reading: sd_notify is a blocking datagram send, a full queue would stall it
            threading.Thread(target=_drain, args=(sock,), daemon=True).start()
            yield Unit(stack.address(), proc, log, stack.layout.dir)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(directory, ignore_errors=True)


# ------------------------------------------------------------------ client helpers


class Client:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.signals: list[tuple[str, str, str, list[Any]]] = []
        bus.add_message_handler(self._on_message)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL:
            body = list(msg.body)
            self.signals.append((str(msg.path), str(msg.interface), str(msg.member), body))

    async def call(
        self, member: str, sig: str = "", *body: Any, iface: str = IFACE, path: str = OBJECT_PATH
    ) -> Message:
        reply = await self.bus.call(
            Message(
                destination=BUS_NAME,
                path=path,
                interface=iface,
                member=member,
                signature=sig,
                body=list(body),
            )
        )
        assert reply is not None
        return reply

    async def ok(self, member: str, sig: str = "", *body: Any, **where: str) -> None:
        reply = await self.call(member, sig, *body, **where)
        assert reply.message_type is MessageType.METHOD_RETURN, (member, reply.body)

    async def get(self, name: str, iface: str = IFACE, path: str = OBJECT_PATH) -> Any:
        reply = await self.call("Get", "ss", iface, name, iface=PROPERTIES, path=path)
        assert reply.message_type is MessageType.METHOD_RETURN, reply.body
        return reply.body[0].value


async def connect(address: str) -> Client:
    bus = await MessageBus(bus_address=address).connect()
    c = Client(bus)
    reply = await bus.call(
        Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="AddMatch",
            signature="s",
            body=[f"type='signal',sender='{BUS_NAME}'"],
        )
    )
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN
    return c


async def eventually(probe: Callable[[], Any], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            assert value, f"not within {timeout_s} s"
            return
        await asyncio.sleep(0.05)


async def keep_lease(c: Client, voltage: float, current: float) -> None:
    while True:
        await c.ok("SetTarget", "dd", voltage, current)
        await asyncio.sleep(0.2)


async def off(c: Client) -> None:
    await c.ok("SetMode", "s", "Off")

    async def safe() -> bool:
        return bool(await c.get("PresentVoltage") < 1.0)

    await eventually(safe)


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (PROFINET_OBJECT_PATH, (PROFINET_IFACE, ERRORS_IFACE)),
        (OBJECT_PATH, (IFACE, ERRORS_IFACE)),
    ],
)
def test_live_introspection_equals_both_xmls(
    unit: Unit, busctl: Any, path: str, names: tuple[str, ...]
) -> None:
    r = busctl(unit.address, "introspect", "--xml-interface", BUS_NAME, path)
    assert r.returncode == 0, r.stderr
    live = interfaces(r.stdout)
    for name in names:
        xml = interfaces((TOP / "dbus" / f"{name}.xml").read_text())[name]
        assert name in live, f"{path} does not export {name}"
        assert differences(live[name], xml) == [], (path, name)
    assert {n for n in live if n.startswith("org.ccy.")} == set(names)


def test_the_fault_interface_is_sim_only_and_apart(unit: Unit, busctl: Any) -> None:
    r = busctl(unit.address, "introspect", "--xml-interface", BUS_NAME, FAULTS_OBJECT_PATH)
    assert r.returncode == 0, r.stderr
    assert FAULTS_IFACE in interfaces(r.stdout)
    assert not (TOP / "dbus" / f"{FAULTS_IFACE}.xml").exists()


def test_profinet1_shows_the_simulated_mode(unit: Unit) -> None:
    async def scenario() -> None:
        c = await connect(unit.address)
        where = {"iface": PROFINET_IFACE, "path": PROFINET_OBJECT_PATH}
        assert await c.get("Mode", **where) == "simulated"
        assert await c.get("ArState", **where) == "Disabled"
        assert await c.get("PlcConnected", **where) is False
        assert await c.get("CycleStatistics", **where) == {}
        reply = await c.call("ResetStation", **where)
        assert reply.error_name == "org.ccy.Error.NotSupported"
        c.bus.disconnect()

    asyncio.run(scenario())


def test_power_stage_serves_cable_check_and_discharge(unit: Unit) -> None:
    async def scenario() -> None:
        c = await connect(unit.address)
        await off(c)
        await c.ok("SetMode", "s", "CableCheck")
        keep = asyncio.create_task(keep_lease(c, 500.0, 5.0))
        try:

            async def valid() -> bool:
                return bool(await c.get("IsolationStatus") == "Valid")

            await eventually(valid)
            assert await c.get("PresentVoltage") >= 495.0
            assert not math.isnan(await c.get("IsolationResistance"))
        finally:
            keep.cancel()
        await c.ok("SetMode", "s", "Discharge")
        assert await c.get("Mode") in ("Discharge", "Off")

        async def discharged() -> bool:
            return bool(await c.get("Mode") == "Off" and await c.get("PresentVoltage") < 60.0)

        await eventually(discharged)
        c.bus.disconnect()

    asyncio.run(scenario())


def test_lease_runs_out(unit: Unit) -> None:
    async def scenario() -> None:
        c = await connect(unit.address)
        await off(c)
        await c.ok("SetTarget", "dd", 300.0, 5.0)
        await c.ok("SetMode", "s", "CableCheck")

        async def lease_expired() -> bool:
            active = await c.get("ActiveErrors", ERRORS_IFACE)
            return any(e[0] == LEASE_EXPIRED.name for e in active)

        await eventually(lease_expired)
        assert await c.get("Mode") == "Off"
        await off(c)
        assert await c.get("ActiveErrors", ERRORS_IFACE) == []
        c.bus.disconnect()

    asyncio.run(scenario())


def test_off_when_org_ccy_evse_vanishes(unit: Unit) -> None:
    async def scenario() -> None:
        c = await connect(unit.address)
        await off(c)
        evse = await MessageBus(bus_address=unit.address).connect()
        await evse.request_name(CALLER_BUS_NAME)
        await c.ok("SetMode", "s", "CableCheck")
        keep = asyncio.create_task(keep_lease(c, 400.0, 5.0))
        try:

            async def rising() -> bool:
                return bool(await c.get("PresentVoltage") > 10.0)

            await eventually(rising)
            evse.disconnect()

            async def is_off() -> bool:
                return bool(await c.get("Mode") == "Off")

            await eventually(is_off, timeout_s=2.0)
        finally:
            keep.cancel()
        assert await c.get("ActiveErrors", ERRORS_IFACE) == []  # the caller, not the lease
        c.bus.disconnect()

    asyncio.run(scenario())


def test_injected_faults_switch_off(unit: Unit) -> None:
    faults = {"iface": FAULTS_IFACE, "path": FAULTS_OBJECT_PATH}

    async def scenario() -> None:
        c = await connect(unit.address)
        await off(c)
        await c.ok("SetMode", "s", "CableCheck")
        keep = asyncio.create_task(keep_lease(c, 500.0, 5.0))
        try:

            async def valid() -> bool:
                return bool(await c.get("IsolationStatus") == "Valid")

            await eventually(valid)
            await c.ok("Inject", "s", "isolation", **faults)

            async def isolation_fault() -> bool:
                active = await c.get("ActiveErrors", ERRORS_IFACE)
                return any(e[0] == ISOLATION_FAULT.name for e in active)

            await eventually(isolation_fault)
            assert await c.get("Mode") == "Off"
            assert await c.get("IsolationStatus") == "Fault"
        finally:
            keep.cancel()
        await c.ok("Clear", "s", "isolation", **faults)
        await c.ok("Inject", "s", "supply", **faults)
        assert await c.get("SupplyReady") is False
        reply = await c.call("SetMode", "s", "CableCheck")
        assert reply.error_name == "org.ccy.Error.NotReady"
        active = await c.get("ActiveErrors", ERRORS_IFACE)
        assert [e[0] for e in active] == [SUPPLY_FAULT.name]
        await c.ok("Clear", "s", "supply", **faults)
        assert await c.get("SupplyReady") is True
        bad = await c.call("Inject", "s", "meteor", **faults)
        assert bad.error_name == "org.ccy.Error.InvalidArgument"
        c.bus.disconnect()

    asyncio.run(scenario())


def test_a_bsp_emergency_stop_is_a_diagnosis_until_it_clears(unit: Unit) -> None:
    where = {"iface": PROFINET_IFACE, "path": PROFINET_OBJECT_PATH}
    control = mcu_control_path(unit.stack_dir)

    async def scenario() -> None:
        c = await connect(unit.address)
        assert await c.get("ActiveDiagnoses", **where) == []
        assert send_command(control, {"cmd": "estop", "reason": "EmergencyInput"})["ok"]

        async def diagnosed() -> bool:
            found = [tuple(d) for d in await c.get("ActiveDiagnoses", **where)]
            return ("ccy-bsp", "EmergencyStop", "EmergencyInput") in found

        await eventually(diagnosed)
        assert (await c.get("LastAlarm", **where)).startswith(
            "appears ccy-bsp EmergencyStop/EmergencyInput"
        )
        assert send_command(control, {"cmd": "estop", "reason": "clear"})["ok"]

        async def cleared() -> bool:
            found = [tuple(d) for d in await c.get("ActiveDiagnoses", **where)]
            return ("ccy-bsp", "EmergencyStop", "EmergencyInput") not in found

        await eventually(cleared)
        c.bus.disconnect()

    asyncio.run(scenario())
    assert "Error raised BSP: bsp (EmergencyStop/EmergencyInput)" in unit.log.read_text()


def _ccyctl(unit: Unit, *args: str) -> "subprocess.CompletedProcess[str]":
    env = {"PATH": "/usr/bin:/bin", "DBUS_SYSTEM_BUS_ADDRESS": unit.address}
    return subprocess.run(
        [sys.executable, "-m", "ccy.ctl.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_ccyctl_profinet_reads_the_unit(unit: Unit) -> None:
    status = _ccyctl(unit, "profinet", "status")
    assert status.returncode == 0, status.stderr
    assert "  Mode: simulated" in status.stdout and "  ArState: Disabled" in status.stdout
    assert "  SupplyReady: True" in status.stdout
    assert "PowerStage errors:" in status.stdout
    station = _ccyctl(unit, "profinet", "station")
    assert station.returncode == 0 and "StationName: -" in station.stdout, station
    alarms = _ccyctl(unit, "profinet", "alarms")
    assert alarms.returncode == 0 and "Diagnoses in force:" in alarms.stdout, alarms
    reset = _ccyctl(unit, "profinet", "station", "reset")
    assert reset.returncode == 1, reset
    assert len(reset.stderr.strip().splitlines()) == 1 and "NotSupported" in reset.stderr
