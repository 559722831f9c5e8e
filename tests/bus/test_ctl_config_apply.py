# SPDX-License-Identifier: Apache-2.0
"""``ccyctl config apply`` as a process: which units restart, and not during a session.

The bus is the real dbus-daemon (PrivateBus). ccy-evse does not exist yet, so the active
session is shown by a stand-in: a connection in this test that owns org.ccy.Evse and exports
org.ccy.Evse1 with a SessionId property, as contracts.md says ccy-evse will. The no-Evse path
needs no stand-in. systemctl is a stand-in script first on PATH that records its arguments
(systemd does not run in the test container).
"""

import asyncio
import getpass
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property

from ccy.ctl.session_check import EVSE_BUS_NAME, EVSE_IFACE, EVSE_OBJECT_PATH
from ccy.runtime.paths import dbus_dir
from ccy.testing.bus_daemon import ADDRESS_ENV, PrivateBus, user_policy

CCYCTL = [sys.executable, "-m", "ccy.ctl.main"]
BAUD = "bsp:\n  serial_baud_Bd: {}\n"


class EvseStandIn(ServiceInterface):
    """Stand-in for ccy-evse (not written yet): only the SessionId property."""

    def __init__(self, session_id: str) -> None:
        super().__init__(EVSE_IFACE)
        self.session_id = session_id

    @dbus_property(access=PropertyAccess.READ, name="SessionId")
    def session(self) -> "s":  # type: ignore[name-defined]  # noqa: F821  (D-Bus signature)
        return self.session_id


class Charger:
    """A root folder with an installed config, a private bus and a recording systemctl."""

    def __init__(self, directory: Path, bus: PrivateBus) -> None:
        self.directory = directory
        self.root = directory / "root"
        etc = self.root / "etc" / "ccy"
        etc.mkdir(parents=True)
        (etc / "first.yaml").write_text(BAUD.format(9600))
        (etc / "config.yaml").symlink_to("first.yaml")
        self.bin = directory / "bin"
        self.bin.mkdir()
        self.calls = directory / "systemctl.calls"
        self.systemctl(0)
        self.bus = bus

    def systemctl(self, status: int, say: str = "") -> None:
        script = self.bin / "systemctl"
        script.write_text(
            f'#!/bin/sh\necho "$@" >> "{self.calls}"\n'
            + (f'echo "{say}" >&2\n' if say else "")
            + f"exit {status}\n"
        )
        script.chmod(0o755)

    def restarts(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def env(self) -> dict[str, str]:
        return {**self.bus.environ(), "PATH": f"{self.bin}:{os.environ['PATH']}"}

    def candidate(self, baud: int) -> Path:
        path = self.directory / f"baud-{baud}.yaml"
        path.write_text(BAUD.format(baud))
        return path

    def apply(
        self, baud: int, *options: str, session: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        args = [*CCYCTL, "--root", str(self.root), "config", "apply", *options]
        args.append(str(self.candidate(baud)))
        if session is None:
            return subprocess.run(
                args, env=self.env(), capture_output=True, text=True, timeout=60, check=False
            )
        return asyncio.run(self._apply_beside_evse(args, session))

    async def _apply_beside_evse(
        self, args: list[str], session: str
    ) -> subprocess.CompletedProcess[str]:
        evse = await MessageBus(bus_address=self.bus.address, bus_type=BusType.SYSTEM).connect()
        try:
            evse.export(EVSE_OBJECT_PATH, EvseStandIn(session))
            await evse.request_name(EVSE_BUS_NAME)
            proc = await asyncio.create_subprocess_exec(
                *args,
                env=self.env(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            evse.disconnect()
        return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBus]:
    directory = tmp_path_factory.mktemp("bus")
    with PrivateBus(directory, [dbus_dir() / "policy"], user_policy(getpass.getuser())) as bus:
        yield bus


@pytest.fixture
def charger(tmp_path: Path, bus: PrivateBus) -> Charger:
    return Charger(tmp_path, bus)


def test_without_ccy_evse_the_changed_units_restart(charger: Charger) -> None:
    done = charger.apply(57600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "changed sections: bsp" in lines
    assert "units that restart to take the change: ccy-bsp" in lines
    assert lines[-1] == "restarted (no charging session is active): ccy-bsp"
    assert charger.restarts() == ["try-restart ccy-bsp"]


def test_an_active_session_holds_the_restart_until_now(charger: Charger) -> None:
    held = charger.apply(57600, session="0b8e-session")
    assert held.returncode == 0, held.stderr
    assert charger.restarts() == []
    last = held.stdout.splitlines()[-1]
    assert last.startswith("not restarted (charging session 0b8e-session is active): ")
    assert "ccy-bsp still runs the old configuration" in last
    assert f"ccyctl --root {charger.root} config apply --now " in last
    assert last.endswith("or systemctl restart ccy-bsp")
    # The same file again changes nothing, but ccy-bsp still runs the oldest one: --now
    # restarts it although the session is still active.
    now = charger.apply(57600, "--now", session="0b8e-session")
    assert now.returncode == 0, now.stderr
    assert "no setting changed" not in now.stdout
    assert "not restarted by an earlier apply: ccy-bsp" in now.stdout.splitlines()
    assert now.stdout.splitlines()[-1] == "restarted (--now): ccy-bsp"
    assert charger.restarts() == ["try-restart ccy-bsp"]


def test_ccy_evse_without_a_session_lets_the_restart_happen(charger: Charger) -> None:
    done = charger.apply(19200, session="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "restarted (no charging session is active): ccy-bsp"
    assert charger.restarts() == ["try-restart ccy-bsp"]


def test_an_unchanged_config_restarts_nothing(charger: Charger) -> None:
    done = charger.apply(9600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "no setting changed: no unit needs a restart"
    assert charger.restarts() == []


def test_without_a_bus_nothing_restarts(charger: Charger, tmp_path: Path) -> None:
    env = {**charger.env(), ADDRESS_ENV: f"unix:path={tmp_path}/no_socket"}
    done = subprocess.run(
        [*CCYCTL, "--root", str(charger.root), "config", "apply", str(charger.candidate(57600))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("not restarted (cannot tell whether a session is active: no system bus")
    assert charger.restarts() == []


def test_no_restart_option(charger: Charger) -> None:
    done = charger.apply(57600, "--no-restart")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("not restarted (--no-restart): ccy-bsp still")
    assert charger.restarts() == []


def test_a_failed_restart_is_one_line(charger: Charger) -> None:
    charger.systemctl(5, "Failed to restart ccy-bsp.service: Unit ccy-bsp.service not found.")
    done = charger.apply(57600)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ccyctl: systemctl try-restart failed: Failed to restart ccy-bsp.service: Unit "
        "ccy-bsp.service not found.; ccy-bsp still runs the old configuration "
        "(see systemctl status ccy-bsp)"
    ]
    assert (charger.root / "etc/ccy/config.yaml").read_text() == BAUD.format(57600)
