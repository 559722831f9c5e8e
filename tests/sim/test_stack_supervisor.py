# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim up/down`` and the supervisor: restarts like ``Restart=on-failure``, a clean
``down`` (supervisor first, PIDs checked, zombies gone), one-line errors for a bad --dir.

The restart tests run the real supervisor and private bus with a stand-in unit (FAKE_STACK,
a few lines of Python that speak sd_notify), so they test the stack's machinery and not a
unit; the last test does the same with the real ccy-bsp on the MCU simulator.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccy.sim.layout import Layout
from ccy.sim.procs import Proc, start_time, terminate
from ccy.sim.stack import Stack
from ccy.sim.stack_table import RestartRule, UnitRow

HERE = Path(__file__).resolve().parent
WAIT_S = 30.0

FAKE_UNIT = """
import os, signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGUSR1, lambda *_: sys.exit(0))
signal.signal(signal.SIGUSR2, lambda *_: sys.exit(3))
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
while True:
    time.sleep(1)
"""

FAKE_STACK = (
    UnitRow(
        name="fake-unit",
        command="python",
        config_section="bsp",
        restart=RestartRule(delay_s=0.05, burst=3, interval_s=60.0),
        args=("-c", FAKE_UNIT, "{root}"),
    ),
)
"""Imported by the supervisor process as test_stack_supervisor:FAKE_STACK."""


def wait_for(probe: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {WAIT_S} s: {what}")


def stack_processes(directory: Path) -> list[int]:
    """PIDs whose command line names ``directory`` (anything the stack started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(directory).encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A folder short enough for unix socket paths (pytest's tmp_path may not be)."""
    path = Path(tempfile.mkdtemp(prefix="ccy-stack-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake_stack(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    stack = Stack(short_tmp / "run", table="test_stack_supervisor:FAKE_STACK")
    stack.up()
    try:
        yield stack
    finally:
        stack.down()


def state_of(stack: Stack, name: str) -> str:
    return str(stack.processes().get(name, {}).get("state", ""))


def test_a_unit_killed_by_a_signal_is_restarted_and_counted(fake_stack: Stack) -> None:
    first = fake_stack.pids()["fake-unit"]
    assert state_of(fake_stack, "fake-unit") == "running"
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: fake_stack.restarts("fake-unit") == 1, "restart counted")
    wait_for(lambda: state_of(fake_stack, "fake-unit") == "running", "READY=1 again")
    second = fake_stack.pids()["fake-unit"]
    assert second != first and Proc.from_json(fake_stack.processes()["fake-unit"])
    log = (fake_stack.layout.log_dir / "ccy-sim-supervisor.log").read_text()
    assert "fake-unit: main process exited, code=killed, signal=KILL; restarting in 0.1 s" in log
    os.kill(second, signal.SIGUSR2)  # exit status 3 is a failure as well
    wait_for(lambda: fake_stack.restarts("fake-unit") == 2, "second restart")
    assert (
        "code=exited, status=3"
        in (fake_stack.layout.log_dir / "ccy-sim-supervisor.log").read_text()
    )


def test_a_clean_exit_is_not_restarted(fake_stack: Stack) -> None:
    os.kill(fake_stack.pids()["fake-unit"], signal.SIGUSR1)
    wait_for(lambda: state_of(fake_stack, "fake-unit") == "exited", "state exited")
    time.sleep(0.3)  # several restart delays: a wrong restart would have happened by now
    assert fake_stack.restarts("fake-unit") == 0
    assert state_of(fake_stack, "fake-unit") == "exited"


def test_the_start_limit_stops_restarting(fake_stack: Stack) -> None:
    for count in (1, 2, 3):
        wait_for(lambda: state_of(fake_stack, "fake-unit") == "running", "running")
        os.kill(fake_stack.pids()["fake-unit"], signal.SIGKILL)
        wait_for(lambda c=count: fake_stack.restarts("fake-unit") == c, f"restart {count}")
    wait_for(lambda: state_of(fake_stack, "fake-unit") == "running", "running")
    os.kill(fake_stack.pids()["fake-unit"], signal.SIGKILL)
    wait_for(lambda: state_of(fake_stack, "fake-unit") == "failed", "start limit hit")
    assert fake_stack.restarts("fake-unit") == 3


def test_down_stops_the_supervisor_first_and_leaves_nothing(fake_stack: Stack) -> None:
    directory = fake_stack.layout.dir
    assert len(stack_processes(directory)) >= 2  # supervisor and the unit
    os.kill(fake_stack.pids()["fake-unit"], signal.SIGKILL)  # a restart is now pending
    stopped = fake_stack.down()
    assert stopped[0] == "supervisor" and stopped[-1] == "dbus-daemon"
    time.sleep(0.3)  # past the restart delay: a supervisor still alive would restart now
    assert stack_processes(directory) == []
    assert not fake_stack.layout.state_file.exists()


def test_up_twice_is_refused_and_status_lists_the_processes(fake_stack: Stack) -> None:
    cli = [sys.executable, "-m", "ccy.sim.cli"]
    again = subprocess.run(
        [*cli, "up", "--dir", str(fake_stack.layout.dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"ccy-sim: {fake_stack.layout.dir} already runs a stack;"
        f" ccy-sim down --dir {fake_stack.layout.dir}"
    ]
    status = subprocess.run(
        [*cli, "status", "--dir", str(fake_stack.layout.dir)], capture_output=True, text=True
    )
    assert [line.split()[0] for line in status.stdout.splitlines()] == ["dbus-daemon", "fake-unit"]


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen(["true"])
    proc = Proc.of(child.pid)
    wait_for(
        lambda: Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z",
        "the child is a zombie",
    )
    try:
        assert not proc.is_ours()
        assert terminate(proc) is False
    finally:
        child.wait()


def test_a_reused_pid_is_never_signalled() -> None:
    child = subprocess.Popen(["sleep", "60"])
    try:
        real = start_time(child.pid)
        assert real is not None
        stranger = Proc(child.pid, real + 1)  # the PID as a recorded, long-gone process had it
        assert terminate(stranger) is False
        assert child.poll() is None, "a process that is not the stack's was signalled"
        assert terminate(Proc(child.pid, real)) is True  # reaps it, too (it is our child)
        assert not Path(f"/proc/{child.pid}").exists()
    finally:
        child.kill()
        child.wait()


def run_up(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccy.sim.cli", "up", "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "is a file"),
        (lambda tmp: tmp / "missing" / "parent" / "run", "does not exist"),
        (lambda tmp: tmp / ("d" * 120), "too long for the stack's unix sockets"),
    ],
    ids=["file", "missing-parent", "too-long"],
)
def test_up_on_a_bad_dir_is_one_line(
    tmp_path: Path, make: Callable[[Path], Path], words: str
) -> None:
    done = run_up(make(tmp_path))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ccy-sim: --dir ") and words in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_up_in_an_unwritable_dir_is_one_line(tmp_path: Path) -> None:
    """A read-only bind mount refuses root too (file modes would not)."""
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(target), str(target)])
        assert mounted.returncode == 0
    else:
        target.chmod(0o555)
    try:
        done = run_up(target)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(target)], check=True)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "cannot write there (Read-only file system" in line or "Permission denied" in line
    assert line.endswith("choose a writable folder")


def test_the_real_stack_restarts_ccy_bsp(short_tmp: Path) -> None:
    stack = Stack(short_tmp / "real")
    stack.up()
    try:
        first = stack.pids()["ccy-bsp"]
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: stack.restarts("ccy-bsp") == 1, "ccy-bsp restarted")
        wait_for(lambda: state_of(stack, "ccy-bsp") == "running", "ccy-bsp READY=1 again")
        assert stack.pids()["ccy-bsp"] != first
    finally:
        stack.down()
    assert stack_processes(Layout(short_tmp / "real").dir) == []
