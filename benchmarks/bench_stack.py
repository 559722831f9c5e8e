# SPDX-License-Identifier: Apache-2.0
"""The whole charger's performance table (issue 15), beside the seed's EVerest figures.

The stack is started by this process the way ``ccy-sim up``'s supervisor does it
(ccy.sim.supervisor.Supervisor: private system bus with ccy's policies, the RFID simulator,
every unit of ccy.sim.stack_table.STACK with READY=1 on a notify socket), with two
differences that make the figures measurable: the units may start in systemd's order (each
unit once the units its unit file names in After= are READY, the others at once, as
ccy.target starts them), and the MCU simulator runs in a thread of this process, so the moment it
writes a frame and the moment a bus client here receives a signal are read from one
monotonic clock. The power stage is ccy-profinet's simulated one (profinet.mode simulated).

Measured, each line with the load average at that moment:

- Start: each unit's spawn → READY=1 (as systemd's ``Type=notify`` sees it) and the whole
  stack (first spawn → last READY): in systemd's order (units without an After= between them
  start together and share the two cores) and one unit at a time (``ccy-sim up``'s order: each
  unit's own time); ``--starts N`` adds starts of both kinds (default 2: one of each).
- Memory: Pss from /proc/PID/smaps_rollup of the five units summed (shared pages of the
  interpreter and libraries divided among the processes sharing them), Rss beside it;
  after READY and after the sessions; per unit also its private pages (Private_Clean +
  Private_Dirty) and threads. The kernel's Pss divides a page among every process mapping
  it, on this machine also other Python processes, so it moves with whatever else runs; "PSS
  among the five units" (root: /proc/PID/pagemap) divides each resident page only among the
  units, as on the device. ``--memory`` measures only this, after READY (``--starts`` times).
- Charge loop over TLS: one EV simulator session (``ccy.sim.ev``, TLS 1.3, DC_ChargeLoop every
  25 ms) through ccy-v2g and the real ccy-evse. At the SECC: a packet capture on ``lo`` of
  ccy-v2g's TLS port (dumpcap, root) gives the kernel's time stamps of each request segment
  in and its response segment out (TLS, V2GTP, EXI and the Evse1.ChargeLoop call included;
  only differences between stamps of the capture are used: its clock and this process's
  differ by up to a millisecond on loopback); ccy-v2g's own journal lines (``CAR ISO V2G
  DcChargeLoopReq`` → ``EVSE ISO V2G DcChargeLoopRes``, µs stamps) give decode → encode;
  the EV's round trip is printed too.
- E-stop: while charging, the MCU simulator's first ChargeState2 frame carrying E-stop reason
  EmergencyInput (its write to the pty) → the PropertiesChanged of org.ccy.PowerStage1 with
  Mode Off received here (ccy-bsp → ccy-evse → power stage → this client).
- Plug-in → Charging: the EV session from ccy-bsp's IdState Connected to Evse1 State
  Charging, with the simulator's physics (``seed``: 100 ms relay, 500 V/s ramps, 0.5 s IMD
  self-test and measurement, the dummy validator's 250 ms) and with ``instant`` physics
  (benchmarks/soak.py INSTANT: every physical wait as short as the simulators allow). The
  overhead above physics is the instant run's CE C → Charging (before CE C only the MCU
  simulator's 100 ms frame cycle runs, which is physics) minus the IMD self-test, which
  ccy-profinet's model fixes at 0.5 s (its interval, PowerStage1 SelfTest Running → Passed
  as this client saw it), minus the EV's own time between a response and its next request
  outside that interval (it repeats Ongoing requests after 1 ms). The stage's 5 ms tick and
  its ≤ 8 ms ramps stay in the overhead. seed − instant is the physics, shown with
  ccy-evse's Timing phases.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_stack.py [--starts N] [--loops N]
[--estops N] [--sessions N]``; memory only: ``… bench_stack.py --memory [--starts N]``.
"""

import argparse
import array
import asyncio
import collections
import contextlib
import getpass
import logging
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

import soak
from ccy.runtime.paths import dbus_dir
from ccy.sim.layout import Layout
from ccy.sim.mcu.commands import CommandHandler
from ccy.sim.mcu.messages import ChargeState2, EstopReason, Message
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.run import reset_line_handler
from ccy.sim.mcu.server import McuSimulator
from ccy.sim.procs import Proc
from ccy.sim.restart import RestartTracker
from ccy.sim.stack_table import (
    NEVER,
    STACK,
    SimulatorRow,
    UnitRow,
    check_table,
    simulators_for,
)
from ccy.sim.supervisor import BUS, Entry, StackError, Supervisor
from ccy.testing.bus_daemon import PrivateBus, user_policy

TOP = Path(__file__).resolve().parents[1]
UNIT_FILES = TOP / "services" / "systemd"
READY_S = 30.0
SEED = {
    "init_s": 2.415,
    "charge_loop_ms": 87.5,
    "plug_to_current_demand_ms": 3095.0,
}
"""The seed's figures (EVerest on the i.MX93, getting_started.rst): "All modules are
initialized [2415ms]", the median of its logged DC charge-loop request → response, and the
Timing statistics' plug-in → CurrentDemand total."""
PRESENT = 1 << 63
PFN_MASK = (1 << 55) - 1
"""/proc/PID/pagemap entry: bit 63 page present, bits 0-54 the frame number."""
V2G_LINE = re.compile(r"^(\S+) \S+ ccy-v2g\[\d+\]: \[\w+\]\s+(CAR|EVSE) ISO V2G (\w+)")


# ---------------------------------------------------------------------------- MCU simulator
class TimedSimulator(McuSimulator):
    """Records when each ChargeState2 that first carries an E-stop reason left for the pty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.estop_written: list[float] = []
        self._last = EstopReason.NO_STOP

    def _send(self, message: Message) -> None:
        super()._send(message)
        if isinstance(message, ChargeState2) and message.estop is not self._last:
            self._last = message.estop
            if message.estop is not EstopReason.NO_STOP:
                self.estop_written.append(time.monotonic())


class McuThread(threading.Thread):
    """The MCU simulator on the layout's pty link and reset FIFO, in its own loop."""

    def __init__(self, layout: Layout) -> None:
        super().__init__(daemon=True)
        self.layout = layout
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        log = logging.getLogger("bench.mcu")
        self.model = McuModel()
        self.sim = TimedSimulator(self.model, log)
        self.handler = CommandHandler(self.sim)
        self._log = log

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.started.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.sim.open()
        self.sim.link(self.layout.tty_link)
        handler = reset_line_handler(self.model, self.sim.clock, self._log)
        self.fifo = ResetFifo(self.layout.reset_fifo, handler, self._log)
        self.fifo.open()
        await self.sim.start()

    async def _shutdown(self) -> None:
        await self.sim.stop()
        self.fifo.close()

    def close(self) -> None:
        """Stop the simulator (pty, FIFO) and its loop; the thread ends."""
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(5)

    async def _handle(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.handler.handle(command)

    def mcu(self, **command: Any) -> None:
        """A scenario command (plug, set_ce, estop …), as the control socket takes it."""
        reply = asyncio.run_coroutine_threadsafe(self._handle(command), self.loop).result(5)
        if not reply.get("ok"):
            raise RuntimeError(f"MCU simulator refused {command}: {reply}")


# ---------------------------------------------------------------------------- the stack
def after_of(unit: str) -> set[str]:
    """The ccy units its unit file orders it after (After=)."""
    path = UNIT_FILES / f"{unit}.service"
    names: set[str] = set()
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("After="):
                names |= {n.removesuffix(".service") for n in line[6:].split()}
    return {n for n in names if n.startswith("ccy-")}


class BenchStack(Supervisor):
    """The supervisor's start, in systemd's order, with each READY time recorded."""

    def __init__(self, layout: Layout, mcu: McuThread, one_by_one: bool) -> None:
        super().__init__(layout, STACK)
        self.one_by_one = one_by_one
        """Start each unit once the one before it is READY (ccy-sim up's order)."""
        self.mcu_thread = mcu
        self.spawned: dict[str, float] = {}
        self.ready: dict[str, float] = {}

    def mcu(self, **command: Any) -> None:
        self.mcu_thread.mcu(**command)

    def _start_simulator(self, sim: SimulatorRow) -> None:
        if sim.name != "mcu-sim":  # the MCU simulator is this process's thread
            super()._start_simulator(sim)

    def _spawn(self, entry: Entry) -> None:
        self.spawned[entry.name] = time.monotonic()
        super()._spawn(entry)

    def _entry(self, name: str, argv: list[str], row: UnitRow | None) -> Entry:
        entry = Entry(name, argv, row, RestartTracker(NEVER))
        path = self.layout.notify_socket(name)
        path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.setblocking(False)
        self.notify[name] = sock
        entry.env = {"NOTIFY_SOCKET": str(path)}
        self.entries[name] = entry
        return entry

    def start(self) -> None:
        check_table(self.units)
        self._check_profile()
        lay = self.layout
        self.bus = PrivateBus(lay.bus_dir, [dbus_dir() / "policy"], user_policy(getpass.getuser()))
        self.address = self.bus.start()
        assert self.bus.pid is not None
        bus_entry = Entry(BUS, [], None, RestartTracker(NEVER), Proc.of(self.bus.pid))
        bus_entry.state = "running"
        self.entries[BUS] = bus_entry
        for sim in simulators_for(self.units):
            self._start_simulator(sim)
        waiting: dict[str, tuple[list[str], UnitRow | None, set[str]]] = {}
        before: set[str] = set()
        for unit in self.units:
            exe = shutil.which(unit.command, path=str(Path(sys.executable).parent))
            argv = [exe or unit.command, *(a.format(**lay.placeholders) for a in unit.args)]
            after = set(before) if self.one_by_one else after_of(unit.name)
            waiting[unit.name] = (argv, unit, after)
            before.add(unit.name)
        names = set(waiting)
        selector = selectors.DefaultSelector()
        deadline = time.monotonic() + READY_S
        while waiting or len(self.ready) < len(names):
            for name, (argv, row, after) in list(waiting.items()):
                if after & names <= set(self.ready):
                    entry = self._entry(name, argv, row)
                    selector.register(self.notify[name], selectors.EVENT_READ, name)
                    self._spawn(entry)
                    del waiting[name]
            for key, _ in selector.select(min(0.2, max(0.0, deadline - time.monotonic()))):
                name = key.data
                with contextlib.suppress(BlockingIOError):
                    while True:
                        if b"READY=1" in self.notify[name].recv(4096).split(b"\n"):
                            self.ready.setdefault(name, time.monotonic())
                            self.entries[name].state = "running"
            for name, entry in self.entries.items():
                if name in names and name not in self.ready and not _alive(entry):
                    raise StackError(f"{name} exited during start-up; see {self._log_of(name)}")
            if time.monotonic() > deadline:
                missing = sorted(names - set(self.ready))
                raise StackError(f"no READY=1 within {READY_S:.0f} s from {', '.join(missing)}")
        selector.close()
        # Nobody reads STATUS= after READY here (systemd would): close and remove the sockets,
        # so a unit's later sd_notify fails at once instead of blocking on a full queue.
        for name, sock in self.notify.items():
            sock.close()
            self.layout.notify_socket(name).unlink(missing_ok=True)

    def start_times(self) -> dict[str, float]:
        return {n: self.ready[n] - self.spawned[n] for n in self.ready}

    def whole(self) -> float:
        return max(self.ready.values()) - min(self.spawned.values())

    def unit_pids(self) -> dict[str, int]:
        return {
            n: e.proc.pid
            for n, e in self.entries.items()
            if e.proc is not None and n in {u.name for u in self.units}
        }

    def stop(self) -> None:
        self.stop_all()
        for sock in self.notify.values():
            sock.close()
        for handler in list(self.log.handlers):
            self.log.removeHandler(handler)
            handler.close()


def _alive(entry: Entry) -> bool:
    return entry.proc is not None and entry.proc.is_ours()


def write_config(layout: Layout, physics: soak.Physics) -> None:
    """The simulator profile with ``physics``'s keys, as DIR/etc/ccy/config.yaml."""
    etc = layout.dir / "etc" / "ccy"
    data = yaml.safe_load((etc / "sim.yaml").read_text()) or {}
    for section, keys in soak.physics_keys(physics).items():
        if section in data or section != "profinet":
            data[section] = {**(data.get(section) or {}), **keys}
    config = etc / "config.yaml"
    config.unlink(missing_ok=True)
    config.write_text(yaml.safe_dump(data, sort_keys=False))


# ---------------------------------------------------------------------------- measurements
def rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup's kB fields (Rss, Pss, Private_Clean, …) and the thread count."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        fields[key] = int(rest.split()[0])
    fields["Threads"] = len(os.listdir(f"/proc/{pid}/task"))
    return fields


def resident_frames(pid: int) -> list[int]:
    """The physical frame numbers of ``pid``'s resident pages (/proc/PID/pagemap; root)."""
    frames: list[int] = []
    page = os.sysconf("SC_PAGE_SIZE")
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            start, end = (int(x, 16) for x in line.split()[0].split("-"))
            try:
                pagemap.seek(start // page * 8)
                entries = array.array("Q", pagemap.read((end - start) // page * 8))
            except OSError:  # [vsyscall]
                continue
            frames.extend(e & PFN_MASK for e in entries if e & PRESENT and e & PFN_MASK)
    return frames


def pss_among(pids: dict[str, int]) -> dict[str, float]:
    """Each process's PSS (KiB) counting only the processes in ``pids`` as sharers.

    The kernel's Pss divides a shared page among every process that maps it, here also other
    Python processes (tests, this benchmark), so the sum moves with whatever else runs; on the
    device only the units run Python. This divides each resident page only among the given
    processes (pagemap frame numbers, readable by root only); {} without root."""
    try:
        frames = {name: resident_frames(pid) for name, pid in pids.items()}
    except OSError:
        return {}
    if any(f and max(f) == 0 for f in frames.values()):
        return {}  # frame numbers hidden (no CAP_SYS_ADMIN)
    count: collections.Counter[int] = collections.Counter()
    for f in frames.values():
        count.update(set(f))
    page_kib = os.sysconf("SC_PAGE_SIZE") / 1024
    return {name: sum(page_kib / count[x] for x in f) for name, f in frames.items()}


def memory_only(layout: Layout, mcu: McuThread, starts: int) -> None:
    """``--memory``: start the stack ``starts`` times (seed physics, systemd's order) and print
    each unit's Pss, Rss, Private (clean + dirty: what the unit alone holds) and threads one
    second after the last READY=1, then the sums."""
    for i in range(starts):
        stack = start_stack(layout, mcu, soak.SEED)
        try:
            time.sleep(1.0)
            pids = stack.unit_pids()
            rows = {name: rollup(pid) for name, pid in pids.items()}
            among = pss_among(pids)
        finally:
            stack.stop()
        print(
            f"start {i + 1}: {'unit':<14} {'PSS':>8} {'RSS':>8} {'private':>8} {'threads':>7}"
            f" {'PSS among the units':>20}"
        )
        for name, f in rows.items():
            private = f["Private_Clean"] + f["Private_Dirty"]
            five = f"{among[name] / 1024:20.1f}" if among else f"{'(needs root)':>20}"
            print(
                f"         {name:<14} {f['Pss'] / 1024:8.1f} {f['Rss'] / 1024:8.1f}"
                f" {private / 1024:8.1f} {f['Threads']:7d} {five}"
            )
        pss = sum(f["Pss"] for f in rows.values()) / 1024
        rss = sum(f["Rss"] for f in rows.values()) / 1024
        private_sum = sum(f["Private_Clean"] + f["Private_Dirty"] for f in rows.values()) / 1024
        five_sum = f"{sum(among.values()) / 1024:20.1f}" if among else ""
        print(
            f"         {'five units':<14} {pss:8.1f} {rss:8.1f} {private_sum:8.1f}"
            f" {'':7} {five_sum}  MiB (goal ≤ 100 MB = {100e6 / 2**20:.1f} MiB)"
        )


def memory(pids: dict[str, int]) -> tuple[dict[str, dict[str, int]], int, int]:
    """Each unit's :func:`rollup`, and the sums of Pss and Rss (KiB)."""
    rows = {n: rollup(p) for n, p in pids.items()}
    return (
        rows,
        sum(f["Pss"] for f in rows.values()),
        sum(f["Rss"] for f in rows.values()),
    )


def unit_line(f: dict[str, int]) -> str:
    private = f["Private_Clean"] + f["Private_Dirty"]
    return f"{f['Pss'] / 1024:.1f} ({f['Rss'] / 1024:.1f}) {private / 1024:.1f} {f['Threads']}t"


class Capture:
    """dumpcap on ``lo`` for one TCP port (root only); None-safe when unavailable."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.file = folder / f"v2g-{port}.pcapng"
        self.proc: subprocess.Popen[bytes] | None = None
        self.why = ""

    def start(self) -> bool:
        exe = shutil.which("dumpcap")
        if exe is None or shutil.which("tshark") is None or os.geteuid() != 0:
            self.why = "no dumpcap/tshark or not root"
            return False
        self.proc = subprocess.Popen(
            [exe, "-q", "-i", "lo", "-f", f"tcp port {self.port}", "-w", str(self.file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 5
        while not (self.file.exists() and self.file.stat().st_size > 0):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                self.why = f"dumpcap did not start: {err.strip()[:200]}"
                self.stop()
                return False
            time.sleep(0.05)
        time.sleep(0.5)  # the capture filter is attached once the file header is written
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(10)

    def secc_times(self, sends: list[float]) -> list[float]:
        """Each request's segment into the SECC → the next segment out of it (seconds), for
        the requests sent at the wall-clock times ``sends``."""
        out = subprocess.run(
            ["tshark", "-r", str(self.file), "-Y", "tcp.len > 0", "-T", "fields",
             "-e", "frame.time_epoch", "-e", "tcp.srcport", "-e", "tcp.dstport"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        packets = []
        for line in out.splitlines():
            t, src, dst = line.split("\t")
            packets.append((float(t), int(src), int(dst)))
        times = []
        ins = [(t, k) for k, (t, src, dst) in enumerate(packets) if dst == self.port]
        for sent in sends:
            # The capture's stamps and this process's clock may differ by about a millisecond
            # (the kernel stamps loopback packets its own way): the request is the segment
            # nearest in time (requests are 25 ms apart), its response the next one back.
            if not ins:
                break
            _, k = min(ins, key=lambda p: abs(p[0] - sent))
            out_k = next(
                (j for j in range(k + 1, len(packets)) if packets[j][1] == self.port), None
            )
            if out_k is not None:
                times.append(packets[out_k][0] - packets[k][0])
        return times


def log_pairs(text: str, request: str, response: str) -> list[float]:
    """Seconds between ccy-v2g's ``CAR ISO V2G <request>`` and the next
    ``EVSE ISO V2G <response>`` journal lines."""
    pairs, pending = [], None
    for line in text.splitlines():
        m = V2G_LINE.match(line)
        if m is None:
            continue
        at = datetime.fromisoformat(m[1]).timestamp()
        if m[2] == "CAR":
            pending = at if m[3] == request else None
        elif m[3] == response and pending is not None:
            pairs.append(at - pending)
            pending = None
    return pairs


async def estop_cycle(stack: BenchStack, w: soak.Watch, options: Any) -> tuple[float, float]:
    """While charging: E-stop → (frame → PowerOnAllowed false, frame → stage Mode Off)."""
    stack.mcu(cmd="plug")
    t_cmd = time.monotonic()
    await w.until(soak.BSP, "IdState", "Connected", since=t_cmd)
    stack.mcu(cmd="set_ce", state="C")
    await w.until(soak.BSP, "CeState", "C", since=t_cmd)
    ev = asyncio.create_task(soak.TimedEvcc(options, soak.QUIET).run())
    try:
        await w.until(soak.EVSE, "State", "Charging", since=t_cmd)
        await asyncio.sleep(0.05)
        if w.value(soak.STAGE, "Mode") == "Off":
            raise RuntimeError("charging, yet the power stage is Off")
        written = len(stack.mcu_thread.sim.estop_written)
        t_estop = time.monotonic()
        stack.mcu(cmd="estop", reason="EmergencyInput")
        t_off = await w.until(soak.STAGE, "Mode", "Off", since=t_estop)
        t_bsp = await w.until(soak.BSP, "PowerOnAllowed", False, since=t_estop)
        frames = stack.mcu_thread.sim.estop_written
        if len(frames) <= written:
            raise RuntimeError("the E-stop frame was not recorded")
        frame = frames[written]
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ev, 5)
        ev.cancel()
        stack.mcu(cmd="estop", reason="NoStop")
        t_un = time.monotonic()
        stack.mcu(cmd="unplug")
        await w.until(soak.EVSE, "State", "Idle", since=t_un)
        await w.until(soak.BSP, "SafeState", "Normal")
    return t_bsp - frame, t_off - frame


def ms(values: list[float], p: float) -> float:
    return soak.percentile(values, p) * 1e3


class Table:
    def __init__(self) -> None:
        self.rows: list[str] = []

    def row(self, what: str, value: str, goal: str = "", seed: str = "") -> None:
        line = f"{what:<70} {value:>20} {goal:>9} {seed:>26}  {soak.loadavg()}"
        self.rows.append(line)
        print(line, flush=True)


async def run_sessions(
    stack: BenchStack, n: int, loops: int, interval_s: float, retry_s: float, timing: bool
) -> list[soak.SessionResult]:
    w = await soak.Watch.connect(stack.address)
    try:
        await soak.ready_to_charge(w)
        port = await soak.sdp_port(w)
        options = soak.ev_options(stack.layout.dir, port, loops, interval_s, retry_s)
        results = [await soak.ev_session(stack, w, options, keep_timing=timing) for _ in range(n)]
    finally:
        w.close()
    bad = [r.error for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"{len(bad)} sessions failed: {bad[0]}")
    return results


async def charge_loop_run(
    stack: BenchStack, loops: int, folder: Path
) -> tuple[list[float], list[float], list[float], str]:
    """One session with ``loops`` DC_ChargeLoops: (pcap SECC, log SECC, EV round trips, note)."""
    w = await soak.Watch.connect(stack.address)
    try:
        await soak.ready_to_charge(w)
        port = await soak.sdp_port(w)
        (tls_port,) = await w.call(
            (soak.V2G[0], soak.V2G[1], soak.PROPS), "Get", "ss", soak.V2G[2], "TlsPort"
        )
        capture = Capture(int(tls_port.value), folder)
        captured = capture.start()
        log_file = stack.layout.log_dir / "ccy-v2g.log"
        offset = log_file.stat().st_size
        options = soak.ev_options(stack.layout.dir, port, loops, 0.025, 0.01)
        result = await soak.ev_session(stack, w, options)
    finally:
        w.close()
    capture.stop()
    if not result.ok:
        raise RuntimeError(f"charge-loop session failed: {result.error}")
    with log_file.open() as f:
        f.seek(offset)
        logged = log_pairs(f.read(), "DcChargeLoopReq", "DcChargeLoopRes")
    pcap = capture.secc_times(result.loop_sends) if captured else []
    return pcap, logged, result.loop_rtts_s, capture.why


def start_stack(
    layout: Layout, mcu: McuThread, physics: soak.Physics, one_by_one: bool = False
) -> BenchStack:
    layout.prepare()
    write_config(layout, physics)
    stack = BenchStack(layout, mcu, one_by_one)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--starts", type=int, default=2, help="stack starts (≥ 2)")
    p.add_argument("--loops", type=int, default=200, help="DC_ChargeLoops in the TLS run")
    p.add_argument("--estops", type=int, default=20, help="E-stop cycles")
    p.add_argument("--sessions", type=int, default=10, help="instant-physics sessions")
    p.add_argument("--seed-sessions", type=int, default=2, help="seed-physics sessions")
    p.add_argument(
        "--memory",
        action="store_true",
        help="only the memory after READY, per unit (--starts times), then exit",
    )
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ccy-bst-"))
    layout = Layout(folder / "s")
    layout.prepare()
    mcu = McuThread(layout)
    mcu.start()
    mcu.started.wait(10)
    if args.memory:
        try:
            memory_only(layout, mcu, args.starts)
        finally:
            mcu.close()
            shutil.rmtree(folder, ignore_errors=True)
        return
    t = Table()
    print(f"{'measure':<70} {'ccy, this machine':>20} {'goal':>9} {'seed (EVerest, i.MX93)':>26}")
    starts: list[dict[str, float]] = []
    wholes: list[float] = []
    alone: list[dict[str, float]] = []
    alone_wholes: list[float] = []
    try:
        # Seed physics: start → READY, memory at rest, plug-in → Charging with the physics.
        stack = start_stack(layout, mcu, soak.SEED)
        starts.append(stack.start_times())
        wholes.append(stack.whole())
        time.sleep(1.0)
        idle_unit, pss_idle, rss_idle = memory(stack.unit_pids())
        among_idle = pss_among(stack.unit_pids())
        try:
            seed = asyncio.run(run_sessions(stack, args.seed_sessions, 2, 0.05, 0.001, True))
        finally:
            stack.stop()
        for i in range(max(0, args.starts - 2)):
            stack = start_stack(layout, mcu, soak.INSTANT, one_by_one=i % 2 == 1)
            (alone if stack.one_by_one else starts).append(stack.start_times())
            (alone_wholes if stack.one_by_one else wholes).append(stack.whole())
            stack.stop()
        # Instant physics: overhead, charge loop over TLS, E-stop, memory after all that. This
        # start goes one unit at a time, as ``ccy-sim up`` does: each unit's time alone.
        stack = start_stack(layout, mcu, soak.INSTANT, one_by_one=True)
        alone.append(stack.start_times())
        alone_wholes.append(stack.whole())
        try:
            fast = asyncio.run(run_sessions(stack, args.sessions, 2, 0.02, 0.001, False))
            pcap, logged, ev_rtt, why = asyncio.run(charge_loop_run(stack, args.loops, folder))
            estops = asyncio.run(estop_series(stack, args.estops))
            per_unit, pss_after, rss_after = memory(stack.unit_pids())
            among_after = pss_among(stack.unit_pids())
        finally:
            stack.stop()
    finally:
        mcu.close()
        if not os.environ.get("CCY_BENCH_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")

    names = list(starts[0])
    t.row(
        f"stack start → every unit READY, systemd's order, median of {len(wholes)} (s)",
        f"{statistics.median(wholes):.2f}",
        "≤ 1.5",
        f"{SEED['init_s']:.1f} (modules initialised)",
    )
    for name in names:
        values = [s[name] for s in starts if name in s]
        t.row(f"  {name} spawn → READY=1 (s)", f"{statistics.median(values):.2f}")
    t.row(
        f"stack start one unit at a time (ccy-sim up), median of {len(alone_wholes)} (s)",
        f"{statistics.median(alone_wholes):.2f}",
    )
    for name in names:
        values = [s[name] for s in alone if name in s]
        t.row(f"  {name} alone: spawn → READY=1 (s)", f"{statistics.median(values):.2f}")
    t.row(
        "memory of the five units, PSS (RSS) after READY",
        f"{pss_idle / 1024:.1f} ({rss_idle / 1024:.1f}) MiB",
        "≤ 100 MB",
    )
    t.row(
        "  after the sessions",
        f"{pss_after / 1024:.1f} ({rss_after / 1024:.1f}) MiB",
        "≤ 100 MB",
    )
    if among_idle and among_after:
        t.row(
            "  PSS among the five units only (pagemap): after READY | after the sessions",
            f"{sum(among_idle.values()) / 1024:.1f} | {sum(among_after.values()) / 1024:.1f} MiB",
            "≤ 100 MB",
        )
    for name, f in per_unit.items():
        t.row(
            f"    {name} PSS (RSS) private threads: after READY | after the sessions",
            f"{unit_line(idle_unit[name])} | {unit_line(f)}",
        )
    if pcap:
        t.row(
            f"charge loop req → res at the SECC, packets, n={len(pcap)}: p50/p99 (ms)",
            f"{ms(pcap, 50):.2f} / {ms(pcap, 99):.2f}",
            "p99 ≤ 5",
            f"{SEED['charge_loop_ms']} median (as logged)",
        )
    else:
        print(f"  (no packet capture: {why})")
    t.row(
        f"  ccy-v2g's journal lines Req → Res, n={len(logged)}: p50/p99 (ms)",
        f"{ms(logged, 50):.2f} / {ms(logged, 99):.2f}",
        "",
        f"{SEED['charge_loop_ms']} median",
    )
    t.row(
        f"  EV-side round trip over TLS, n={len(ev_rtt)}: p50/p99 (ms)",
        f"{ms(ev_rtt, 50):.2f} / {ms(ev_rtt, 99):.2f}",
    )
    bsp_l, off_l = estops
    t.row(
        f"E-stop frame → PowerStage1 Mode Off, n={len(off_l)}: p50/p99 (ms)",
        f"{ms(off_l, 50):.1f} / {ms(off_l, 99):.1f}",
        "p99 ≤ 20",
    )
    t.row("  of which frame → Bsp1 PowerOnAllowed false: p50/p99 (ms)",
          f"{ms(bsp_l, 50):.1f} / {ms(bsp_l, 99):.1f}")  # fmt: skip
    seed_p2c = statistics.median(r.plug_to_charging_s for r in seed) * 1e3
    seed_ce = statistics.median(r.ce_to_charging_s for r in seed) * 1e3
    fast_ce = statistics.median(r.ce_to_charging_s for r in fast) * 1e3
    think = statistics.median(r.ev_think_s for r in fast) * 1e3
    residual = statistics.median(r.self_test_s for r in fast) * 1e3
    overhead = statistics.median(r.ce_to_charging_s - r.self_test_s - r.ev_think_s for r in fast)
    t.row(
        f"plug-in → Charging, seed physics, median of {len(seed)} (ms)",
        f"{seed_p2c:.0f}",
        "",
        f"{SEED['plug_to_current_demand_ms']:,.0f} → CurrentDemand",
    )
    t.row("  of which CE C → Charging (ms)", f"{seed_ce:.0f}")
    t.row(
        f"CE C → Charging, instant physics, median of {len(fast)} (ms)",
        f"{fast_ce:.0f}",
    )
    t.row("  of which the IMD self-test (SelfTest Running → Passed) (ms)", f"{residual:.0f}")
    t.row("  of which the EV's own time besides (ms)", f"{think:.0f}")
    t.row(
        "plug-in → Charging overhead above the physics, median (ms)",
        f"{overhead * 1e3:.0f}",
        "≤ 100",
    )
    t.row(
        "physics of a seed session (seed − instant CE C → Charging) (ms)",
        f"{seed_ce - fast_ce:.0f}",
    )
    timing = seed[-1].timing
    if timing:
        phases = ", ".join(f"{k} {v * 1e3:.0f}" for k, v in timing.items())
        print(f"  ccy-evse Timing of the last seed session (ms): {phases}")


async def estop_series(stack: BenchStack, n: int) -> tuple[list[float], list[float]]:
    w = await soak.Watch.connect(stack.address)
    bsp_l: list[float] = []
    off_l: list[float] = []
    try:
        await soak.ready_to_charge(w)
        port = await soak.sdp_port(w)
        options = soak.ev_options(stack.layout.dir, port, 100_000, 0.05, 0.001)
        for _ in range(n):
            b, o = await estop_cycle(stack, w, options)
            bsp_l.append(b)
            off_l.append(o)
            await soak.ready_to_charge(w)
    finally:
        w.close()
    return bsp_l, off_l


if __name__ == "__main__":
    main()
