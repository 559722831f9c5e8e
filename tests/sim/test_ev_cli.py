# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim ev --dir DIR`` against the simulated charger, as the README's walk-through runs it.

The stack is ``ccy.testing.charger.ChargerRig`` (``ccy-sim up``'s private bus, MCU simulator,
ccy-bsp, ccy-evse, ccy-auth and ccy-v2g, plus the power stage): the cable goes in with
``ccy-sim plug``, the vehicle closes S2 with ``ccy-sim ce C``, then ``ccy-sim ev --dir DIR``
finds ccy-v2g by the SdpPort on DIR's bus, trusts DIR's V2G root for TLS, and runs the session
against the real ccy-evse. Checked: exit status, the printed session, ccy-v2g's journal and
one-line errors for a folder without a stack.
"""

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.testing.charger import ChargerRig, EvseClient, charger_rig
from ccy.testing.folders import traversable_tmp

SIM = (sys.executable, "-m", "ccy.sim.cli")
UNITS = ("ccy-v2g", "ccy-evse")


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-ev-cli-") as r:
        yield r


def _sim(*args: str, timeout: float = 60) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [*SIM, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _session_at_evse(rig: ChargerRig, present: bool) -> None:
    async def wait() -> None:
        c = await EvseClient.connect(rig.stack.address())
        try:
            await c.until("SessionId", (lambda v: v != "") if present else "")
        finally:
            c.disconnect()

    asyncio.run(wait())


def _plugged_session(rig: ChargerRig, *ev_args: str) -> tuple[str, list[str], list[str]]:
    """plug, CE C, ``ccy-sim ev --dir DIR ev_args``, unplug: (ev's stdout+stderr, its
    stdout lines, ccy-v2g's new log lines)."""
    directory = str(rig.stack.layout.dir)
    start = len(rig.log("ccy-v2g"))
    for step in (("plug", "--dir", directory), ("ce", "--dir", directory, "C")):
        done = _sim(*step)
        assert done.returncode == 0, done.stderr
    _session_at_evse(rig, True)
    try:
        ev = _sim("ev", "--dir", directory, *ev_args)
    finally:
        assert _sim("unplug", "--dir", directory).returncode == 0
        _session_at_evse(rig, False)
    ours = rig.log("ccy-v2g")[start:].splitlines()
    report = f"{ev.stdout[-3000:]}{ev.stderr}\n--- ccy-v2g ---\n" + "\n".join(ours[-40:])
    assert ev.returncode == 0, report
    assert "Traceback" not in ev.stderr, report
    assert not [line for line in ours if "[ERROR]" in line or "[CRIT]" in line], report
    return report, ev.stdout.splitlines(), ours


@pytest.mark.parametrize(
    ("args", "service_line"),
    [
        (("--tls", "--service", "mcs", "--mode", "dynamic"), "control mode: Dynamic"),
        (("--service", "dc", "--mode", "scheduled"), "control mode: Scheduled"),
    ],
    ids=["tls-mcs-dynamic", "tcp-dc-scheduled"],
)
def test_ccy_sim_ev_completes_a_session_against_the_stack(
    rig: ChargerRig, args: tuple[str, ...], service_line: str
) -> None:
    report, printed, ours = _plugged_session(rig, *args, "--loops", "3", "--loop-interval-ms", "20")
    assert printed[-1].startswith("ccy-sim ev: completed (session "), report
    assert sum(line.endswith("CAR ISO V2G DcChargeLoopReq") for line in printed) == 3, report
    assert any(line.endswith("EVSE ISO V2G SessionStopRes") for line in printed), report
    assert sum(line.endswith("CAR ISO V2G DcChargeLoopReq") for line in ours) == 3, report
    assert any("EVSE ISO V2G SessionStopRes" in line for line in ours), report
    assert any(service_line in line for line in ours), report


def test_ccy_sim_ev_without_a_stack_says_so_in_one_line() -> None:
    empty = traversable_tmp("ccy-ev-cli-empty-")
    for directory in (empty, Path(empty / "missing")):
        done = _sim("ev", "--dir", str(directory), timeout=30)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ccy-sim ev: no stack runs in "), lines
        assert "ccy-sim up --dir DIR" in lines[0]
    empty.rmdir()
