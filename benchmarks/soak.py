# SPDX-License-Identifier: Apache-2.0
"""Soak: N consecutive charging sessions of the EV simulator against the whole stack.

    .venv/bin/python benchmarks/soak.py [N] [--loops 2] [--physics instant|seed]
                                        [--session-log-max-count K] [--no-self-test]

``make soak`` runs 1,000 sessions. The stack is ``ccy-sim up``'s (ccy.testing.charger.ChargerRig:
private bus, MCU and RFID simulators, every unit of ccy.sim.stack_table.STACK, ccy-profinet's
simulated power stage included, restarted as systemd would). Each session is what a vehicle
does: plug in (MCU simulator), CE C, then ``ccy.sim.ev`` (SDP, TLS 1.3, ISO 15118-20 MCS with
``--loops`` DC_ChargeLoops, PowerDelivery Stop, WeldingDetection, SessionStop), unplug, back
to Idle. ccy-auth authorizes (dummy provider, accept_all, as the seed). With ``--physics
instant`` (default) the power stage ramps at 100 kV/s and measures isolation at once, the
contactor wait and the validator's delay are 0 ms: a session is software only, but for the
IMD self-test ccy-profinet's model fixes at 0.5 s (``--no-self-test`` skips that phase).

Checked at the end (exit 1 naming each failure): every session completed and every
transaction is closed in the database; no unit restarted; each unit's RSS grew ≤ 5 % from
the baseline (taken after a warm-up of 3 sessions); each unit's open file descriptors
(/proc/PID/fd) grew by at most 2; the session-log folder holds ≤ evse.session_log_max_count
folders and ≤ evse.session_log_max_bytes; the error history ≤ its row cap and the WAL ≤ 4 MiB
plus a page margin. The load average is printed with the results.

The module is also the session toolkit of benchmarks/bench_stack.py, benchmarks/bench_evse_bus.py
and tests/e2e/test_soak.py: ``Watch`` (PropertiesChanged with arrival times), ``ev_session``,
``apply_physics``, ``sample``.
"""

import argparse
import asyncio
import itertools
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.evse import contract as evse_c
from ccy.evse.records import RecordReader, database_path
from ccy.evse.records.store import DEFAULT_MAX_ERROR_ROWS
from ccy.evse.session_log.folders import list_folders
from ccy.pki.layout import CertsLayout
from ccy.profinet import contract as stage_c
from ccy.profinet.stage.model import StageConfig
from ccy.runtime.paths import Paths
from ccy.sim.ev.evcc import Evcc, EvOptions, EvResult
from ccy.testing.charger import ChargerRig
from ccy.testing.folders import traversable_tmp
from ccy.v2g import contract as v2g_c
from ccy.v2g import tls as tls_mod

HERE = Path(__file__).resolve()
PROFINET_UNIT = "ccy-profinet"
EVSE_UNIT = "ccy-evse"
AUTH_UNIT = "ccy-auth"
PROPS = "org.freedesktop.DBus.Properties"
EVSE = (evse_c.BUS_NAME, evse_c.OBJECT_PATH, evse_c.IFACE)
BSP = ("org.ccy.Bsp", "/org/ccy/Bsp", "org.ccy.Bsp1")
STAGE = (stage_c.BUS_NAME, "/org/ccy/PowerStage", "org.ccy.PowerStage1")
V2G = (v2g_c.BUS_NAME, v2g_c.OBJECT_PATH, v2g_c.IFACE)
SELF_TEST = (STAGE[1], STAGE[2], "SelfTest")
WAIT_S = 30.0
"""Failure bound of every wait (not a measurement)."""
RSS_GROWTH_LIMIT = 0.05
FD_GROWTH_LIMIT = 2
TREND_EVERY = 100
WAL_MARGIN_BYTES = 4 * 1024 * 1024 + 256 * 1024
"""SQLite's WAL grows to about 1000 pages (4 MiB) between checkpoints (records/store.py)."""


def loadavg() -> str:
    """``load 0.52 0.61 0.70`` (1, 5, 15 min; /proc/loadavg)."""
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------------------- physics
@dataclass(frozen=True)
class Physics:
    """What the simulated hardware takes: the contactor, the power stage's slopes, the
    insulation monitor, and the stage's update period."""

    name: str
    relay_ms: int
    """evse.contactor_close_time_ms: ccy-evse's wait for the DC contactor (seed: 100 ms)."""
    slew_Vps: float
    discharge_Vps: float
    current_slew_Aps: float
    isolation_delay_ms: int
    tick_ms: int
    auth_delay_ms: int
    """auth.accept_all_delay_ms: the seed's validator (a back office) answers after 250 ms."""


_DEFAULT_STAGE = StageConfig()
SEED = Physics(
    "seed",
    relay_ms=100,
    slew_Vps=_DEFAULT_STAGE.slew_v_per_s,
    discharge_Vps=_DEFAULT_STAGE.discharge_v_per_s,
    current_slew_Aps=_DEFAULT_STAGE.current_slew_a_per_s,
    isolation_delay_ms=round(_DEFAULT_STAGE.isolation_delay_s * 1000),
    tick_ms=20,
    auth_delay_ms=250,
)
"""The simulator's defaults: the seed's 100 ms relay, 500 V/s, 0.5 s self-test and IMD."""
INSTANT = Physics(
    "instant",
    relay_ms=0,
    slew_Vps=100_000.0,
    discharge_Vps=100_000.0,
    current_slew_Aps=1_000_000.0,
    isolation_delay_ms=0,
    tick_ms=5,
    auth_delay_ms=0,
)
"""Every physical wait as short as the stage allows (ramps of ≤ 13 ms, the stage's shortest
tick of 5 ms): what remains of plug-in → Charging is software."""
PHYSICS = {p.name: p for p in (SEED, INSTANT)}


def _config(rig: ChargerRig) -> dict[str, Any]:
    data = yaml.safe_load((rig.stack.layout.dir / "etc" / "ccy" / "config.yaml").read_text())
    return data if isinstance(data, dict) else {}


def reconfigure(rig: ChargerRig, section: str, unit: str, keys: dict[str, Any]) -> None:
    """Merge ``keys`` into the stack's config section and restart ``unit`` with it."""
    merged = {**(_config(rig).get(section) or {}), **keys}
    rig.reconfigure(unit, {section: merged})


def physics_keys(physics: Physics) -> dict[str, dict[str, Any]]:
    """The config keys (section → keys) that give the stack ``physics``."""
    return {
        "profinet": {
            "stage_tick_ms": physics.tick_ms,
            "sim_voltage_slew_Vps": physics.slew_Vps,
            "sim_discharge_Vps": physics.discharge_Vps,
            "sim_current_slew_Aps": physics.current_slew_Aps,
            "sim_isolation_delay_ms": physics.isolation_delay_ms,
        },
        "auth": {"accept_all_delay_ms": physics.auth_delay_ms},
        "evse": {"contactor_close_time_ms": physics.relay_ms},
    }


def apply_physics(
    rig: ChargerRig, physics: Physics, evse_keys: dict[str, Any] | None = None
) -> None:
    """Restart the power stage, ccy-auth and ccy-evse with ``physics`` (and more evse keys)."""
    keys = physics_keys(physics)
    if PROFINET_UNIT not in rig.units:
        raise RuntimeError(f"the stack table runs no {PROFINET_UNIT}: no power stage to set up")
    reconfigure(rig, "profinet", PROFINET_UNIT, keys["profinet"])
    if AUTH_UNIT in rig.units:
        reconfigure(rig, "auth", AUTH_UNIT, keys["auth"])
    reconfigure(rig, "evse", EVSE_UNIT, {**keys["evse"], **(evse_keys or {})})


# ---------------------------------------------------------------------------- processes
@dataclass(frozen=True)
class ProcSample:
    rss_kib: int
    pss_kib: int
    fds: int
    threads: int = -1
    """Threads (/proc/PID/status): each thread beyond the first may get its own glibc arena."""


def _kib(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def sample(pid: int) -> ProcSample:
    """VmRSS (/proc/PID/status), Pss (/proc/PID/smaps_rollup), the open descriptors and the
    threads."""
    proc = Path(f"/proc/{pid}")
    return ProcSample(
        _kib(proc / "status", "VmRSS"),
        _kib(proc / "smaps_rollup", "Pss"),
        len(os.listdir(proc / "fd")),
        _kib(proc / "status", "Threads"),
    )


def units_of(rig: ChargerRig) -> dict[str, int]:
    """Unit name → PID of the stack's units."""
    return {name: pid for name, pid in rig.stack.pids().items() if name in rig.units}


# ---------------------------------------------------------------------------- the bus
class Watch:
    """PropertiesChanged of every sender with their arrival time (time.monotonic), and the
    latest value of each (path, interface, property); waits are event-driven."""

    def __init__(self, b: MessageBus) -> None:
        self.bus = b
        self.values: dict[tuple[str, str, str], tuple[Any, float]] = {}
        self.history: list[tuple[float, Any]] = []
        """(arrival, value) of every PowerStage1 SelfTest change: the physics of a session."""
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    @classmethod
    async def connect(cls, address: str) -> "Watch":
        b = await MessageBus(bus_address=address).connect()
        w = cls(b)
        b.add_message_handler(w._on_message)
        await w.call(
            ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus"),
            "AddMatch",
            "s",
            f"type='signal',interface='{PROPS}',member='PropertiesChanged'",
        )
        for where in (EVSE, BSP, STAGE):
            await w.refresh(where)
        return w

    def close(self) -> None:
        self.bus.disconnect()

    def _on_message(self, msg: Message) -> None:
        if (
            msg.message_type is not MessageType.SIGNAL
            or msg.member != "PropertiesChanged"
            or msg.path is None
        ):
            return
        now = time.monotonic()
        iface, changed = msg.body[0], msg.body[1]
        for name, value in changed.items():
            self.values[(msg.path, iface, name)] = (_plain(value), now)
            if (msg.path, iface, name) == SELF_TEST:
                self.history.append((now, _plain(value)))
                del self.history[:-16]
        self._check()

    def _check(self) -> None:
        for pred, fut in list(self._waiters):
            if not fut.done() and pred():
                fut.set_result(None)

    async def call(
        self, where: tuple[str, str, str], member: str, signature: str = "", *body: Any
    ) -> list[Any]:
        reply = await self.bus.call(
            Message(
                destination=where[0],
                path=where[1],
                interface=where[2],
                member=member,
                signature=signature,
                body=list(body),
            )
        )
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            detail = f"{reply.error_name}: {reply.body}" if reply is not None else "no reply"
            raise RuntimeError(f"{where[2]}.{member}: {detail}")
        return list(reply.body)

    async def refresh(self, where: tuple[str, str, str]) -> None:
        """Read every property of ``where`` (after a unit restarted, or at start)."""
        try:
            (props,) = await self.call((where[0], where[1], PROPS), "GetAll", "s", where[2])
        except RuntimeError:
            return  # not on the bus (yet): its signals fill the values in
        now = time.monotonic()
        for name, value in props.items():
            self.values.setdefault((where[1], where[2], name), (_plain(value), now))

    def value(self, where: tuple[str, str, str], prop: str) -> Any:
        return self.values.get((where[1], where[2], prop), (None, 0.0))[0]

    async def until(
        self,
        where: tuple[str, str, str],
        prop: str,
        wanted: Any,
        timeout_s: float = WAIT_S,
        since: float = 0.0,
    ) -> float:
        """Wait until the property equals ``wanted`` (or ``wanted(value)`` holds) with a value
        that arrived at or after ``since``; returns the arrival time of that value."""
        key = (where[1], where[2], prop)

        def holds() -> bool:
            value, at = self.values.get(key, (None, 0.0))
            ok = value == wanted or (callable(wanted) and value is not None and wanted(value))
            return bool(ok) and at >= since

        if not holds():
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            entry = (holds, fut)
            self._waiters.append(entry)
            try:
                await asyncio.wait_for(fut, timeout_s)
            except TimeoutError:
                raise TimeoutError(
                    f"{where[2]}.{prop} is {self.value(where, prop)!r}, wanted {wanted!r} "
                    f"(waited {timeout_s:g} s)"
                ) from None
            finally:
                self._waiters.remove(entry)
        return self.values[key][1]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value


# ---------------------------------------------------------------------------- a session
class TimedEvcc(Evcc):
    """The EV simulator, timing every request → response at the vehicle
    (time.perf_counter around the EXI encode, V2GTP/TLS write, read and decode)."""

    def __init__(self, options: EvOptions, log: logging.Logger) -> None:
        super().__init__(options, log)
        self.exchanges: list[tuple[str, float, float]] = []
        """(request name, wall-clock send time, round trip s)."""

    async def _exchange(
        self, doc: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        ((name, _),) = doc.items()
        wall, t0 = time.time(), time.perf_counter()
        body = await super()._exchange(doc, timeout_s)
        self.exchanges.append((name, wall, time.perf_counter() - t0))
        return body


def _think_time(exchanges: list[tuple[str, float, float]], skip: tuple[float, float]) -> float:
    """Sum of the gaps between a response and the next request up to the first
    DC_ChargeLoopReq (wall-clock send times plus round trips), leaving out the part of each
    gap inside ``skip`` (wall-clock interval: the physics then)."""
    total = 0.0
    for (_, sent, rtt), (name, next_sent, _) in itertools.pairwise(exchanges):
        start, end = sent + rtt, next_sent
        inside = max(0.0, min(end, skip[1]) - max(start, skip[0]))
        total += max(0.0, end - start - inside)
        if name == "DC_ChargeLoopReq":
            break
    return total


def self_test_interval(w: Watch, since: float, until: float) -> tuple[float, float]:
    """Arrival of SelfTest Running → arrival of its end, within [since, until] (monotonic);
    (0, 0) when there was none."""
    start = end = 0.0
    for at, value in w.history:
        if since <= at <= until:
            if value == "Running":
                start = at
            elif start and not end:
                end = at
    return (start, end) if start and end else (0.0, 0.0)


QUIET = logging.getLogger("ccy.soak.ev")
QUIET.setLevel(logging.WARNING)
QUIET.propagate = False


@dataclass
class SessionResult:
    ok: bool
    error: str = ""
    plug_to_charging_s: float = math.nan
    """From ccy-bsp's IdState Connected (PropertiesChanged arrival) to Evse1 State Charging."""
    ce_to_charging_s: float = math.nan
    """From ccy-bsp's CeState C (the vehicle plugged and HV-ready; the EV starts then) to
    Evse1 State Charging: plug-in → Charging without the MCU simulator's frame cycle."""
    self_test_s: float = 0.0
    """The IMD self-test (PowerStage1 SelfTest Running → Passed, as this client saw them)."""
    ev_think_s: float = math.nan
    """The EV's own time up to Charging outside the self-test: from each response's arrival
    to its next request (its retry sleeps, EXI encode/decode)."""
    loop_rtts_s: list[float] = field(default_factory=list)
    """EV-side DC_ChargeLoop round trips."""
    loop_sends: list[float] = field(default_factory=list)
    """Wall-clock send times of the DC_ChargeLoopReqs (for packet-capture matching)."""
    timing: dict[str, Any] = field(default_factory=dict)
    ev: EvResult | None = None


class Charger(Protocol):
    def mcu(self, **command: Any) -> None: ...


def ev_options(
    rig_root: Path, sdp_port: int, loops: int, loop_interval_s: float, retry_s: float
) -> EvOptions:
    store = CertsLayout(rig_root / "etc" / "ccy" / "certs")
    return EvOptions(
        sdp_port=sdp_port,
        tls=tls_mod.client_context(store.v2g_root),
        loops=loops,
        loop_interval_s=loop_interval_s,
        retry_interval_s=retry_s,
    )


async def ev_session(
    charger: Charger, w: Watch, options: EvOptions, *, keep_timing: bool = False
) -> SessionResult:
    """Plug in, CE C, the EV simulator's whole session, unplug, until Evse1 is Idle again."""
    result = SessionResult(ok=False)
    t_cmd = time.monotonic()
    try:
        charger.mcu(cmd="plug")
        t_plug = await w.until(BSP, "IdState", "Connected", since=t_cmd)
        charger.mcu(cmd="set_ce", state="C")  # the vehicle's HV-ready
        t_ce = await w.until(BSP, "CeState", "C", since=t_cmd)
        ev = TimedEvcc(options, QUIET)
        run = asyncio.create_task(ev.run())
        charging = asyncio.create_task(w.until(EVSE, "State", "Charging", since=t_cmd))
        done, _ = await asyncio.wait({run, charging}, return_when=asyncio.FIRST_COMPLETED)
        if charging in done:
            t_charging = charging.result()
            result.plug_to_charging_s = t_charging - t_plug
            result.ce_to_charging_s = t_charging - t_ce
        else:
            charging.cancel()
        result.ev = await run
        loops = [(wall, rtt) for name, wall, rtt in ev.exchanges if name == "DC_ChargeLoopReq"]
        result.loop_sends = [wall for wall, _ in loops]
        result.loop_rtts_s = [rtt for _, rtt in loops]
        if not math.isnan(result.ce_to_charging_s):
            a, b = self_test_interval(w, t_ce, t_ce + result.ce_to_charging_s)
            result.self_test_s = b - a
            wall = time.time() - time.monotonic()
            result.ev_think_s = _think_time(ev.exchanges, (a + wall, b + wall))
        if keep_timing:
            result.timing = dict(w.value(EVSE, "Timing") or {})
        result.ok = result.ev.outcome == "completed" and not math.isnan(result.plug_to_charging_s)
        if not result.ok:
            result.error = f"EV: {result.ev.outcome}; Charging seen: {charging in done}"
    except Exception as exc:  # one failed session is a counted failure, not the end of a soak
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            charger.mcu(cmd="unplug")
            await w.until(EVSE, "State", "Idle")
            await w.until(BSP, "IdState", lambda v: v != "Connected")
        except Exception as exc:
            result.ok = False
            result.error += f"; back to Idle: {type(exc).__name__}: {exc}"
    return result


async def sdp_port(w: Watch) -> int:
    (value,) = await w.call((V2G[0], V2G[1], PROPS), "Get", "ss", V2G[2], "SdpPort")
    return int(_plain(value))


async def ready_to_charge(w: Watch, timeout_s: float = WAIT_S) -> None:
    """Evse1 waits for no peer (after a start or a restart)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            (value,) = await w.call((EVSE[0], EVSE[1], PROPS), "Get", "ss", EVSE[2], "WaitingFor")
            if not _plain(value):
                await w.refresh(EVSE)
                await w.refresh(STAGE)
                return
        except RuntimeError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("ccy-evse still waits for a peer")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------------- the soak
@dataclass
class Usage:
    session_folders: int
    session_bytes: int
    db_bytes: dict[str, int]
    transactions: int
    open_transactions: int
    error_rows: int


def usage(rig: ChargerRig) -> Usage:
    paths = Paths.from_root(rig.stack.layout.dir)
    folders = list_folders(paths.log / "sessions")
    db = database_path(paths)
    sizes = {p.name: p.stat().st_size for p in db.parent.glob(db.name + "*")}
    reader = RecordReader.open_readonly(db)
    try:
        txs = reader.last_transactions(1_000_000)
        errors = reader.error_count()
    finally:
        reader.close()
    return Usage(
        len(folders),
        sum(f.size_bytes() for f in folders),
        sizes,
        len(txs),
        sum(1 for t in txs if t.stop_us is None),
        errors,
    )


@dataclass
class SoakReport:
    sessions: int
    failures: list[str]
    seconds: float
    before: dict[str, ProcSample]
    after: dict[str, ProcSample]
    restarts: dict[str, int]
    usage: Usage
    max_count: int
    max_bytes: int
    plug_to_charging_s: list[float]
    loop_rtts_s: list[float]
    load: str
    trend: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    """(sessions done, unit → RSS KiB) every ``TREND_EVERY`` sessions: a leak grows on,
    a warm-up (allocator arenas, caches, a thread pool) levels off."""

    def problems(self) -> list[str]:
        """Every check that failed, one line each (empty: the soak passed)."""
        out = [f"{len(self.failures)} of {self.sessions} sessions failed"] if self.failures else []
        for name, n in self.restarts.items():
            if n:
                out.append(f"{name} restarted {n} times")
        for name, b in self.before.items():
            a = self.after.get(name)
            if a is None:
                out.append(f"{name} is gone")
                continue
            if a.rss_kib > b.rss_kib * (1 + RSS_GROWTH_LIMIT):
                out.append(f"{name}: RSS {b.rss_kib} → {a.rss_kib} KiB (> +5 %)")
            if a.fds > b.fds + FD_GROWTH_LIMIT:
                out.append(f"{name}: open descriptors {b.fds} → {a.fds}")
        u = self.usage
        if u.session_folders > self.max_count or u.session_bytes > self.max_bytes:
            out.append(
                f"session logs: {u.session_folders} folders, {u.session_bytes} bytes "
                f"(limits {self.max_count}, {self.max_bytes})"
            )
        if u.open_transactions:
            out.append(f"{u.open_transactions} transactions left open")
        if u.error_rows > DEFAULT_MAX_ERROR_ROWS:
            out.append(f"error history has {u.error_rows} rows")
        wal = sum(v for k, v in u.db_bytes.items() if k.endswith("-wal"))
        if wal > WAL_MARGIN_BYTES:
            out.append(f"WAL is {wal} bytes")
        return out


def _settings(rig: ChargerRig) -> tuple[int, int]:
    evse = _config(rig).get("evse") or {}
    manifest = yaml.safe_load((HERE.parents[1] / "config/manifests/evse.yaml").read_text())
    keys = manifest["keys"]
    count = int(evse.get("session_log_max_count", keys["session_log_max_count"]["default"]))
    size = int(evse.get("session_log_max_bytes", keys["session_log_max_bytes"]["default"]))
    return count, size


async def soak(
    rig: ChargerRig,
    n: int,
    *,
    loops: int = 2,
    loop_interval_s: float = 0.02,
    warmup: int = 3,
    progress: Callable[[str], None] | None = None,
) -> SoakReport:
    """``warmup`` sessions, the baseline, ``n`` sessions, the checks' inputs."""
    w = await Watch.connect(rig.stack.address())
    try:
        await ready_to_charge(w)
        port = await sdp_port(w)
        options = ev_options(rig.stack.layout.dir, port, loops, loop_interval_s, 0.01)
        for _ in range(warmup):
            r = await ev_session(rig, w, options)
            if not r.ok:
                raise RuntimeError(f"warm-up session failed: {r.error}")
        before = {name: sample(pid) for name, pid in units_of(rig).items()}
        restarts = {name: rig.stack.restarts(name) for name in rig.units}
        failures: list[str] = []
        p2c: list[float] = []
        rtts: list[float] = []
        trend: list[tuple[int, dict[str, int]]] = [(0, {k: v.rss_kib for k, v in before.items()})]
        t0 = time.monotonic()
        for i in range(n):
            r = await ev_session(rig, w, options)
            if r.ok:
                p2c.append(r.plug_to_charging_s)
                rtts.extend(r.loop_rtts_s)
            else:
                failures.append(f"session {i + 1}: {r.error}")
            if (i + 1) % TREND_EVERY == 0 or i + 1 == n:
                trend.append((i + 1, {k: sample(p).rss_kib for k, p in units_of(rig).items()}))
            if progress is not None and (i + 1) % 100 == 0:
                progress(f"{i + 1}/{n} sessions, {len(failures)} failed, {loadavg()}")
        seconds = time.monotonic() - t0
        after = {name: sample(pid) for name, pid in units_of(rig).items()}
        restarts = {name: rig.stack.restarts(name) - restarts[name] for name in rig.units}
    finally:
        w.close()
    max_count, max_bytes = _settings(rig)
    return SoakReport(
        n,
        failures,
        seconds,
        before,
        after,
        restarts,
        usage(rig),
        max_count,
        max_bytes,
        p2c,
        rtts,
        loadavg(),
        trend,
    )


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def print_report(r: SoakReport, out: Callable[[str], None] = print) -> None:
    each = r.seconds / max(1, r.sessions)
    out(f"sessions: {r.sessions} in {r.seconds:.0f} s ({each:.2f} s each), "
        f"failed: {len(r.failures)}; {r.load}")  # fmt: skip
    for line in r.failures[:10]:
        out(f"  {line}")
    out(f"{'unit':<18} {'RSS before':>11} {'RSS after':>10} {'growth':>7} {'PSS after':>10} "
        f"{'fds':>9} {'threads':>7}")  # fmt: skip
    for name, b in r.before.items():
        a = r.after.get(name, ProcSample(-1, -1, -1))
        growth = (a.rss_kib - b.rss_kib) / b.rss_kib * 100 if b.rss_kib > 0 else math.nan
        out(
            f"{name:<18} {b.rss_kib / 1024:>8.1f} MiB {a.rss_kib / 1024:>6.1f} MiB "
            f"{growth:>+6.1f}% {a.pss_kib / 1024:>6.1f} MiB {b.fds:>4} → {a.fds:<3} "
            f"{b.threads:>2} → {a.threads:<2}"
        )
    if len(r.trend) > 2:
        out("RSS (MiB) after " + " ".join(str(done) for done, _ in r.trend) + " sessions:")
        for name in r.before:
            values = " ".join(f"{rss.get(name, -1) / 1024:.1f}" for _, rss in r.trend)
            out(f"  {name:<16} {values}")
    u = r.usage
    out(
        f"session logs: {u.session_folders} folders (limit {r.max_count}), "
        f"{u.session_bytes / 1024:.0f} KiB (limit {r.max_bytes / 1024 / 1024:.0f} MiB)"
    )
    dbs = ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sorted(u.db_bytes.items()))
    out(
        f"database: {dbs}; {u.transactions} transactions ({u.open_transactions} open), "
        f"{u.error_rows} error rows (cap {DEFAULT_MAX_ERROR_ROWS})"
    )
    if r.plug_to_charging_s:
        out(
            f"plug-in → Charging: p50 {percentile(r.plug_to_charging_s, 50) * 1e3:.0f} ms, "
            f"p99 {percentile(r.plug_to_charging_s, 99) * 1e3:.0f} ms; EV-side DC_ChargeLoop "
            f"round trip over TLS: p50 {percentile(r.loop_rtts_s, 50) * 1e3:.2f} ms, "
            f"p99 {percentile(r.loop_rtts_s, 99) * 1e3:.2f} ms"
        )
    problems = r.problems()
    out("result: " + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))


@contextmanager
def soak_rig(physics: Physics, evse_keys: dict[str, Any] | None = None) -> Iterator[ChargerRig]:
    """The whole stack in a fresh folder with ``physics``; stopped and removed after."""
    directory = traversable_tmp("ccy-soak-")
    rig = ChargerRig(directory)
    try:
        rig.up()
        apply_physics(rig, physics, evse_keys)
        yield rig
    finally:
        rig.down()
        shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    p.add_argument("sessions", nargs="?", type=int, default=1000)
    p.add_argument("--loops", type=int, default=2, help="DC_ChargeLoops per session")
    p.add_argument("--physics", choices=sorted(PHYSICS), default="instant")
    p.add_argument("--session-log-max-count", type=int, help="evse.session_log_max_count")
    p.add_argument(
        "--no-self-test",
        action="store_true",
        help="evse.imd_self_test false: no IMD self-test phase (0.5 s less per session)",
    )
    args = p.parse_args(args_in)
    if args.sessions < 1 or args.loops < 1:
        p.error("sessions and loops must be at least 1")
    keys: dict[str, Any] = {}
    if args.session_log_max_count:
        keys["session_log_max_count"] = args.session_log_max_count
    if args.no_self_test:
        keys["imd_self_test"] = False
    print(f"soak: {args.sessions} sessions, {args.loops} charge loops each, physics "
          f"{args.physics}; {loadavg()}", flush=True)  # fmt: skip
    with soak_rig(PHYSICS[args.physics], keys) as rig:
        report = asyncio.run(
            soak(rig, args.sessions, loops=args.loops, progress=lambda s: print(s, flush=True))
        )
    print_report(report)
    return 1 if report.problems() else 0


if __name__ == "__main__":
    raise SystemExit(main())
