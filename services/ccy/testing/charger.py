# SPDX-License-Identifier: Apache-2.0
"""The simulated charger as tests drive it: the stack, a power stage, and a bus client.

:class:`ChargerRig` runs ``ccy-sim up``'s stack (private bus, MCU simulator and every unit of
the stack table, restarted like systemd would) in a folder, and starts the simulated power
stage (``python -m ccy.sim.power_stage``) only when no unit of the stack serves
org.ccy.Profinet. :class:`EvseClient` speaks org.ccy.Evse1 (and reads any other unit's
properties) the way ccy-v2g and operators do; :func:`to_charging` walks a session from plug-in
to PowerDelivery(Start) with the vehicle-session methods, as ccy-v2g would.

One rig serves the bus and end-to-end tiers and the benchmarks, so a change of the stack or
of Evse1 is made once.
"""

import asyncio
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.evse.contract import BUS_NAME, IFACE, OBJECT_PATH
from ccy.sim.mcu.control import send_command
from ccy.sim.stack import Stack
from ccy.sim.supervisor import load_table
from ccy.testing.folders import traversable_tmp

READY_WAIT_S = 30.0
"""Bound on a helper process's READY=1 (a failure bound, not a measurement)."""
NAN = math.nan
STAGE_ARGS = ("-m", "ccy.sim.power_stage", "--tick-ms", "20")
PROFINET_UNIT = "ccy-profinet"
AUTH_UNIT = "ccy-auth"
DEFAULT_TABLE = "ccy.sim.stack_table:STACK"
SESSION_CORE_TABLE = "ccy.sim.stack_table:SESSION_CORE"
"""ccy-bsp, ccy-evse and the power stage only: for tests that call Evse1 as ccy-v2g and
ccy-auth do."""
BSP: dict[str, Any] = {"dest": "org.ccy.Bsp", "path": "/org/ccy/Bsp", "iface": "org.ccy.Bsp1"}
STAGE: dict[str, Any] = {
    "dest": "org.ccy.Profinet",
    "path": "/org/ccy/PowerStage",
    "iface": "org.ccy.PowerStage1",
}


class ChargerRig:
    """The stack in ``directory`` plus the helper processes a test starts beside it."""

    def __init__(self, directory: Path, table: str = DEFAULT_TABLE) -> None:
        self.dir = directory
        self.stack = Stack(directory / "stack", table=table)
        self.units = frozenset(row.name for row in load_table(table))
        """The units the stack runs (``table``: ``module:ATTRIBUTE`` of ccy.sim.stack_table)."""
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    # ---------------------------------------------------------------- processes
    def up(self) -> None:
        self.stack.up()
        if PROFINET_UNIT not in self.units:
            self.start("stage", list(STAGE_ARGS))

    def down(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        self.stack.down()

    def start(self, name: str, args: list[str]) -> None:
        """``python args…`` on the stack's bus; returns once it sent READY=1."""
        notify = self.dir / f"notify-{name}"
        notify.unlink(missing_ok=True)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify))
            env = {
                **os.environ,
                "DBUS_SYSTEM_BUS_ADDRESS": self.stack.address(),
                "NOTIFY_SOCKET": str(notify),
            }
            with (self.dir / f"{name}.log").open("ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                )
            self.procs[name] = proc
            sock.settimeout(0.2)
            deadline = time.monotonic() + READY_WAIT_S
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited:\n{self.log(name)[-3000:]}")
                try:
                    if b"READY=1" in sock.recv(4096):
                        return
                except TimeoutError:
                    continue
        raise AssertionError(f"{name}: no READY=1 within {READY_WAIT_S:g} s")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(10)

    @property
    def stage_process(self) -> str:
        """The process serving the power stage: ccy-profinet once the stack runs it."""
        return PROFINET_UNIT if PROFINET_UNIT in self.units else "stage"

    def kill(self, name: str) -> None:
        """SIGKILL a unit of the stack (its supervisor restarts it, as systemd's
        Restart=on-failure) or a helper process of this rig (it stays down)."""
        if name in self.procs:
            self.stop(name, signal.SIGKILL)
        else:
            os.kill(self.stack.pids()[name], signal.SIGKILL)

    def reconfigure(self, unit: str, sections: dict[str, Any]) -> None:
        """Give the stack's config these top-level sections (replacing the simulator
        profile's) and restart ``unit`` with it: SIGKILL, and the stack starts it again as
        systemd would. Returns once the new process is running (READY=1)."""
        config = self.stack.layout.dir / "etc" / "ccy" / "config.yaml"
        data = yaml.safe_load(config.read_text()) or {}
        data.update(sections)
        config.unlink()  # a link to sim.yaml in a fresh layout; the profile stays as it is
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        before = self.stack.restarts(unit)
        self.kill(unit)
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            record = self.stack.processes().get(unit, {})
            if self.stack.restarts(unit) > before and record.get("state") == "running":
                return
            time.sleep(0.05)
        raise AssertionError(f"{unit} did not come back:\n{self.log(unit)[-3000:]}")

    def restore_stage(self) -> None:
        """After :meth:`kill` of the stage: start the helper again (a unit comes back alone)."""
        if self.stage_process == "stage" and "stage" not in self.procs:
            self.start("stage", list(STAGE_ARGS))

    def log(self, name: str) -> str:
        """A unit's log (the stack's log folder) or a helper process's."""
        path = self.stack.layout.log_dir / f"{name}.log"
        if not path.exists():
            path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def mcu(self, **command: Any) -> None:
        """A command to the MCU simulator (plug, unplug, set_ce, estop, …)."""
        reply = send_command(self.stack.layout.control, command)
        if not reply.get("ok"):
            raise AssertionError(f"MCU simulator refused {command}: {reply}")

    def env(self) -> dict[str, str]:
        """The environment of a client process on the stack's bus (ccyctl, busctl)."""
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.stack.address()}


@contextmanager
def charger_rig(prefix: str = "ccy-charger-", table: str = DEFAULT_TABLE) -> Iterator[ChargerRig]:
    """A started rig in a fresh folder every user can traverse; stopped and removed after."""
    directory = traversable_tmp(prefix)
    rig = ChargerRig(directory, table)
    try:
        rig.up()
        yield rig
    finally:
        rig.down()
        shutil.rmtree(directory, ignore_errors=True)


class EvseClient:
    """Evse1 calls and property reads over one bus connection."""

    def __init__(self, b: MessageBus) -> None:
        self.bus = b

    @classmethod
    async def connect(cls, address: str) -> "EvseClient":
        return cls(await MessageBus(bus_address=address).connect())

    def disconnect(self) -> None:
        self.bus.disconnect()

    async def call(self, member: str, signature: str = "", *body: Any) -> Message:
        reply = await self.bus.call(
            Message(
                destination=BUS_NAME,
                path=OBJECT_PATH,
                interface=IFACE,
                member=member,
                signature=signature,
                body=list(body),
            )
        )
        assert reply is not None
        return reply

    async def ok(self, member: str, signature: str = "", *body: Any) -> list[Any]:
        reply = await self.call(member, signature, *body)
        if reply.message_type is not MessageType.METHOD_RETURN:
            raise AssertionError(f"{member}: {reply.error_name}: {reply.body}")
        return list(reply.body)

    async def get(
        self, prop: str, dest: str = BUS_NAME, path: str = OBJECT_PATH, iface: str = IFACE
    ) -> Any:
        reply = await self.bus.call(
            Message(
                destination=dest,
                path=path,
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=[iface, prop],
            )
        )
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            raise AssertionError(f"Get {iface}.{prop}: {reply.body if reply else None}")
        value = reply.body[0]
        return value.value if isinstance(value, Variant) else value

    async def until(self, prop: str, wanted: Any, timeout_s: float = 15.0, **where: Any) -> Any:
        """Poll a property until it equals ``wanted`` (or ``wanted(value)`` holds)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = await self.get(prop, **where)
            except AssertionError:
                value = None  # the unit is restarting: not on the bus for a moment
            if value == wanted or (callable(wanted) and value is not None and wanted(value)):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{prop} is {value!r}, wanted {wanted!r}")
            await asyncio.sleep(0.05)

    async def poll(
        self, member: str, signature: str = "", *body: Any, timeout_s: float = 20.0
    ) -> list[Any]:
        """Call until the first output is "Finished" (EVSEProcessing)."""
        deadline = time.monotonic() + timeout_s
        while True:
            out = await self.ok(member, signature, *body)
            if out[0] == "Finished":
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{member} still {out}")
            await asyncio.sleep(0.1)


TOKEN = "[redacted] hash: 29F2679CA504908"
"""The seed's redacted token, as ccy-auth passes it."""


async def to_charging(rig: ChargerRig, c: EvseClient) -> str:
    """Plug in, bind, authorize, CE C, cable check, precharge, PowerDelivery(Start): the
    vehicle-session calls ccy-v2g makes. The authorization is ccy-auth's when the stack runs
    it (its dummy provider, as in the seed), else this client's, as ccy-auth would call it.
    Returns the session id."""
    try:
        await c.until("WaitingFor", [])
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{rig.log('ccy-evse')[-3000:]}") from None
    rig.mcu(cmd="plug")
    session = await c.until("SessionId", lambda v: v != "")
    await c.ok("BindSession", "sss", "E2804BEFDABADD0C", "[redacted] hash: 1", PROTOCOL_DC)
    if AUTH_UNIT in rig.units:
        await c.until("Authorized", True)
    else:
        await c.ok("Authorize", "sss", session, TOKEN, "RFID")
    await c.ok("ChargeParameters", "dddddd", 1000.0, NAN, 3000.0, NAN, 3e6, NAN)
    rig.mcu(cmd="set_ce", state="C")
    await c.until("CeState", "C", **BSP)
    await c.poll("CableCheck")
    await c.poll("PreCharge", "dd", 800.0, 2.0)
    await c.ok("PowerDelivery", "s", "Start")
    return str(session)


PROTOCOL_DC = "urn:iso:std:iso:15118:-20:DC"


async def charge_loops(c: EvseClient, n: int, pause_s: float = 0.05) -> list[Any]:
    """``n`` ChargeLoop calls (800 V battery asking 850 V/100 A); the last result."""
    result: list[Any] = []
    for _ in range(n):
        result = (await c.ok("ChargeLoop", "ddddddd", 850.0, 100.0, NAN, NAN, NAN, 800.0, 50.0))[0]
        await asyncio.sleep(pause_s)
    return result
