# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp as a process, the way systemd runs it: notify socket, SIGTERM, exit statuses.

The private bus and the MCU simulator come from the simulator stack (without its units);
the unit under test is started here so its exit status and notify messages can be read.
"""

import os
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

from ccy.sim.stack import Stack

EXE = str(Path(sys.executable).parent / "ccy-bsp")


@pytest.fixture
def bare_stack() -> Iterator[Stack]:
    directory = Path(tempfile.mkdtemp(prefix="ccy-e2e-"))
    stack = Stack(directory, units=())
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


def spawn(stack: Stack, notify: Path, **extra_env: str) -> subprocess.Popen[str]:
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


def receive_until(sock: socket.socket, wanted: str) -> list[str]:
    seen: list[str] = []
    sock.settimeout(10)
    while wanted not in seen:
        seen += sock.recv(4096).decode().splitlines()
    return seen


def test_ready_then_sigterm_stops_cleanly(bare_stack: Stack) -> None:
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
    assert "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)" in err
    assert "ccy-bsp stopping" in err


def test_watchdog_pings_at_half_the_interval(bare_stack: Stack) -> None:
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
    lines = proc.stderr.strip().splitlines()
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


def test_a_crash_of_ccy_bsp_leaves_the_charger_safe(bare_stack: Stack) -> None:
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
    address, bsp = bare_stack.address(), ["org.ccy.Bsp", "/org/ccy/Bsp", "org.ccy.Bsp1"]
    mcu(cmd="plug")
    for call in (["Enable", "b", "true"], ["SetCcsReady", "s", "Ready"]):
        subprocess.run(["busctl", f"--address={address}", "call", *bsp, *call], check=True)
    mcu(cmd="set_ce", state="C")
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


def test_a_vanished_uart_is_closed_reopened_and_the_link_recovers(bare_stack: Stack) -> None:
    """The simulator dies (its pty hangs up, as an unplugged USB UART would): ccy-bsp closes
    the device once instead of spinning on it, reports LinkLost, and reopens it when a new
    simulator appears at the same path."""
    address, bsp = bare_stack.address(), ["org.ccy.Bsp", "/org/ccy/Bsp", "org.ccy.Bsp1"]

    def prop(name: str) -> str:
        r = subprocess.run(
            ["busctl", f"--address={address}", "get-property", *bsp, name],
            capture_output=True,
            text=True,
            check=True,
        )
        return r.stdout.strip()

    def wait_for(name: str, wanted: str) -> str:
        deadline = time.monotonic() + 10
        while (value := prop(name)) != wanted and time.monotonic() < deadline:
            time.sleep(0.1)
        return value

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
        os.kill(bare_stack.pids()["mcu-sim"], signal.SIGKILL)
        assert wait_for("LinkUp", "b false") == "b false"
        time.sleep(1.5)  # several reopen attempts while nothing is there
        stats = prop("LinkStatistics").replace('"', "").split()
        assert stats[stats.index("device_errors") + 1] == "1"  # closed once, not spinning
        lay = bare_stack.layout
        sim = subprocess.Popen(
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
            ]
        )
        try:
            assert wait_for("LinkUp", "b true") == "b true"
            deadline = time.monotonic() + 10
            while firmware_lines() < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            sim.terminate()
            sim.wait(10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    err = log.read_text()
    assert "UART read failed" in err or "UART hung up" in err
    assert "UART " in err and "reopened" in err
    assert firmware_lines() == 2  # asked again after the link came back
