# SPDX-License-Identifier: Apache-2.0
"""What tests/e2e/test_faults.py and tests/e2e/test_restarts.py share: one simulated charger
per module (ccy.testing.charger_faults.FaultRig: the whole stack, ccy-profinet's simulated
power stage with its fault interface), one event loop and one bus client for it, a vehicle
charging through ccy-v2g, and what a test reads afterwards (the vehicle's answers, the error
history over Evse1.ListErrors, the transaction and the session log)."""

import asyncio
import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from ccy.evse.records import ErrorRecord, TransactionRecord
from ccy.evse.session_log import FolderContents
from ccy.testing import netns
from ccy.testing.charger import EvseClient
from ccy.testing.charger_faults import (
    CHARGING_LOOPS,
    FaultRig,
    KillResult,
    Vehicle,
    charging_now,
    kill_during_charge,
    list_errors,
    now_us,
    plug_in,
    sdp_port,
    settle,
    start_vehicle,
    unplug,
    vehicle_options,
)
from ccy.testing.folders import traversable_tmp

T = TypeVar("T")
KEEP_ENV = "CCY_FAULTS_KEEP_LOGS"
"""A folder to copy the stack's logs to when the module ends (for a failing run)."""
VEHICLE_WAIT_S = 30.0
"""Failure bound for the vehicle's end after a fault."""


class Charger:
    """A started FaultRig, an event loop for the module's tests and a client on the bus."""

    def __init__(self, rig: FaultRig) -> None:
        self.rig = rig
        self.loop = asyncio.new_event_loop()
        self.c = self.run(EvseClient.connect(rig.stack.address()))
        self.done: dict[str, object] = {}
        self.plc: PlcSimulator | None = None
        """The PLC simulator, when ccy-profinet runs in mode plc."""

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.c.disconnect()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    def once(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """``make()`` run once per module and kept (several tests look at one run); a run
        that failed fails every test that asks for it."""
        if key not in self.done:
            try:
                self.done[key] = self.run(make())
            except BaseException as exc:
                self.done[key] = exc
        got = self.done[key]
        if isinstance(got, BaseException):
            raise AssertionError(f"{key} did not run through: {got!r}") from got
        return cast(T, got)

    def kill(self, unit: str) -> KillResult:
        """kill -9 of ``unit`` during a charge loop, once per module."""
        return self.once(f"kill {unit}", lambda: kill_during_charge(self.rig, self.c, unit))


@contextmanager
def charger(
    prefix: str,
    v2g_keys: dict[str, Any] | None = None,
    evse_keys: dict[str, Any] | None = None,
    profinet: dict[str, Any] | None = None,
) -> Iterator[Charger]:
    """The stack up in a fresh folder (``profinet``: ccy-profinet's section, default the
    simulated stage), ccy-v2g's and ccy-evse's sections amended with these keys."""
    directory = traversable_tmp(prefix)
    rig = FaultRig(directory, profinet=profinet)
    try:
        rig.up()
        if v2g_keys:
            rig.set_keys("ccy-v2g", "v2g", v2g_keys)
        if evse_keys:
            rig.set_keys("ccy-evse", "evse", evse_keys)
        ch = Charger(rig)
        try:
            yield ch
        finally:
            ch.close()
    finally:
        rig.down()
        keep = os.environ.get(KEEP_ENV)
        if keep:
            shutil.copytree(rig.stack.layout.log_dir, Path(keep) / prefix, dirs_exist_ok=True)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Charging:
    """A vehicle charging through ccy-v2g (TLS 1.3), as a fault finds it."""

    session_id: str
    vehicle: Vehicle
    since_us: int


async def start_charging(ch: Charger, loops: int = CHARGING_LOOPS) -> Charging:
    """Plug in and start the vehicle; returns at once (for faults before power flows)."""
    rig, c = ch.rig, ch.c
    await settle(rig, c)
    since = now_us()
    port = await sdp_port(c)
    session_id = await plug_in(rig, c)
    vehicle = start_vehicle(vehicle_options(rig, port, tls=True, loops=loops))
    return Charging(session_id, vehicle, since)


async def charge(ch: Charger, loops: int = CHARGING_LOOPS) -> Charging:
    """Plug in, start the vehicle and wait until power flows (stage on, PowerOnAllowed, the
    MCU's contactor closed) and the charge loop runs."""
    s = await start_charging(ch, loops)
    await ch.c.until("State", "Charging")
    await charging_now(ch.rig, ch.c)
    await asyncio.sleep(0.2)
    return s


@dataclass
class Finished:
    session_id: str
    since_us: int
    outcome: str
    """The vehicle's outcome (or its error)."""
    responses: list[str]
    """The SECC's answers as the vehicle logged them, in order."""
    lines: list[str]
    """Everything the vehicle logged."""
    errors: list[ErrorRecord]
    """Evse1.ListErrors since the session started, oldest first."""
    transaction: TransactionRecord | None
    """The session's transaction in the records database."""
    log: FolderContents
    """The session's log folder, read after the unplug (session.json complete)."""

    def rows(self, unit: str, type_: str, subtype: str | None = None) -> list[ErrorRecord]:
        return [
            e
            for e in self.errors
            if e.unit == unit and e.type == type_ and (subtype is None or e.subtype == subtype)
        ]

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.log.events if e.get("event") == kind]


async def read_records(ch: Charger, f: Finished) -> Finished:
    """``f`` with the error history, the transaction and the session log read again."""
    errors = [e for e in await list_errors(ch.c, f.since_us) if e.raised_us >= f.since_us]
    return replace(
        f,
        errors=list(reversed(errors)),
        transaction=ch.rig.session_transaction(f.session_id),
        log=ch.rig.session_log(f.session_id),
    )


async def finish(
    ch: Charger, s: Charging, cleanup: Callable[[], Awaitable[Any] | None] | None = None
) -> Finished:
    """After the fault: the vehicle's end (bounded), then ``cleanup`` (clear the injected
    fault), unplug, the charger settled; the records as they stand then."""
    rig, c = ch.rig, ch.c
    result, exc = await s.vehicle.outcome(VEHICLE_WAIT_S)
    if cleanup is not None:
        done = cleanup()
        if done is not None:
            await done
    await unplug(rig, c)
    await settle(rig, c)
    f = Finished(
        session_id=s.session_id,
        since_us=s.since_us,
        outcome=result.outcome if exc is None else f"{result.outcome} ({exc})",
        responses=s.vehicle.responses,
        lines=list(s.vehicle.lines),
        errors=[],
        transaction=None,
        log=FolderContents(),
    )
    return await read_records(ch, f)


async def unplug_and_settle(ch: Charger) -> None:
    await unplug(ch.rig, ch.c)
    await settle(ch.rig, ch.c)


# ---------------------------------------------------------------------- the PLC side
CLONE_NEWNET = 0x40000000


@contextmanager
def in_namespace(name: str) -> Iterator[None]:
    """This thread in network namespace ``name`` (the processes it starts stay there, the
    sockets it opens belong there), then back."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
        try:
            yield
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


class PlcSimulator:
    """``python -m ccy.sim.plc`` in the PLC's namespace, one process at a time."""

    def __init__(self, layout: netns.NetLayout, station: str, logs: Path) -> None:
        self.layout = layout
        self.station = station
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0

    def start(self, *extra: str) -> None:
        self.started += 1
        argv = netns.exec_in(
            self.layout.plc_ns,
            [sys.executable, "-m", "ccy.sim.plc", "--iface", self.layout.plc.interface,
             "--station", self.station, "--cycle-ms", "8", "--run-s", "3600", *extra],
        )  # fmt: skip
        with (self.logs / f"plc-{self.started}.log").open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: every frame stops, no Release (a PLC losing power)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)
        self.proc = None
