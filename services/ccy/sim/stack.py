# SPDX-License-Identifier: Apache-2.0
"""The simulated charger in a folder: private system bus, simulators and the ccy units.

``Stack.up()`` lays out DIR as a root folder (DIR/etc/ccy/config.yaml → the simulator
profile, DIR/dev/ttyLP2 → the MCU simulator's pty, DIR/sys/class/leds/…), starts a private
system-type dbus-daemon with our policy files (plus a sandbox policy for the invoking user,
who stands in for the static unit users), the MCU simulator, then each unit with
``--root DIR`` — and waits for each unit's READY=1 on a notify socket, as systemd would.
Processes run in their own sessions and survive the command; DIR/stack.json records them
for ``Stack.down()``. Unit output goes to DIR/log/<unit>.log as journal-like lines.
"""

import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ccy.runtime.paths import dbus_dir, profiles_dir
from ccy.sim.bus_daemon import ADDRESS_ENV, PrivateBus, user_policy
from ccy.sim.mcu.control import mcu_control_path

# The units built so far, in start order.
UNITS = ("ccy-bsp",)
LED_NAMES = ("ccy:red:status", "ccy:green:charging", "ccy:red:error")
READY_TIMEOUT_S = 20.0


class StackError(RuntimeError):
    """The simulated stack could not be brought up or down."""


@dataclass
class Layout:
    dir: Path

    @property
    def state_file(self) -> Path:
        return self.dir / "stack.json"

    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def sim_run(self) -> Path:
        return self.dir / "run" / "sim"

    @property
    def bus_dir(self) -> Path:
        return self.dir / "run" / "bus"

    @property
    def tty_link(self) -> Path:
        return self.dir / "dev" / "ttyLP2"

    @property
    def reset_fifo(self) -> Path:
        return self.dir / "run" / "ccy" / "sim" / "mcu-reset"

    @property
    def control(self) -> Path:
        return mcu_control_path(self.dir)


class Stack:
    def __init__(self, directory: Path, units: tuple[str, ...] = UNITS) -> None:
        self.layout = Layout(Path(directory).resolve())
        self.units = units

    # ---------------------------------------------------------------- up
    def up(self) -> str:
        lay = self.layout
        if lay.state_file.exists():
            raise StackError(f"{lay.dir} already runs a stack (ccy-sim down --dir {lay.dir})")
        self.prepare()
        state: dict[str, object] = {"pids": {}}
        pids: dict[str, int] = state["pids"]  # type: ignore[assignment]
        try:
            bus = PrivateBus(lay.bus_dir, [dbus_dir() / "policy"], user_policy(getpass.getuser()))
            address = bus.start()
            assert bus.pid is not None
            pids["dbus-daemon"] = bus.pid
            state["address"] = address
            self._write_state(state)
            pids["mcu-sim"] = self._spawn(
                "mcu-sim",
                [
                    sys.executable,
                    "-m",
                    "ccy.sim.mcu",
                    "--tty-link",
                    str(lay.tty_link),
                    "--reset-fifo",
                    str(lay.reset_fifo),
                    "--control",
                    str(lay.control),
                ],
                address,
            )
            self._write_state(state)
            self._wait_for_path(lay.control, "the MCU simulator", pids["mcu-sim"])
            for unit in self.units:
                pids[unit] = self._start_unit(unit, address)
                self._write_state(state)
        except BaseException:
            self.down()
            raise
        return address

    def prepare(self) -> None:
        """Lay out DIR as a root folder: folders, the simulator profile as config, LEDs."""
        lay = self.layout
        for d in (
            lay.log_dir,
            lay.sim_run,
            lay.tty_link.parent,
            lay.reset_fifo.parent,
            lay.dir / "etc" / "ccy",
        ):
            d.mkdir(parents=True, exist_ok=True)
        profile = lay.dir / "etc" / "ccy" / "sim.yaml"
        shutil.copyfile(profiles_dir() / "sim.yaml", profile)
        link = lay.dir / "etc" / "ccy" / "config.yaml"
        link.unlink(missing_ok=True)
        link.symlink_to("sim.yaml")
        for name in LED_NAMES:
            led = lay.dir / "sys" / "class" / "leds" / name
            led.mkdir(parents=True, exist_ok=True)
            for attr, value in (
                ("brightness", "0"),
                ("trigger", "none"),
                ("delay_on", "0"),
                ("delay_off", "0"),
            ):
                (led / attr).write_text(value + "\n")

    def _spawn(
        self, name: str, argv: list[str], address: str, extra_env: dict[str, str] | None = None
    ) -> int:
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        env.update({ADDRESS_ENV: address, **(extra_env or {})})
        with (self.layout.log_dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        return proc.pid

    def _start_unit(self, unit: str, address: str) -> int:
        """Spawn ``unit`` with a notify socket and wait for READY=1, as systemd would; a unit
        that dies or stays silent is stopped and reported, never left behind."""
        lay = self.layout
        notify_path = lay.sim_run / f"notify-{unit}.sock"
        notify_path.unlink(missing_ok=True)
        log = lay.log_dir / f"{unit}.log"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify_path))
            exe = shutil.which(unit, path=str(Path(sys.executable).parent)) or unit
            pid = self._spawn(
                unit, [exe, "--root", str(lay.dir)], address, {"NOTIFY_SOCKET": str(notify_path)}
            )
            try:
                self._wait_ready(sock, pid, unit, log)
            except StackError:
                _terminate(pid)
                raise
            finally:
                notify_path.unlink(missing_ok=True)
        return pid

    @staticmethod
    def _wait_ready(sock: socket.socket, pid: int, unit: str, log: Path) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StackError(
                    f"{unit} sent no READY=1 within {READY_TIMEOUT_S:.0f} s; see {log}"
                )
            if not _alive(pid):
                raise StackError(f"{unit} exited during start-up; see {log}")
            sock.settimeout(min(0.2, remaining))
            try:
                message = sock.recv(4096).decode(errors="replace")
            except TimeoutError:
                continue
            if "READY=1" in message.splitlines():
                return

    def _wait_for_path(self, path: Path, what: str, pid: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not path.exists():
            if not _alive(pid) or time.monotonic() > deadline:
                raise StackError(f"{what} did not start; see {self.layout.log_dir}")
            time.sleep(0.02)

    def _write_state(self, state: dict[str, object]) -> None:
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.layout.state_file)

    # ---------------------------------------------------------------- down
    def address(self) -> str:
        return str(self._read_state().get("address", ""))

    def pids(self) -> dict[str, int]:
        pids = self._read_state().get("pids", {})
        return dict(pids) if isinstance(pids, dict) else {}

    def _read_state(self) -> dict[str, object]:
        try:
            data = json.loads(self.layout.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def down(self) -> list[str]:
        """Stop everything recorded, units first, the bus last; returns what was stopped."""
        stopped = []
        for name, pid in reversed(list(self.pids().items())):
            if _terminate(pid):
                stopped.append(name)
        self.layout.state_file.unlink(missing_ok=True)
        return stopped


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0
    if waited == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _terminate(pid: int, timeout_s: float = 5.0) -> bool:
    if not _alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    return True
