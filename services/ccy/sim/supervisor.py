# SPDX-License-Identifier: Apache-2.0
"""The stack's supervisor: ``python -m ccy.sim.supervisor --dir DIR``, spawned by ``ccy-sim up``.

It plays systemd for the simulated stack: starts the private bus, then each unit of the
stack table (ccy.sim.stack_table) after the simulators it needs, waits for each unit's READY=1
on a notify socket, then reports READY=1 itself on the $NOTIFY_SOCKET ``up`` gave it (or
``STATUS=<one line>`` and exit 1 when the start failed, after stopping what it started).

Afterwards it stays the parent of every process and restarts those that fail, by the row's
rule (``Restart=on-failure``, ``RestartSec=``, the start limit; ccy.sim.restart), logging to
DIR/log/ccy-sim-supervisor.log and counting ``restarts`` in DIR/stack.json, which it alone
writes. One loop, no threads: signals arrive through ``signal.set_wakeup_fd`` into the same
selector that watches the notify sockets. SIGTERM (``ccy-sim down``) makes it exit at once
without touching the processes, so nothing restarts while ``down`` stops them.
"""

import argparse
import contextlib
import getpass
import importlib
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ccy.runtime.journal import JournalLineFormatter
from ccy.runtime.paths import dbus_dir
from ccy.sim.layout import Layout, LayoutError
from ccy.sim.procs import Proc, terminate
from ccy.sim.restart import Outcome, RestartTracker, describe_status
from ccy.sim.stack_table import (
    NEVER,
    STACK,
    Readiness,
    RestartRule,
    SimulatorRow,
    UnitRow,
    check_table,
    simulators_for,
)
from ccy.testing.bus_daemon import ADDRESS_ENV, BusDaemonError, PrivateBus, user_policy

READY_TIMEOUT_S = 20.0
"""Start-up budget of each process (systemd's TimeoutStartSec, shorter)."""
BUS = "dbus-daemon"
DEFAULT_TABLE = "ccy.sim.stack_table:STACK"
LOG_NAME = "ccy-sim-supervisor"


class StackError(RuntimeError):
    """The simulated stack could not be brought up or down; one line, cause and fix."""


@dataclass
class Entry:
    """One supervised process: its row, its current process, its restart bookkeeping."""

    name: str
    argv: list[str]
    row: UnitRow | SimulatorRow | None
    tracker: RestartTracker
    proc: Proc | None = None
    popen: "subprocess.Popen[bytes] | None" = None
    """Kept so the subprocess module never reaps it behind the supervisor's back."""
    state: str = "starting"
    due: float | None = None
    """Monotonic time of a scheduled restart."""
    ready_by: float | None = None
    """Deadline of READY=1 after a restart."""
    env: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {"state": self.state, "restarts": self.tracker.restarts}
        if self.proc is not None:
            record.update(self.proc.to_json())
        return record


class Supervisor:
    def __init__(self, layout: Layout, units: tuple[UnitRow, ...] = STACK) -> None:
        self.layout = layout
        self.units = units
        self.entries: dict[str, Entry] = {}
        self.address = ""
        self.bus: PrivateBus | None = None
        self.log = _logger(layout)
        self.notify: dict[str, socket.socket] = {}
        self.stopping = False

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        """Bus, simulators, units, each ready before the next; StackError on any failure."""
        check_table(self.units)
        self._check_profile()
        lay = self.layout
        self.bus = PrivateBus(lay.bus_dir, [dbus_dir() / "policy"], user_policy(getpass.getuser()))
        try:
            self.address = self.bus.start()
        except BusDaemonError as exc:
            raise StackError(f"{exc}; see {self.bus.log_file}") from None
        assert self.bus.pid is not None
        bus_entry = Entry(BUS, [], None, RestartTracker(NEVER), Proc.of(self.bus.pid))
        bus_entry.state = "running"
        self.entries[BUS] = bus_entry
        self.write_state()
        started: set[str] = set()
        for unit in self.units:
            for sim in simulators_for((unit,)):
                if sim.name not in started:
                    self._start_simulator(sim)
                    started.add(sim.name)
            self._start_unit(unit)

    def _check_profile(self) -> None:
        profile = self.layout.dir / "etc" / "ccy" / "sim.yaml"
        data = yaml.safe_load(profile.read_text()) or {}
        for unit in self.units:
            if not isinstance(data, dict) or unit.config_section not in data:
                raise StackError(
                    f"{unit.name}: the simulator profile has no section {unit.config_section!r};"
                    " add it to config/profiles/sim.yaml"
                )

    def _start_simulator(self, sim: SimulatorRow) -> None:
        values = self.layout.placeholders
        argv = [sys.executable, "-m", sim.module, *(a.format(**values) for a in sim.args)]
        entry = Entry(sim.name, argv, sim, RestartTracker(sim.restart))
        self.entries[sim.name] = entry
        self._spawn(entry)
        ready = Path(sim.ready_path.format(**values))
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.exists():
            if not entry.proc or not entry.proc.is_ours() or time.monotonic() > deadline:
                raise StackError(f"{sim.name} did not start; see {self._log_of(sim.name)}")
            time.sleep(0.02)
        entry.state = "running"
        self.write_state()

    def _start_unit(self, unit: UnitRow) -> None:
        exe = shutil.which(unit.command, path=str(Path(sys.executable).parent)) or unit.command
        argv = [exe, *(a.format(**self.layout.placeholders) for a in unit.args)]
        entry = Entry(unit.name, argv, unit, RestartTracker(unit.restart))
        self.entries[unit.name] = entry
        if unit.readiness is Readiness.NOTIFY:
            path = self.layout.notify_socket(unit.name)
            path.unlink(missing_ok=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(str(path))
            self.notify[unit.name] = sock
            entry.env = {"NOTIFY_SOCKET": str(path)}
        self._spawn(entry)
        if unit.readiness is Readiness.NOTIFY:
            self._wait_ready(entry)
        entry.state = "running"
        self.write_state()

    def _wait_ready(self, entry: Entry) -> None:
        sock = self.notify[entry.name]
        deadline = time.monotonic() + READY_TIMEOUT_S
        log = self._log_of(entry.name)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StackError(
                    f"{entry.name} sent no READY=1 within {READY_TIMEOUT_S:.0f} s; see {log}"
                )
            if entry.proc is None or not entry.proc.is_ours():
                raise StackError(f"{entry.name} exited during start-up; see {log}")
            sock.settimeout(min(0.2, remaining))
            try:
                message = sock.recv(4096).decode(errors="replace")
            except TimeoutError:
                continue
            if "READY=1" in message.splitlines():
                sock.setblocking(False)
                return

    def _spawn(self, entry: Entry) -> None:
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        env.update({ADDRESS_ENV: self.address, **entry.env})
        with self._log_of(entry.name).open("ab") as log:
            proc = subprocess.Popen(
                entry.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        entry.proc, entry.popen = Proc.of(proc.pid), proc
        entry.state = "starting"
        self.write_state()

    def _log_of(self, name: str) -> Path:
        return self.layout.log_dir / f"{name}.log"

    # ------------------------------------------------------------------ state
    def write_state(self) -> None:
        state = {
            "address": self.address,
            "supervisor": Proc.of(os.getpid()).to_json(),
            "processes": {name: e.to_json() for name, e in self.entries.items()},
        }
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.layout.state_file)

    # ------------------------------------------------------------------ supervise
    def supervise(self) -> None:
        """Restart failed processes by their rules until SIGTERM/SIGINT."""
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno())
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        selector = selectors.DefaultSelector()
        selector.register(wake_r, selectors.EVENT_READ, None)
        for name, sock in self.notify.items():
            selector.register(sock, selectors.EVENT_READ, name)
        self._reap(time.monotonic())  # anything that ended before the handler was in place
        while not self.stopping:
            now = time.monotonic()
            for key, _ in selector.select(self._timeout(now)):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        while wake_r.recv(512):
                            pass
                else:
                    self._on_notify(key.data)
            if self.stopping:
                break
            now = time.monotonic()
            self._reap(now)
            self._run_due(now)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _timeout(self, now: float) -> float | None:
        times = [t for e in self.entries.values() for t in (e.due, e.ready_by) if t is not None]
        return max(0.0, min(times) - now) if times else None

    def _on_notify(self, name: str) -> None:
        sock, entry = self.notify[name], self.entries[name]
        with contextlib.suppress(BlockingIOError):
            while True:
                message = sock.recv(4096).decode(errors="replace")
                if "READY=1" in message.splitlines() and entry.state == "starting":
                    entry.state, entry.ready_by = "running", None
                    self.log.info("%s: ready again (restart %d)", name, entry.tracker.restarts)
                    self.write_state()

    def _reap(self, now: float) -> None:
        by_pid = {e.proc.pid: e for e in self.entries.values() if e.proc is not None}
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            entry = by_pid.get(pid)
            if entry is not None and entry.popen is not None:
                entry.popen.returncode = os.waitstatus_to_exitcode(status)
            if entry is not None and entry.state not in ("exited", "failed", "restarting"):
                self._on_exit(entry, status, now)

    def _on_exit(self, entry: Entry, status: int, now: float) -> None:
        how = describe_status(status)
        outcome = entry.tracker.decide(status, now) if entry.row else Outcome.STAYS_DOWN
        entry.ready_by = None
        if outcome is Outcome.RESTART:
            rule = entry.row.restart if entry.row else RestartRule()
            entry.state, entry.due = "restarting", now + rule.delay_s
            self.log.warning(
                "%s: main process exited, %s; restarting in %.1f s (restart counter %d)",
                entry.name,
                how,
                rule.delay_s,
                entry.tracker.restarts + 1,
            )
        elif outcome is Outcome.FAILED:
            entry.state = "failed"
            self.log.error(
                "%s: main process exited, %s; start limit hit, not restarted", entry.name, how
            )
        else:
            entry.state = "exited"
            self.log.warning("%s: main process exited, %s; not restarted", entry.name, how)
        self.write_state()

    def _run_due(self, now: float) -> None:
        for entry in self.entries.values():
            if entry.due is not None and entry.due <= now:
                entry.due = None
                entry.tracker.restarted(now)
                self._spawn(entry)
                if isinstance(entry.row, UnitRow) and entry.row.readiness is Readiness.NOTIFY:
                    entry.ready_by = now + READY_TIMEOUT_S
                else:
                    entry.state = "running"
                self.log.info(
                    "%s: started again (pid %d)", entry.name, entry.proc.pid if entry.proc else 0
                )
                self.write_state()
            elif entry.ready_by is not None and entry.ready_by <= now and entry.proc:
                self.log.error(
                    "%s: no READY=1 within %.0f s; killing it", entry.name, READY_TIMEOUT_S
                )
                entry.ready_by = None
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(entry.proc.pid, signal.SIGKILL)

    # ------------------------------------------------------------------ stop
    def stop_all(self) -> None:
        """Stop every process, units first and the bus last (start-up failure path)."""
        for entry in reversed(list(self.entries.values())):
            if entry.proc is not None:
                terminate(entry.proc)
        if self.bus is not None:
            self.bus.stop()
        self.layout.state_file.unlink(missing_ok=True)
        for sock in self.notify.values():
            sock.close()


def _logger(layout: Layout) -> logging.Logger:
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger(LOG_NAME)
    log.propagate = False
    handler = logging.FileHandler(layout.log_dir / f"{LOG_NAME}.log", encoding="utf-8")
    handler.setFormatter(JournalLineFormatter(LOG_NAME))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return log


def _notify(path: str | None, message: str) -> None:
    """sd_notify to the ``ccy-sim up`` that spawned us (nothing when run by hand)."""
    if not path:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
        sock.sendto(message.encode(), path)


def load_table(spec: str) -> tuple[UnitRow, ...]:
    """``module:ATTRIBUTE`` naming a tuple of UnitRow (default: the committed STACK)."""
    module, _, attr = spec.partition(":")
    try:
        table = getattr(importlib.import_module(module), attr or "STACK")
    except (ImportError, AttributeError) as exc:
        raise StackError(f"--table {spec}: {exc}; name module:ATTRIBUTE") from None
    if not isinstance(table, tuple) or not all(isinstance(r, UnitRow) for r in table):
        raise StackError(f"--table {spec} is not a tuple of UnitRow")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ccy.sim.supervisor")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--table", default=DEFAULT_TABLE, help="module:ATTRIBUTE of the units")
    args = parser.parse_args(argv)
    # Ours alone: children (dbus-daemon included, which speaks sd_notify) must not inherit it.
    up_socket = os.environ.pop("NOTIFY_SOCKET", None)
    layout = Layout(args.dir.resolve())
    supervisor = Supervisor(layout)
    try:
        supervisor.units = load_table(args.table)
        layout.check(u.name for u in supervisor.units)
        layout.prepare()
        supervisor.start()
    except (StackError, LayoutError, OSError) as exc:
        supervisor.log.error("start failed: %s", exc)
        supervisor.stop_all()
        _notify(up_socket, f"STATUS={exc}".replace("\n", " "))
        return 1
    supervisor.log.info("stack ready: %s", ", ".join(supervisor.entries))
    _notify(up_socket, "READY=1")
    supervisor.supervise()
    supervisor.log.info("supervisor stopping (ccy-sim down); processes left to it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
