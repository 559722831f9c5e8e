# SPDX-License-Identifier: Apache-2.0
"""Bus-tier fixtures: the real dbus-daemon with our policy files, the real units, busctl.

Folders that other users must reach (the bus socket) are made world-traversable; pytest's
own tmp_path lives under a 0700 folder and would hide the socket from the policy tests.
"""

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccy.sim.stack import Stack
from ccy.testing.folders import traversable_tmp

TOP = Path(__file__).resolve().parents[2]


Busctl = Callable[..., subprocess.CompletedProcess[str]]


def run_busctl(
    address: str, *args: str, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    """busctl against ``address``, as ``user`` (through runuser) when given."""
    cmd = ["busctl", f"--address={address}", "--no-pager", *args]
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)


def run_dbus_send(
    address: str, dest: str, path: str, member: str, *args: str, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    """dbus-send --print-reply (it prints D-Bus error names, where busctl prints errno text)."""
    cmd = ["dbus-send", f"--bus={address}", "--print-reply", f"--dest={dest}", path, member, *args]
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)


@pytest.fixture(scope="session")
def busctl() -> Busctl:
    return run_busctl


@pytest.fixture(scope="session")
def dbus_send() -> Busctl:
    return run_dbus_send


@pytest.fixture(scope="session")
def test_users() -> None:
    """The static users of the image plus the callers of tests/bus/sysusers-test.conf."""
    subprocess.run(
        [
            "systemd-sysusers",
            str(TOP / "services/systemd/sysusers.d/ccy.conf"),
            str(TOP / "tests/bus/sysusers-test.conf"),
        ],
        check=True,
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The safety link on the bus: private bus, MCU simulator on a pty, ccy-bsp, all real.
    Alone (BSP_ONLY): these tests drive Bsp1 as ccy-evse would, so ccy-evse must not run.
    tests/bus/test_contract.py runs the whole stack (its own fixture)."""
    directory = traversable_tmp("ccy-stack-")
    s = Stack(directory, table="ccy.sim.stack_table:BSP_ONLY")
    s.up()
    try:
        yield s
    finally:
        s.down()
        shutil.rmtree(directory, ignore_errors=True)
