# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp as a process, the way systemd runs it: notify socket, SIGTERM, exit statuses.

The private bus and the MCU simulator are started here without the stack's supervisor (which
would start and restart ccy-bsp itself); the unit under test is started here so its exit
status and notify messages can be read.
"""

import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.bsp.contract import BUS_NAME, IFACE, OBJECT_PATH
from ccy.runtime.paths import dbus_dir
from ccy.sim.layout import Layout
from ccy.testing.bus_daemon import PrivateBus, user_policy

EXE = str(Path(sys.executable).parent / "ccy-bsp")
BSP1 = [BUS_NAME, OBJECT_PATH, IFACE]
VERSION_LINE = re.compile(r"\[INFO\] ccy-bsp \S+ \(git (?:[0-9a-f]{4,}|unknown)\) starting$")


class BareStack:
    """The private bus and the MCU simulator in a root folder, no units."""

    def __init__(self, directory: Path) -> None:
        self.layout = Layout(directory)
        self.layout.prepare()
        self.bus = PrivateBus(
            self.layout.bus_dir, [dbus_dir() / "policy"], user_policy(getpass.getuser())
        )
        self.sim: subprocess.Popen[bytes] | None = None

    def up(self) -> None:
        self.bus.start()
        self.start_simulator()

    def start_simulator(self) -> subprocess.Popen[bytes]:
        lay = self.layout
        lay.control.unlink(missing_ok=True)
        with (lay.log_dir / "mcu-sim.log").open("ab") as log:
            self.sim = subprocess.Popen(
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
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        while not lay.control.exists():
            assert self.sim.poll() is None and time.monotonic() < deadline, "no MCU simulator"
            time.sleep(0.02)
        return self.sim

    def address(self) -> str:
        return self.bus.address

    def down(self) -> None:
        if self.sim is not None and self.sim.poll() is None:
            self.sim.terminate()
            self.sim.wait(10)
        self.bus.stop()


@pytest.fixture
def bare_stack() -> Iterator[BareStack]:
    directory = Path(tempfile.mkdtemp(prefix="ccy-e2e-"))
    stack = BareStack(directory)
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


def spawn(stack: BareStack, notify: Path, **extra_env: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DBUS_SYSTEM_BUS_ADDRESS": stack.address(),
        "NOTIFY_SOCKET": str(notify),
        **extra_env,
    }
    return subprocess.Popen(
        [EXE, "--root", str(stack.layout.dir)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def get_property(address: str, name: str) -> str:
    r = subprocess.run(
        ["busctl", f"--address={address}", "get-property", *BSP1, name],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout.strip()


def wait_for_property(address: str, name: str, wanted: str, timeout_s: float = 10) -> str:
    deadline = time.monotonic() + timeout_s
    while (value := get_property(address, name)) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert value == wanted, f"{name} is {value}, not {wanted}"
    return value


def receive_until(sock: socket.socket, wanted: str) -> list[str]:
    seen: list[str] = []
    sock.settimeout(10)
    while wanted not in seen:
        seen += sock.recv(4096).decode().splitlines()
    return seen


def test_ready_then_sigterm_stops_cleanly(bare_stack: BareStack) -> None:
    notify = bare_stack.layout.sim_run / "notify-test.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        proc = spawn(bare_stack, notify)
        ready = receive_until(sock, "READY=1")
        assert any(m.startswith("STATUS=link up, firmware 0.2.3") for m in ready), ready
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in receive_until(sock, "STOPPING=1")
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert VERSION_LINE.search(err.splitlines()[0]), err.splitlines()[0]
    assert "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)" in err
    assert "ccy-bsp stopping" in err


def test_watchdog_pings_at_half_the_interval(bare_stack: BareStack) -> None:
    notify = bare_stack.layout.sim_run / "notify-wd.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        proc = spawn(bare_stack, notify, WATCHDOG_USEC="400000")  # ping every 0.2 s
        receive_until(sock, "READY=1")
        pings = 0
        while pings < 5:  # all while the unit runs: periodic pings, not a burst at exit
            pings += receive_until(sock, "WATCHDOG=1").count("WATCHDOG=1")
        assert proc.poll() is None
        proc.terminate()
        proc.communicate(timeout=10)


def test_invalid_config_exits_78_with_one_line_and_touches_nothing(tmp_path: Path) -> None:
    etc = tmp_path / "etc/ccy"
    etc.mkdir(parents=True)
    (etc / "config.yaml").write_text("bsp:\n  serial_baud_Bd: 20\n  led_stauts_path: /x\n")
    proc = subprocess.run(
        [EXE, "--root", str(tmp_path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 78
    version, *lines = proc.stderr.strip().splitlines()
    assert VERSION_LINE.search(version), version  # the version line comes first, always
    assert len(lines) == 1, lines
    line = lines[0]
    assert "[CRIT] Invalid configuration, not starting" in line
    assert f"{etc}/config.yaml:2: bsp.serial_baud_Bd:" in line
    assert "bsp.led_stauts_path: unknown key" in line and "led_status_path" in line


def test_missing_uart_fails_with_a_clear_message(tmp_path: Path) -> None:
    etc = tmp_path / "etc/ccy"
    etc.mkdir(parents=True)
    (etc / "config.yaml").write_text("bsp:\n  reset_line_driver: none\n")
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-bus"
    proc = subprocess.run(
        [EXE, "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert proc.returncode == 69  # EX_UNAVAILABLE
    crit = [line for line in proc.stderr.splitlines() if "[CRIT]" in line]
    assert crit and crit[0].endswith(
        f"Not starting: cannot open UART {tmp_path}/dev/ttyLP2: No such file or directory"
    ), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_crash_of_ccy_bsp_leaves_the_charger_safe(bare_stack: BareStack) -> None:
    """SIGKILL while charging: ChargeControl2 stops, the MCU's own watchdog opens the contactor."""
    from ccy.sim.mcu.control import send_command

    def mcu(**cmd: object) -> dict[str, object]:
        reply = send_command(bare_stack.layout.control, cmd)
        assert reply.get("ok"), reply
        return reply

    notify = bare_stack.layout.sim_run / "notify-crash.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        proc = spawn(bare_stack, notify)
        receive_until(sock, "READY=1")
    address, bsp = bare_stack.address(), BSP1
    mcu(cmd="plug")
    for call in (["Enable", "b", "true"], ["SetCcsReady", "s", "Ready"]):
        subprocess.run(["busctl", f"--address={address}", "call", *bsp, *call], check=True)
    mcu(cmd="set_ce", state="C")
    wait_for_property(address, "CeState", 's "C"')
    subprocess.run(
        ["busctl", f"--address={address}", "call", *bsp, "AllowPowerOn", "b", "true"], check=True
    )
    deadline = time.monotonic() + 5
    while not mcu(cmd="status")["contactor_closed"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mcu(cmd="status")["contactor_closed"] is True
    proc.kill()
    proc.communicate(timeout=10)
    deadline = time.monotonic() + 5
    while mcu(cmd="status")["contactor_closed"] and time.monotonic() < deadline:
        time.sleep(0.05)
    status = mcu(cmd="status")
    assert status["contactor_closed"] is False
    assert status["estop"] == "ComTimeout" and status["safe_state"] is True


def test_a_vanished_uart_is_closed_reopened_and_the_link_recovers(bare_stack: BareStack) -> None:
    """The simulator dies (its pty hangs up, as an unplugged USB UART would): ccy-bsp closes
    the device once instead of spinning on it, reports LinkLost, and reopens it when a new
    simulator appears at the same path."""
    address = bare_stack.address()

    def prop(name: str) -> str:
        return get_property(address, name)

    notify = bare_stack.layout.sim_run / "notify-uart.sock"
    log = bare_stack.layout.log_dir / "ccy-bsp-uart.log"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address, "NOTIFY_SOCKET": str(notify)}
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, log.open("w") as out:
        sock.bind(str(notify))
        proc = subprocess.Popen(
            [EXE, "--root", str(bare_stack.layout.dir)], env=env, stdout=out, stderr=out
        )
        receive_until(sock, "READY=1")

    def firmware_lines() -> int:
        return log.read_text().count("Safety Controller Firmware: 0.2.3")

    try:
        assert bare_stack.sim is not None
        bare_stack.sim.kill()
        bare_stack.sim.wait(10)
        wait_for_property(address, "LinkUp", "b false")
        time.sleep(1.5)  # several reopen attempts while nothing is there
        stats = prop("LinkStatistics").replace('"', "").split()
        assert stats[stats.index("device_errors") + 1] == "1"  # closed once, not spinning
        bare_stack.start_simulator()
        wait_for_property(address, "LinkUp", "b true")
        deadline = time.monotonic() + 10
        while firmware_lines() < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    err = log.read_text()
    assert "UART read failed" in err or "UART hung up" in err
    assert "UART " in err and "reopened" in err
    assert firmware_lines() == 2  # asked again after the link came back


def test_a_lost_bus_connection_ends_the_unit_with_status_1(bare_stack: BareStack) -> None:
    """The bus connection is a supervised task: when the bus goes away the unit does not
    linger half-alive (no bus, still driving the MCU) but exits 1 for systemd to restart."""
    notify = bare_stack.layout.sim_run / "notify-bus.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        proc = spawn(bare_stack, notify)
        receive_until(sock, "READY=1")
    bare_stack.bus.stop()
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 1, err
    assert "background task bus-connection died" in err, err
    assert "Traceback" in err  # logged critical with its traceback
