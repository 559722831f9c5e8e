# SPDX-License-Identifier: Apache-2.0
"""Faults and restarts on the simulated charger: what the fault suite and the restart table
(tests/e2e/test_faults.py, tests/e2e/test_restarts.py, benchmarks/bench_restarts.py) share.

:class:`FaultRig` is :class:`ccy.testing.charger.ChargerRig` with the power stage of
ccy-profinet in mode simulated, which serves org.ccy.sim.PowerStageFaults1 (supply and
isolation faults): the stack's own ccy-profinet, reconfigured at start (or another
``profinet`` section, e.g. mode plc); with a stack table that lacks ccy-profinet, ``python -m
ccy.profinet.main`` started by the rig beside the stack (process ``stage``, which
:meth:`FaultRig.kill_unit` / :meth:`FaultRig.back` restart as the supervisor would). The
simulated stage ramps 10x faster than the profile's, so a session reaches charging in about
a second of simulated physics instead of five.

:func:`wait_safe` polls what "safe" means on this charger until it holds, and says when each
part first held, measured from a given moment (the kill, the fault): the power stage Off (or
its process gone), Bsp1.PowerOnAllowed false and the MCU simulator's contactor open.
`start_vehicle` runs ``ccy-sim ev``'s EVCC in-process against the stack's ccy-v2g (found
by SDP on ``lo``), so a test can plug in, start the vehicle and act while it charges.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from dbus_fast import Message, MessageType

from ccy.evse.records import ErrorRecord, RecordReader, TransactionRecord, database_path
from ccy.evse.session_log import FolderContents, find_folder, read_folder, sessions_dir
from ccy.pki.layout import CertsLayout
from ccy.profinet.contract import FAULTS_IFACE, FAULTS_OBJECT_PATH
from ccy.runtime.contract import ERRORS_IFACE
from ccy.runtime.paths import Paths
from ccy.sim.ev.evcc import Evcc, EvOptions, EvResult, Fault
from ccy.sim.mcu.control import send_command
from ccy.testing.charger import (
    BSP,
    PROFINET_UNIT,
    READY_WAIT_S,
    STAGE,
    ChargerRig,
    EvseClient,
)
from ccy.v2g import contract as v2g
from ccy.v2g import tls as tls_mod

STAGE_HELPER = "stage"
"""ChargerRig's name of the power-stage process it starts itself."""
PROFINET_SIM: dict[str, Any] = {
    "mode": "simulated",
    "sim_voltage_slew_Vps": 5000.0,
    "sim_isolation_delay_ms": 100,
}
"""ccy-profinet's section for the rig: the simulated stage, ramping 10x the profile's rate."""
SAFE_WAIT_S = 10.0
"""Failure bound for reaching the safe state (tests never assert a time)."""
POLL_S = 0.002


def profinet_args(root: Path) -> list[str]:
    return ["-m", "ccy.profinet.main", "--root", str(root)]


class FaultRig(ChargerRig):
    """The stack, ccy-profinet's simulated power stage (with its fault interface) and the
    helpers the fault tests need. ``profinet``: ccy-profinet's config section instead of
    :data:`PROFINET_SIM` (e.g. mode plc on an interface of the charger's namespace)."""

    def __init__(
        self,
        directory: Path,
        table: str = "ccy.sim.stack_table:STACK",
        profinet: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(directory, table)
        self.profinet = profinet or PROFINET_SIM

    @property
    def root(self) -> Path:
        return self.stack.layout.dir

    @property
    def paths(self) -> Paths:
        return Paths.from_root(self.root)

    def up(self) -> None:
        self.stack.up()
        if PROFINET_UNIT in self.units:
            self.reconfigure(PROFINET_UNIT, {"profinet": self.profinet})
        else:
            self._write_sections({"profinet": self.profinet})
            self.start(STAGE_HELPER, profinet_args(self.root))

    def _write_sections(self, sections: dict[str, Any]) -> None:
        config = self.root / "etc" / "ccy" / "config.yaml"
        data = yaml.safe_load(config.read_text()) or {}
        data.update(sections)
        config.unlink()
        config.write_text(yaml.safe_dump(data, sort_keys=False))

    def set_keys(self, unit: str, section: str, keys: dict[str, Any]) -> None:
        """Merge ``keys`` into ``section`` of the stack's config and restart ``unit``."""
        config = self.root / "etc" / "ccy" / "config.yaml"
        data = yaml.safe_load(config.read_text()) or {}
        self.reconfigure(unit, {section: {**(data.get(section) or {}), **keys}})

    @property
    def stage_process(self) -> str:
        return PROFINET_UNIT if PROFINET_UNIT in self.units else STAGE_HELPER

    def restore_stage(self) -> None:
        if self.stage_process == STAGE_HELPER and STAGE_HELPER not in self.procs:
            self.start(STAGE_HELPER, profinet_args(self.root))

    def kill_unit(self, unit: str) -> None:
        """SIGKILL ``unit`` (ccy-profinet: the stage helper while the stack lacks it)."""
        self.kill(self.stage_process if unit == PROFINET_UNIT else unit)

    def supervised(self, unit: str) -> bool:
        """True when the stack's supervisor restarts ``unit`` (False: the rig does)."""
        return unit in self.units

    async def back(self, unit: str, restarts_before: int) -> float:
        """Await ``unit`` running again after a kill (the supervisor's restart, counted, or
        the rig's own start of the stage helper while the stack does not run ccy-profinet);
        the seconds it took. Never blocks the loop (a vehicle may be running on it)."""
        started = time.monotonic()
        if not self.supervised(unit):
            await asyncio.to_thread(self.restore_stage)
            return time.monotonic() - started
        deadline = started + READY_WAIT_S
        while time.monotonic() < deadline:
            record = self.stack.processes().get(unit, {})
            if self.stack.restarts(unit) > restarts_before and record.get("state") == "running":
                return time.monotonic() - started
            await asyncio.sleep(0.02)
        raise AssertionError(f"{unit} did not come back:\n{self.log(unit)[-3000:]}")

    def restarts(self, unit: str) -> int:
        return self.stack.restarts(unit) if self.supervised(unit) else 0

    def mcu_status(self) -> dict[str, Any]:
        reply = send_command(self.stack.layout.control, {"cmd": "status"})
        if not reply.get("ok"):
            raise AssertionError(f"MCU simulator status: {reply}")
        return reply

    # ------------------------------------------------------------------ records
    def reader(self) -> RecordReader:
        return RecordReader.open_readonly(database_path(self.paths))

    def transaction(self, transaction_id: str) -> TransactionRecord | None:
        reader = self.reader()
        try:
            return reader.transaction(transaction_id)
        finally:
            reader.close()

    def session_transaction(self, session_id: str) -> TransactionRecord | None:
        """The (last) transaction of a session."""
        reader = self.reader()
        try:
            found = reader.transactions_of_session(session_id)
        finally:
            reader.close()
        return found[-1] if found else None

    def session_log(self, session_id: str) -> FolderContents:
        folder = find_folder(sessions_dir(self.paths), session_id)
        if folder is None:
            raise AssertionError(f"no session log folder for {session_id}")
        return read_folder(folder.path)


def now_us() -> int:
    return time.time_ns() // 1000


async def stage_fault(c: EvseClient, member: str, signature: str = "", *body: Any) -> None:
    """A call on org.ccy.sim.PowerStageFaults1 (Inject "supply", SetIsolationResistance …)."""
    reply = await c.bus.call(
        Message(
            destination=STAGE["dest"],
            path=FAULTS_OBJECT_PATH,
            interface=FAULTS_IFACE,
            member=member,
            signature=signature,
            body=list(body),
        )
    )
    if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
        raise AssertionError(f"{FAULTS_IFACE}.{member}: {reply.body if reply else None}")


async def try_get(c: EvseClient, prop: str, **where: Any) -> Any:
    """A property, or None while its unit is not on the bus."""
    try:
        return await c.get(prop, **where)
    except AssertionError:
        return None


STAGE_OFF = "stage_off"
POWER_ON_WITHDRAWN = "power_on_withdrawn"
CONTACTOR_OPEN = "contactor_open"
SAFE = frozenset({STAGE_OFF, POWER_ON_WITHDRAWN})
"""What ccy itself must reach: the stage Off and the contactor request withdrawn."""


@dataclass
class SafeTimes:
    """Seconds from the moment given to :func:`wait_safe` until each part first held (None:
    not seen while polling)."""

    stage_off: float | None = None
    """PowerStage1.Mode Off (or, if told so, its process gone: no output without it)."""
    power_on_withdrawn: float | None = None
    """Bsp1.PowerOnAllowed false: the request to open the contactor."""
    contactor_open: float | None = None
    """The MCU simulator's contactor open (it bridges HV-ready only in CE C without a safe
    state or E-stop, so it opens when the MCU acts, not on AllowPowerOn alone)."""

    def at(self, need: frozenset[str]) -> float | None:
        """When every part of ``need`` held (the latest of them), or None."""
        values = [getattr(self, part) for part in need]
        return None if any(v is None for v in values) else max(values)


async def wait_safe(
    rig: FaultRig,
    c: EvseClient,
    t0: float,
    need: frozenset[str] = SAFE,
    *,
    timeout_s: float = SAFE_WAIT_S,
    stage_gone_is_off: bool = False,
) -> SafeTimes:
    """Poll the three parts until those in ``need`` hold (the others are noted when seen on
    the way); raises AssertionError naming what did not happen in time."""
    times = SafeTimes()
    deadline = t0 + timeout_s
    while True:
        at = time.monotonic() - t0
        if times.stage_off is None:
            mode = await try_get(c, "Mode", **STAGE)
            if mode == "Off" or (mode is None and stage_gone_is_off):
                times.stage_off = at
        if times.power_on_withdrawn is None and await try_get(c, "PowerOnAllowed", **BSP) is False:
            times.power_on_withdrawn = at
        if times.contactor_open is None:
            status = await asyncio.to_thread(rig.mcu_status)
            if not status["contactor_closed"]:
                times.contactor_open = at
        if times.at(need) is not None:
            return times
        if time.monotonic() > deadline:
            raise AssertionError(f"not safe within {timeout_s:g} s: {times}")
        await asyncio.sleep(POLL_S)


async def charging_now(rig: FaultRig, c: EvseClient) -> None:
    """Power flows: the stage On, PowerOnAllowed true, the MCU's contactor closed."""
    await c.until("Mode", lambda m: m != "Off", **STAGE)
    await c.until("PowerOnAllowed", True, **BSP)
    status = await asyncio.to_thread(rig.mcu_status)
    assert status["contactor_closed"], status


# ---------------------------------------------------------------------- the vehicle
async def sdp_port(c: EvseClient) -> int:
    port = await c.get("SdpPort", dest=v2g.BUS_NAME, path=v2g.OBJECT_PATH, iface=v2g.IFACE)
    return int(port)


def vehicle_options(
    rig: FaultRig,
    port: int,
    *,
    tls: bool = False,
    loops: int = 3,
    fault: str | None = None,
    loop_interval_s: float = 0.05,
) -> EvOptions:
    ctx = None
    if tls:
        store = CertsLayout(rig.root / "etc/ccy/certs")
        ctx = tls_mod.client_context(store.v2g_root)
    return EvOptions(
        sdp_port=port,
        interface="lo",
        tls=ctx,
        loops=loops,
        loop_interval_s=loop_interval_s,
        fault=Fault.parse(fault) if fault else None,
    )


class _Lines(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@dataclass
class Vehicle:
    """A running EVCC: its task, its journal lines so far and its result so far."""

    evcc: Evcc
    task: "asyncio.Task[EvResult]"
    lines: list[str]

    @property
    def result(self) -> EvResult:
        return self.evcc.result

    @property
    def responses(self) -> list[str]:
        """The SECC's answers as the vehicle logged them (``EVSE ISO V2G …Res (code)``)."""
        return [line for line in self.lines if line.startswith("EVSE ISO V2G ")]

    def arm(self, kind: str, after_more: int = 2) -> None:
        """Plan ``kind`` (silence-after | drop-tls) ``after_more`` requests from now: the
        simulator's faults count requests from the start, whose number before the charge
        loop varies with cable check and precharge."""
        evcc = self.evcc
        evcc.o = replace(evcc.o, fault=Fault(kind, evcc._sent + after_more))

    async def outcome(self, timeout_s: float = 30.0) -> tuple[EvResult, BaseException | None]:
        """Its result and the exception that ended it (None when it completed)."""
        done, _ = await asyncio.wait({self.task}, timeout=timeout_s)
        if not done:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
            raise AssertionError(f"the vehicle did not finish in {timeout_s:g} s")
        return self.evcc.result, self.task.exception()  # the EVCC's EvError: what it saw


_vehicles = 0


def start_vehicle(options: EvOptions) -> Vehicle:
    """The EVCC as a task of the running loop; its journal lines are kept, not printed."""
    global _vehicles
    _vehicles += 1
    log = logging.getLogger(f"ccy.testing.vehicle.{_vehicles}")
    log.propagate = False
    log.setLevel(logging.INFO)
    lines: list[str] = []
    log.addHandler(_Lines(lines))
    evcc = Evcc(options, log)
    return Vehicle(evcc, asyncio.get_running_loop().create_task(evcc.run()), lines)


async def plug_in(rig: FaultRig, c: EvseClient) -> str:
    """Cable in and CE C, as the cable and the vehicle do before the EVCC talks; the session
    id of ccy-evse's new session."""
    await c.until("WaitingFor", [])
    await c.until("SessionId", "")
    rig.mcu(cmd="plug")
    rig.mcu(cmd="set_ce", state="C")
    return str(await c.until("SessionId", lambda v: v != ""))


async def unplug(rig: FaultRig, c: EvseClient) -> None:
    """Cable out; ccy-evse back to no session; the MCU out of any safe state it latched."""
    rig.mcu(cmd="unplug")
    await c.until("SessionId", "")
    await c.until("State", lambda s: s in ("Idle", "Faulted", "Disabled"))


# ---------------------------------------------------------------------- records over the bus
async def list_errors(c: EvseClient, since_us: int, limit: int = 1000) -> list[ErrorRecord]:
    """Evse1.ListErrors (what ``ccyctl evse errors`` shows), newest first."""
    (rows,) = await c.ok("ListErrors", "du", since_us / 1e6, limit)
    return [ErrorRecord.from_struct(row) for row in rows]


async def settle(rig: FaultRig, c: EvseClient, timeout_s: float = 20.0) -> None:
    """Until the charger is idle and clean: ccy-evse Idle waiting for nothing, no session,
    ccy-bsp's link up without an active error (a stale error would fault the next session)."""
    await c.until("State", "Idle", timeout_s)
    await c.until("WaitingFor", [], timeout_s)
    await c.until("SessionId", "", timeout_s)
    await c.until("LinkUp", True, timeout_s, **BSP)
    await c.until("ActiveErrors", [], timeout_s, dest=BSP["dest"], path=BSP["path"],
                  iface=ERRORS_IFACE)  # fmt: skip


# ---------------------------------------------------------------------- kill -9 of a unit
KILL_ORDER = ("ccy-bsp", "ccy-evse", "ccy-auth", PROFINET_UNIT, "ccy-v2g")
KILL_NEEDS: dict[str, frozenset[str] | None] = {
    "ccy-bsp": frozenset({STAGE_OFF, CONTACTOR_OPEN}),
    "ccy-evse": SAFE,
    "ccy-auth": None,
    PROFINET_UNIT: SAFE,
    "ccy-v2g": SAFE,
}
"""What each unit's death must bring about. ccy-bsp: nobody can withdraw power-on through
it, so ccy-evse switches the stage Off and the MCU's own host timeout (ComTimeout) opens
the contactor. ccy-evse: ccy-bsp withdraws power-on when org.ccy.Evse vanishes, the stage
goes Off when its caller does. ccy-profinet: no stage, no output; ccy-evse withdraws
power-on (PowerStageLost). ccy-v2g: the vehicle is gone, ccy-evse must stop (VehicleLost).
ccy-auth: None, a running session does not need it (it must keep charging)."""
EVSE_CLEANUP_LINE = "Cleaning up any other transaction on start up"
CHARGING_LOOPS = 400
"""Charge loops the vehicle plans while a unit is killed (20 s at 50 ms: longer than any
kill and restart here); it stops earlier when the session ends."""


@dataclass
class KillResult:
    unit: str
    session_id: str
    transaction_id: str
    times: SafeTimes
    safe_at: float | None
    """Seconds from the kill until every part of KILL_NEEDS[unit] held (None: not in time)."""
    not_safe: str
    """Why not, when ``safe_at`` is None and the unit's death must stop power."""
    kept_charging: bool | None
    """ccy-auth only: power still flowed and the vehicle still charged after its restart."""
    back_s: float
    supervised: bool
    """Restarted by the stack's supervisor (False: the rig restarted the stage helper)."""
    restarts: int
    """The supervisor's restart count of the unit after the kill minus before it."""
    transaction_after_back: TransactionRecord | None
    """The transaction once the unit is back, before the vehicle is unplugged."""
    transaction_at_end: TransactionRecord | None
    errors: list[ErrorRecord]
    """Error history rows raised since the kill (Evse1.ListErrors), before unplugging."""
    cleanup_lines: int
    """New 'Cleaning up any other transaction on start up' lines of ccy-evse."""
    vehicle_outcome: str
    vehicle_responses: list[str]
    next_session: str
    """The outcome of a whole vehicle session after the unit came back ("completed")."""


async def vehicle_session(rig: FaultRig, c: EvseClient, loops: int = 3) -> str:
    """Plug in, a whole EV session over TLS through ccy-v2g, unplug; its outcome (the
    EVCC's, or its error)."""
    await settle(rig, c)
    port = await sdp_port(c)
    await plug_in(rig, c)
    v = start_vehicle(vehicle_options(rig, port, tls=True, loops=loops))
    result, exc = await v.outcome()
    await unplug(rig, c)
    return result.outcome if exc is None else f"{result.outcome} ({exc})"


async def kill_during_charge(
    rig: FaultRig, c: EvseClient, unit: str, safe_wait_s: float = 5.0
) -> KillResult:
    """A vehicle charging through ccy-v2g, ``unit`` killed with SIGKILL during its charge
    loop; what followed. Leaves the charger settled (unplugged, clean)."""
    await settle(rig, c)
    port = await sdp_port(c)
    session_id = await plug_in(rig, c)
    v = start_vehicle(vehicle_options(rig, port, tls=True, loops=CHARGING_LOOPS))
    try:
        await c.until("State", "Charging")
        await charging_now(rig, c)
        await asyncio.sleep(0.2)  # a few charge loops
        tx_id = str(await c.get("TransactionId"))
        since = now_us()
        before = rig.restarts(unit)
        cleanups = rig.log("ccy-evse").count(EVSE_CLEANUP_LINE)
        t0 = time.monotonic()
        rig.kill_unit(unit)
        need = KILL_NEEDS[unit]
        times, safe_at, not_safe, kept = SafeTimes(), None, "", None
        if need is not None:
            try:
                times = await wait_safe(
                    rig, c, t0, need, timeout_s=safe_wait_s, stage_gone_is_off=unit == PROFINET_UNIT
                )
                safe_at = times.at(need)
            except AssertionError as exc:
                not_safe = str(exc)
        back_s = await rig.back(unit, before)
        await c.until("State", lambda s: isinstance(s, str))  # ccy-evse answers
        if unit == "ccy-v2g":
            await c.until("SdpPort", lambda p: p > 0, dest=v2g.BUS_NAME, path=v2g.OBJECT_PATH,
                          iface=v2g.IFACE)  # fmt: skip
        if need is None:
            await asyncio.sleep(0.5)
            kept = (
                await try_get(c, "Mode", **STAGE) not in (None, "Off")
                and await try_get(c, "PowerOnAllowed", **BSP) is True
                and await c.get("State") == "Charging"
                and not v.task.done()
            )
        await asyncio.sleep(0.2)  # the records of the stop (written in the unit's own loop)
        tx_back = rig.transaction(tx_id)
        errors = [e for e in await list_errors(c, since) if e.raised_us >= since]
        restarts = rig.restarts(unit) - before
        cleanup_lines = rig.log("ccy-evse").count(EVSE_CLEANUP_LINE) - cleanups
    finally:
        rig.mcu(cmd="unplug")
        result, ended_by = await v.outcome()
    await settle(rig, c)
    tx_end = rig.transaction(tx_id)
    outcome = result.outcome if ended_by is None else f"{result.outcome} ({ended_by})"
    next_session = await vehicle_session(rig, c)
    return KillResult(
        unit=unit,
        session_id=session_id,
        transaction_id=tx_id,
        times=times,
        safe_at=safe_at,
        not_safe=not_safe,
        kept_charging=kept,
        back_s=back_s,
        supervised=rig.supervised(unit),
        restarts=restarts,
        transaction_after_back=tx_back,
        transaction_at_end=tx_end,
        errors=errors,
        cleanup_lines=cleanup_lines,
        vehicle_outcome=outcome,
        vehicle_responses=v.responses[-3:],
        next_session=next_session,
    )
