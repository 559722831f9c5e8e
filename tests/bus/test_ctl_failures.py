# SPDX-License-Identifier: Apache-2.0
"""ccyctl run as a process: every failure is exactly one line on stderr with cause and fix.

The bus cases use the real dbus-daemon (ccy.testing.bus_daemon.PrivateBus) and the real
ccy-bsp with no safety MCU behind its UART (a pty nobody answers on): it starts with its link
down, so it refuses what needs the link with its own org.ccy.Error.NotReady. A stopped
(SIGSTOP) ccy-bsp stands for a unit that does not answer.
"""

import asyncio
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType, Message
from dbus_fast.aio import MessageBus

from ccy.bsp.contract import BUS_NAME
from ccy.ctl.failure import ExitCode
from ccy.runtime.paths import dbus_dir
from ccy.testing.bus_daemon import ADDRESS_ENV, PrivateBus, user_policy

CCYCTL = [sys.executable, "-m", "ccy.ctl.main"]
CCY_BSP = str(Path(sys.executable).parent / "ccy-bsp")
START_TIMEOUT_S = 20.0


def ccyctl(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CCYCTL, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line on stderr (asserting there is exactly one and no traceback)."""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ccyctl: ") and "Traceback" not in done.stderr
    return lines[0]


def names_on(address: str) -> list[str]:
    async def listed() -> list[str]:
        bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
        try:
            reply = await bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="ListNames",
                )
            )
            assert reply is not None
            return list(reply.body[0])
        finally:
            bus.disconnect()

    return asyncio.run(listed())


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_no_bus(tmp_path: Path) -> None:
    env = {**os.environ, ADDRESS_ENV: f"unix:path={tmp_path}/missing_socket"}
    done = ccyctl("bsp", "status", env=env)
    assert done.returncode == ExitCode.UNAVAILABLE
    line = one_line(done)
    assert f"no system bus at unix:path={tmp_path}/missing_socket" in line
    assert "DBUS_SYSTEM_BUS_ADDRESS" in line  # the fix names the variable


def test_service_not_running(tmp_path: Path) -> None:
    with PrivateBus(tmp_path / "bus", [dbus_dir() / "policy"]) as bus:
        done = ccyctl("bsp", "status", env=bus.environ())
    assert done.returncode == ExitCode.UNAVAILABLE
    assert one_line(done) == "ccyctl: ccy-bsp is not running (systemctl start ccy-bsp)"


def test_access_denied(tmp_path: Path) -> None:
    # No ccy policy file: the default context denies method calls to org.ccy.Bsp, as the
    # device's bus does for a user outside group ccy; a plain connection owns the name.
    own = f'  <policy user="{getpass.getuser()}"><allow own="{BUS_NAME}"/></policy>\n'
    with PrivateBus(tmp_path / "bus", [], own) as bus:

        async def scenario() -> tuple[int, str]:
            holder = await MessageBus(bus_address=bus.address, bus_type=BusType.SYSTEM).connect()
            try:
                await holder.request_name(BUS_NAME)
                proc = await asyncio.create_subprocess_exec(
                    *CCYCTL,
                    "bsp",
                    "enable",
                    "on",
                    env=bus.environ(),
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                _out, err = await asyncio.wait_for(proc.communicate(), 60)
                return proc.returncode or 0, err.decode()
            finally:
                holder.disconnect()

        code, err = asyncio.run(scenario())
    assert code == ExitCode.NO_PERMISSION
    line = one_line(subprocess.CompletedProcess([], code, "", err))
    assert line.startswith(
        "ccyctl: you are not in group ccy: the bus denied access to call ccy-bsp"
    )
    assert "usermod -aG ccy" in line


class BspAlone:
    """A private bus and the real ccy-bsp on a pty that no MCU answers on."""

    def __init__(self, directory: Path) -> None:
        self.root = directory / "root"
        etc = self.root / "etc" / "ccy"
        etc.mkdir(parents=True)
        self.master, slave = os.openpty()
        self._slave = slave
        (self.root / "dev").mkdir()
        (self.root / "dev" / "ttyNoMcu").symlink_to(os.ttyname(slave))  # paths resolve in root
        (etc / "config.yaml").write_text(
            "bsp:\n"
            "  serial_port: /dev/ttyNoMcu\n"
            "  reset_line_driver: none\n"
            "  firmware_inquiry_retries: 0\n"
            "  firmware_inquiry_timeout_ms: 30\n"
        )
        self.bus = PrivateBus(
            directory / "bus", [dbus_dir() / "policy"], user_policy(getpass.getuser())
        )
        self.unit: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.bus.start()
        log = (self.root / "ccy-bsp.log").open("ab")
        with log:
            self.unit = subprocess.Popen(
                [CCY_BSP, "--root", str(self.root)],
                env=self.bus.environ(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        wait_until(lambda: BUS_NAME in names_on(self.bus.address), f"{BUS_NAME} on the bus")

    def stop(self) -> None:
        if self.unit is not None:
            self.unit.send_signal(signal.SIGCONT)
            self.unit.terminate()
            self.unit.wait(timeout=20)
        self.bus.stop()
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture(scope="module")
def bsp_alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BspAlone]:
    stack = BspAlone(tmp_path_factory.mktemp("bsp-alone"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_a_refusal_of_the_unit_is_its_own_message(bsp_alone: BspAlone) -> None:
    done = ccyctl("bsp", "ccs-ready", "Ready", env=bsp_alone.bus.environ())
    assert done.returncode == ExitCode.TEMPORARY
    assert one_line(done) == (
        "ccyctl: ccy-bsp refused: the safety controller link is down "
        "(NotReady: retry once the unit reports it ready: see its status)"
    )


def test_status_works_on_the_same_unit(bsp_alone: BspAlone) -> None:
    done = ccyctl("bsp", "status", env=bsp_alone.bus.environ())
    assert done.returncode == 0, done.stderr
    assert "LinkUp: False" in done.stdout.splitlines()


def test_a_unit_that_does_not_answer(bsp_alone: BspAlone) -> None:
    assert bsp_alone.unit is not None
    bsp_alone.unit.send_signal(signal.SIGSTOP)
    try:
        done = ccyctl("--timeout", "0.5", "bsp", "status", env=bsp_alone.bus.environ())
    finally:
        bsp_alone.unit.send_signal(signal.SIGCONT)
    assert done.returncode == ExitCode.TEMPORARY
    assert one_line(done) == (
        "ccyctl: ccy-bsp did not answer within 0.5 s "
        "(is it stuck? journalctl -u ccy-bsp; retry with a longer --timeout)"
    )


def test_ctrl_c_while_waiting(bsp_alone: BspAlone) -> None:
    assert bsp_alone.unit is not None
    before = set(names_on(bsp_alone.bus.address))
    bsp_alone.unit.send_signal(signal.SIGSTOP)
    proc = subprocess.Popen(
        [*CCYCTL, "--timeout", "60", "bsp", "status"],
        env=bsp_alone.bus.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # ccyctl is waiting for the answer once its own connection is on the bus.
        wait_until(
            lambda: len(set(names_on(bsp_alone.bus.address)) - before) > 1, "ccyctl on the bus"
        )
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        bsp_alone.unit.send_signal(signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED
    assert err == "ccyctl: interrupted\n"


def test_usage_error_is_one_line() -> None:
    done = ccyctl("bsp", "power-on", "maybe")
    assert done.returncode == ExitCode.USAGE
    assert one_line(done) == (
        "ccyctl: argument value: invalid choice: 'maybe' (choose from 'on', 'off') "
        "(see 'ccyctl bsp power-on --help')"
    )


def test_file_error(tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text("bsp:\n  serial_baud_Bd: 57600\n")
    root = tmp_path / "plain-file"
    root.write_text("not a folder\n")
    done = ccyctl("--root", str(root), "config", "apply", "--no-restart", str(new))
    assert done.returncode == ExitCode.IO
    line = one_line(done)
    assert line.startswith(f"ccyctl: {root}/etc/ccy/config.yaml: not applied: Not a directory")
    assert "the old configuration stays in force" in line


BUG = (
    "import sys, ccy.ctl.cmd_config as c, ccy.ctl.main as m\n"
    "def broken():\n"
    "    raise ZeroDivisionError('division by zero')\n"
    "c.load_manifests = broken\n"
    "sys.exit(m.main(sys.argv[1:]))\n"
)


def test_an_unexpected_error_is_one_line_with_the_debug_hint() -> None:
    # A bug planted in this process only: ccyctl's own code path to the handler is unchanged.
    done = subprocess.run(
        [sys.executable, "-c", BUG, "config", "keys"], capture_output=True, text=True, check=False
    )
    assert done.returncode == ExitCode.OTHER
    assert one_line(done) == (
        "ccyctl: unexpected ZeroDivisionError: division by zero "
        "(a bug in ccyctl: rerun with --debug for the traceback and report it)"
    )
    debug = subprocess.run(
        [sys.executable, "-c", BUG, "--debug", "config", "keys"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert debug.returncode == ExitCode.OTHER
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.splitlines()[-1].startswith("ccyctl: unexpected ZeroDivisionError")


def test_help_lists_every_command() -> None:
    done = ccyctl("--help")
    assert done.returncode == 0
    listed = [
        line.split()[1:3] for line in done.stdout.splitlines() if line.startswith("  ccyctl ")
    ]
    for command in (
        ["bsp", "status"],
        ["bsp", "enable"],
        ["bsp", "ccs-ready"],
        ["bsp", "power-on"],
        ["bsp", "reset"],
        ["config", "check"],
        ["config", "apply"],
        ["config", "show"],
        ["config", "keys"],
        ["exi", "decode"],
        ["exi", "encode"],
        ["update", "install"],
        ["update", "status"],
        ["update", "mark"],
    ):
        assert command in listed
    assert "  ccyctl bsp power-on {on,off}" in done.stdout
    assert "allow,deny" not in done.stdout and "{allow" not in done.stdout  # old words hidden
