# SPDX-License-Identifier: Apache-2.0
"""The simulated charger in a folder: ``Stack(DIR).up()`` / ``.down()``.

``up`` checks DIR (ccy.sim.layout), spawns the supervisor (ccy.sim.supervisor), which starts
the private system bus, the simulators and the units of the stack table and stays their
parent to restart them like systemd's ``Restart=on-failure``; ``up`` returns once the
supervisor reports READY=1, with the bus address. ``down`` stops the supervisor first (so
nothing restarts), then every recorded process, units first and the bus last, signalling a
PID only while it is still the process DIR/stack.json recorded (ccy.sim.procs).
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from ccy.sim.layout import Layout, LayoutError
from ccy.sim.procs import Proc, reap, terminate
from ccy.sim.stack_table import STACK
from ccy.sim.supervisor import BUS, DEFAULT_TABLE, READY_TIMEOUT_S, StackError

__all__ = ["Layout", "Stack", "StackError"]

UP_TIMEOUT_S = READY_TIMEOUT_S * (len(STACK) + 2)
"""``up``'s whole budget: every process's start-up budget, plus the bus and one simulator."""
UP_NOTIFY = "ccy-sim-up"


class Stack:
    def __init__(self, directory: Path, table: str = DEFAULT_TABLE) -> None:
        self.layout = Layout(Path(directory).absolute())
        self.table = table
        """``module:ATTRIBUTE`` of the unit rows the supervisor starts (tests pass their own)."""

    # ---------------------------------------------------------------- up
    def up(self) -> str:
        """Start the stack under DIR; returns the bus address. StackError: one line."""
        lay = self.layout
        try:
            lay.check([UP_NOTIFY, *(u.name for u in STACK)])
        except LayoutError as exc:
            raise StackError(str(exc)) from None
        self.layout = lay = Layout(lay.dir.resolve())
        if lay.state_file.exists():
            if self._running():
                raise StackError(f"{lay.dir} already runs a stack; ccy-sim down --dir {lay.dir}")
            self.down()  # leftovers of a stack that died: clean them first
        lay.sim_run.mkdir(parents=True, exist_ok=True)
        lay.log_dir.mkdir(parents=True, exist_ok=True)
        path = lay.notify_socket(UP_NOTIFY)
        path.unlink(missing_ok=True)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(path))
            env = {**os.environ, "NOTIFY_SOCKET": str(path)}
            log = (lay.log_dir / "ccy-sim-supervisor.out").open("ab")
            with log:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "ccy.sim.supervisor",
                        "--dir",
                        str(lay.dir),
                        "--table",
                        self.table,
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    start_new_session=True,
                )
            try:
                self._wait_supervisor(sock, proc)
            except BaseException:
                self.down()
                raise
            finally:
                path.unlink(missing_ok=True)
        return self.address()

    def _wait_supervisor(self, sock: socket.socket, proc: "subprocess.Popen[bytes]") -> None:
        status = ""
        deadline = time.monotonic() + UP_TIMEOUT_S
        while time.monotonic() < deadline:
            sock.settimeout(0.2)
            try:
                message = sock.recv(4096).decode(errors="replace")
            except TimeoutError:
                if proc.poll() is not None:
                    break
                continue
            for line in message.splitlines():
                if line == "READY=1":
                    return
                if line.startswith("STATUS="):
                    status = line.removeprefix("STATUS=")
        if proc.poll() is None:
            raise StackError(
                f"the stack did not come up within {UP_TIMEOUT_S:.0f} s; see {self.layout.log_dir}"
            )
        raise StackError(status or f"the supervisor exited; see {self.layout.log_dir}")

    # ---------------------------------------------------------------- state
    def _read_state(self) -> dict[str, object]:
        try:
            data = json.loads(self.layout.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def address(self) -> str:
        return str(self._read_state().get("address", ""))

    def processes(self) -> dict[str, dict[str, object]]:
        """Name → record (pid, start, state, restarts) in start order, as the supervisor wrote."""
        procs = self._read_state().get("processes", {})
        return (
            {k: v for k, v in procs.items() if isinstance(v, dict)}
            if isinstance(procs, dict)
            else {}
        )

    def pids(self) -> dict[str, int]:
        found = {}
        for name, record in self.processes().items():
            pid = record.get("pid")
            if isinstance(pid, int):
                found[name] = pid
        return found

    def restarts(self, name: str) -> int:
        count = self.processes().get(name, {}).get("restarts", 0)
        return count if isinstance(count, int) else 0

    def _supervisor(self) -> Proc | None:
        return Proc.from_json(self._read_state().get("supervisor"))

    def _running(self) -> bool:
        procs = [self._supervisor(), *(Proc.from_json(r) for r in self.processes().values())]
        return any(p is not None and p.is_ours() for p in procs)

    # ---------------------------------------------------------------- down
    def down(self) -> list[str]:
        """Stop the supervisor, then everything recorded (units first, the bus last); returns
        the names of the processes that were still running and were stopped."""
        stopped = []
        supervisor = self._supervisor()
        if supervisor is not None and terminate(supervisor):
            stopped.append("supervisor")
        for name, record in reversed(list(self.processes().items())):
            proc = Proc.from_json(record)
            if proc is not None and terminate(proc):
                stopped.append(name)
        if supervisor is not None:
            reap(supervisor.pid)
        self.layout.state_file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            for sock in self.layout.sim_run.glob("notify-*.sock"):
                sock.unlink()
        (self.layout.bus_dir / "system_bus_socket").unlink(missing_ok=True)
        return [n for n in stopped if n != BUS] + [n for n in stopped if n == BUS]
