# SPDX-License-Identifier: Apache-2.0
"""``ccyctl status`` on the real bus: ccy-bsp alone on the MCU simulator (the other units
down), the simulated stack as ``ccy-sim up`` starts it (whichever units the stack table
holds), a bare bus where every unit is down, and no bus.

The command runs as a subprocess, as an operator runs it; what it prints is compared with
what the bus itself answers (busctl) and with the processes the stack really runs.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccy.ctl.cmd_status import UNITS, ObjectView, UnitState, UnitView, read_all
from ccy.sim.mcu.control import send_command
from ccy.sim.stack import Stack
from ccy.sim.stack_table import BSP_ONLY
from ccy.testing.bus_daemon import ADDRESS_ENV
from ccy.testing.bus_daemon import bare_bus as private_bare_bus
from ccy.testing.folders import traversable_tmp

TOP = Path(__file__).resolve().parents[2]
CCYCTL = str(Path(sys.executable).parent / "ccyctl")
UNIT_NAMES = [view.unit for view in UNITS]
HERE = Path(__file__).resolve().parent


def ccyctl(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, ADDRESS_ENV: address}
    return subprocess.run(
        [CCYCTL, "--timeout", "5", "status", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def rows(text: str) -> dict[str, tuple[str, str]]:
    """unit → (state, summary) from the screen."""
    found = {}
    for line in text.splitlines():
        for state in (UnitState.NO_ANSWER, UnitState.READY, UnitState.WAITING, UnitState.DOWN):
            for unit in UNIT_NAMES:
                prefix = unit.ljust(len("ccy-profinet")) + "  " + state
                if line.startswith(prefix):
                    found[unit] = (state, line[len(prefix) :].strip())
    return found


def status_json(address: str) -> dict[str, Any]:
    done = ccyctl(address, "--json")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def busctl_get(address: str, *where_and_name: str) -> str:
    """``busctl get-property BUS_NAME PATH INTERFACE NAME``: the value as busctl prints it."""
    done = subprocess.run(
        ["busctl", f"--address={address}", "get-property", *where_and_name],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def busctl_prop(address: str, name: str) -> str:
    return busctl_get(address, "org.ccy.Bsp", "/org/ccy/Bsp", "org.ccy.Bsp1", name)


def wait_for(probe: Any, wanted: Any, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if wanted(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


# ------------------------------------------------------------------ the simulated stack


@pytest.fixture(scope="module")
def bsp_stack() -> Iterator[Stack]:
    """ccy-bsp on the MCU simulator under its own private bus; no other unit runs."""
    assert len(BSP_ONLY) == 1
    directory = traversable_tmp("ccy-status-stack-")
    stack = Stack(directory, table="ccy.sim.stack_table:BSP_ONLY")
    try:
        stack.up()
        yield stack
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


def test_status_shows_every_unit_as_the_stack_runs_it(bsp_stack: Stack) -> None:
    done = ccyctl(bsp_stack.address())
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    screen = rows(done.stdout)
    assert list(screen) == UNIT_NAMES, done.stdout  # all five, in order, one line each
    state, bsp = screen["ccy-bsp"]
    assert state == UnitState.READY, done.stdout
    assert busctl_prop(bsp_stack.address(), "LinkUp") == "b true"
    assert "link up" in bsp and "MCU fw 0.2.3" in bsp, bsp
    ce = busctl_prop(bsp_stack.address(), "CeState").split('"')[1]
    assert f"CE {ce}," in bsp, bsp
    assert "ccy-evse" not in bsp_stack.processes()
    for unit in UNIT_NAMES[1:]:
        assert screen[unit] == (UnitState.DOWN, "not running"), done.stdout
    assert "Active errors: 0" in done.stdout


def test_status_json_says_the_same(bsp_stack: Stack) -> None:
    doc = status_json(bsp_stack.address())
    assert list(doc["units"]) == UNIT_NAMES
    assert doc["bus"] in bsp_stack.address()
    bsp = doc["units"]["ccy-bsp"]
    assert bsp["state"] == UnitState.READY and bsp["bus_name"] == "org.ccy.Bsp"
    assert bsp["owner"].startswith(":")
    props = bsp["objects"]["/org/ccy/Bsp"]["properties"]
    assert props["LinkUp"] is True and props["FirmwareVersion"] == "0.2.3"
    assert props["EmergencyStop"] == busctl_prop(bsp_stack.address(), "EmergencyStop").split('"')[1]
    for unit in UNIT_NAMES[1:]:
        entry = doc["units"][unit]
        assert (entry["state"], entry["owner"], entry["objects"]) == (UnitState.DOWN, "", {})


def test_status_shows_an_emergency_stop_and_its_error(bsp_stack: Stack) -> None:
    """Last on the stack of this module: the MCU stays in its safe state afterwards."""
    reply = send_command(bsp_stack.layout.control, {"cmd": "estop", "reason": "EmergencyInput"})
    assert reply.get("ok"), reply
    try:
        done = wait_for(
            lambda: ccyctl(bsp_stack.address()),
            lambda d: "EmergencyStop/EmergencyInput" in d.stdout,
        )
        assert done.returncode == 0, done.stderr
        _, bsp = rows(done.stdout)["ccy-bsp"]
        assert "E-stop EmergencyInput" in bsp and "power off" in bsp, done.stdout
        assert "Active errors: 0" not in done.stdout
        error = next(line for line in done.stdout.splitlines() if "EmergencyInput:" in line)
        assert error.split()[:2] == ["ccy-bsp", "High"], error
        doc = status_json(bsp_stack.address())
        errors = doc["units"]["ccy-bsp"]["errors"]
        assert {(e["type"], e["subtype"]) for e in errors} >= {("EmergencyStop", "EmergencyInput")}
        assert all(isinstance(e["raised_us"], int) for e in errors)
    finally:
        send_command(bsp_stack.layout.control, {"cmd": "estop", "reason": "NoStop"})


def test_status_of_the_default_stack(stack: Stack) -> None:
    """The stack as ``ccy-sim up`` starts it (ccy.sim.stack_table): each unit it runs is up
    (ready or waiting, its objects read without failure), each one it does not is down."""
    done = ccyctl(stack.address())
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    screen = rows(done.stdout)
    doc = status_json(stack.address())
    running = set(stack.processes())
    assert "ccy-bsp" in running
    for unit in UNIT_NAMES:
        entry = doc["units"][unit]
        if unit in running:
            assert screen[unit][0] in (UnitState.READY, UnitState.WAITING), done.stdout
            assert entry["owner"] and entry["objects"], (unit, entry)
            assert all(not o["failure"] for o in entry["objects"].values()), (unit, entry)
            path, main = next(iter(entry["objects"].items()))
            if "WaitingFor" in main["properties"]:  # what the unit itself says it waits for
                said = busctl_get(
                    stack.address(), entry["bus_name"], path, main["interface"], "WaitingFor"
                )
                names = [w for w in said.split('"')[1::2] if w.strip()]
                assert entry["waiting_for"][: len(names)] == names, (said, entry)
                expected = UnitState.WAITING if entry["waiting_for"] else UnitState.READY
                assert screen[unit][0] == expected, done.stdout
                assert all(name in screen[unit][1] for name in names), done.stdout
        else:
            assert screen[unit] == (UnitState.DOWN, "not running"), done.stdout


# ------------------------------------------------------------------ no unit, no bus


@pytest.fixture(scope="module")
def bare_bus() -> Iterator[str]:
    """A private system bus with ccy's policies and no unit on it."""
    with private_bare_bus("ccy-status-") as address:
        yield address


def test_every_unit_down_is_shown_down_not_a_traceback(bare_bus: str) -> None:
    done = ccyctl(bare_bus)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert rows(done.stdout) == {unit: (UnitState.DOWN, "not running") for unit in UNIT_NAMES}
    doc = status_json(bare_bus)
    assert {u: e["state"] for u, e in doc["units"].items()} == dict.fromkeys(
        UNIT_NAMES, UnitState.DOWN
    )


STUCK_OWNER = """
import asyncio, sys
from dbus_fast.aio import MessageBus
async def main():
    bus = await MessageBus(bus_address=sys.argv[1]).connect()
    await bus.request_name(sys.argv[2])
    print("owned", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def test_a_unit_that_owns_its_name_but_does_not_answer(bare_bus: str) -> None:
    """A stuck process (stopped with SIGSTOP) owning org.ccy.Evse: "no answer", exit 0."""
    from ccy.evse.contract import BUS_NAME

    owner = subprocess.Popen(
        [sys.executable, "-c", STUCK_OWNER, bare_bus, BUS_NAME],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "owned"
        owner.send_signal(signal.SIGSTOP)
        env = {**os.environ, ADDRESS_ENV: bare_bus}
        done = subprocess.run(
            [CCYCTL, "--timeout", "1", "status"],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        screen = rows(done.stdout)
        assert screen["ccy-evse"][0] == UnitState.NO_ANSWER, done.stdout
        assert "no answer within 1 s" in screen["ccy-evse"][1], done.stdout
        assert screen["ccy-bsp"] == (UnitState.DOWN, "not running")
    finally:
        owner.send_signal(signal.SIGCONT)
        owner.kill()
        owner.wait()


def test_a_unit_without_a_contract_module_is_unknown(
    bare_bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADDRESS_ENV, bare_bus)
    views = (
        UnitView("ccy-future", "ccy.future.contract", (ObjectView("OBJECT_PATH", "IFACE", ()),)),
        UNITS[0],
    )
    _, found = asyncio.run(read_all(5.0, views))
    assert [(u.unit, u.state) for u in found] == [
        ("ccy-future", UnitState.UNKNOWN),
        ("ccy-bsp", UnitState.DOWN),
    ]
    assert "ccy.future.contract is not installed" in found[0].note


def test_no_bus_is_one_line_and_exit_69(tmp_path: Path) -> None:
    done = ccyctl(f"unix:path={tmp_path}/nothing-here")
    assert done.returncode == 69 and done.stdout == ""
    assert done.stderr.startswith("ccyctl: no system bus at unix:path=")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# ------------------------------------------------------------------ the table and the XML


def test_every_property_shown_is_in_its_contract_xml() -> None:
    """Names the screen reads exist in dbus/<interface>.xml (for every contract present)."""
    import importlib

    checked = 0
    for view in UNITS:
        try:
            module = importlib.import_module(view.contract)
        except ImportError:
            continue
        assert getattr(module, "UNIT", view.unit) == view.unit
        for obj in view.objects:
            iface = getattr(module, obj.iface_attr)
            assert isinstance(getattr(module, obj.path_attr), str)
            xml = ET.parse(TOP / "dbus" / f"{iface}.xml").getroot()
            names = {p.get("name") for p in xml.iter("property")}
            missing = set(obj.properties) - names
            assert not missing, f"{view.unit} {iface}: {sorted(missing)}"
            checked += 1
    assert checked >= 2  # ccy-bsp and the power stage at least
