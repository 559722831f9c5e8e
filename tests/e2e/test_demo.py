# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim demo`` (what `make demo` runs): the seed's story on the whole simulated charger.

The demo runs as a user runs it (the console script, real processes, sockets and bus). Checked:
exit status 0, the merged journal in time order with every unit in it, the story's lines in
the story's order (the seed's wording where ccy reproduces it), the summary, that the session
log it names exists and reads with ``ccyctl evse session show``, and no identity in clear.
The demo's way of failing (a step that does not show names itself) is checked on its own
journal reader with a real file, and a folder holding an earlier run is refused in one line.
"""

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ccy.sim.demo_journal import Journal, StepMissing

EXE = Path(sys.executable).parent
RECORD = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000) \S+ ([\w-]+)\[\d+\]: \[(\w+)\] (.*)$"
)

STORY: tuple[tuple[str, str], ...] = (
    # boot: versions, the firmware line, READY of each unit
    ("ccy-bsp", "ccy-bsp 0.1.0 (git "),
    ("ccy-bsp", "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)"),
    ("ccy-bsp", "ccy-bsp ready"),
    ("ccy-evse", "ccy-evse ready"),
    ("ccy-auth", "ccy-auth ready"),
    ("ccy-v2g", "Found valid leaf: "),
    ("ccy-v2g", "ccy-v2g ready"),
    ("ccy-profinet", "ccy-profinet ready"),
    ("ccy-evse", "🌀🌀🌀 Ready to start charging 🌀🌀🌀"),
    # plug-in and the dummy token
    ("ccy-bsp", "ID change detected: not connected → connected"),
    ("ccy-bsp", "CE state change from A to B"),
    ("ccy-evse", "All errors cleared"),
    ("ccy-evse", "SYS  Session logging started."),
    ("ccy-evse", "EVSE IEC Session Started: EVConnected"),
    ("ccy-auth", "Publishing new dummy token: {"),
    ("ccy-auth", "Got validation request for token: [redacted] hash: "),
    ("ccy-auth", "Providing authorization to evse#1"),
    ("ccy-evse", "EVSE IEC EIM Authorization received"),
    ("ccy-evse", "EVSE IEC Transaction Started (0 kWh)"),
    # SDP, TLS 1.3, -20 with the MCS service (auth is done before ServiceDiscovery)
    ("ccy-v2g", "CAR ISO V2G ServiceDiscoveryReq"),
    ("ccy-v2g", "Selected MCS service parameters: control mode: Dynamic"),
    ("ccy-evse", "Received EV maximum limits: "),
    ("ccy-v2g", "EVSE ISO V2G ScheduleExchangeRes"),
    # HV ready, cable check, precharge, power delivery, charge loops
    ("ccy-bsp", "CE state change from B to C"),
    ("ccy-evse", "CAR IEC Event CarRequestedPower"),
    ("ccy-evse", "EVSE ISO Start cable check..."),
    ("ccy-bsp", "Allow power on: request to CLOSE the contactor"),
    ("ccy-evse", "EVSE IEC Event PowerOn"),
    ("ccy-evse", "EVSE IEC Isolation measurement Ok"),
    ("ccy-v2g", "CAR ISO V2G DcPreChargeReq"),
    ("ccy-evse", "EVSE IEC DC power supply: switch ON in export mode"),
    ("ccy-v2g", "CAR ISO V2G PowerDeliveryReq"),
    ("ccy-evse", "EVSE IEC Charger state: PrepareCharging->Charging"),
    ("ccy-evse", "Timing statistics (Plugin to CurrentDemand)"),
    ("ccy-evse", "Total duration all phases: "),
    ("ccy-v2g", "EVSE ISO V2G DcChargeLoopRes"),
    # the fault from the power stage side
    ("ccy-sim", "Power stage: supply fault injected"),
    ("ccy-profinet", "Error raised SupplyFault/-"),
    ("ccy-evse", "Stopping (Terminate): ccy-profinet SupplyFault"),
    ("ccy-evse", "EVSE IEC Transaction Finished: Fault ("),
    ("ccy-evse", "Error raised EVSEManager: connector"),
    ("ccy-evse", "EVSE IEC DC power supply OFF"),
    ("ccy-evse", "EVSE IEC Event PowerOff"),
    ("ccy-bsp", "Allow power on: request to OPEN the contactor"),
    ("ccy-v2g", "CAR ISO V2G PowerDeliveryReq"),
    ("ccy-bsp", "CE state change from C to B"),
    ("ccy-evse", "CAR IEC Event CarRequestedStopPower"),
    ("ccy-v2g", "CAR ISO V2G DcWeldingDetectionReq"),
    ("ccy-v2g", "EVSE ISO V2G DcWeldingDetectionRes"),
    ("ccy-v2g", "CAR ISO V2G SessionStopReq"),
    ("ccy-v2g", "EVSE ISO V2G SessionStopRes"),
    # unplug
    ("ccy-bsp", "ID change detected: connected → not connected"),
    ("ccy-evse", "CAR IEC Event CarUnplugged"),
    ("ccy-evse", "EVSE IEC Session Finished"),
    ("ccy-evse", "SYS  Session logging stopped."),
    # the second act: the emergency input
    ("ccy-bsp", "Emergency Stop: EmergencyInput"),
    ("ccy-evse", "Stopping (EmergencyShutdown): "),
    ("ccy-bsp", "Emergency Stop released"),
    ("ccy-bsp", "Leaving safe state: resetting the safety controller (CE returned to A)"),
    ("ccy-sim", "Story complete"),
)


def test_demo_plays_the_seed_story_on_the_whole_stack(tmp_path: Path) -> None:
    run = tmp_path / "run"
    r = subprocess.run(
        [str(EXE / "ccy-sim"), "demo", "--dir", str(run)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr
    out = r.stdout
    assert out.splitlines()[-1] == "demo: OK"
    assert "Traceback" not in out + r.stderr

    records = [m for m in map(RECORD.match, out.splitlines()) if m]
    stamps = [m.group(1) for m in records]
    assert stamps == sorted(stamps), "the merged journal is not in time order"
    idents = {m.group(2) for m in records}
    assert idents >= {"ccy-bsp", "ccy-evse", "ccy-auth", "ccy-v2g", "ccy-profinet", "ccy-sim"}

    at = -1
    for ident, text in STORY:
        found = next(
            (
                i
                for i in range(at + 1, len(records))
                if records[i].group(2) == ident and text in records[i].group(4)
            ),
            None,
        )
        before = records[at].group(4) if at >= 0 else "the start"
        assert found is not None, f"{ident}: {text!r} missing after {before!r}"
        at = found

    summary = out.split("\nSummary\n", 1)[1]
    assert re.search(r"^Stack: 5 units READY in \d+\.\d\d s on unix:path=", summary, re.M)
    assert "Safety controller: Safety Controller Firmware: 0.2.3" in summary
    session = re.search(
        r"^Session: ([0-9a-f-]{36}) \(V2G session [0-9A-F]{16}, TLSv1\.3 ", summary, re.M
    )
    assert session, summary
    assert re.search(r"^Transaction: [0-9a-f-]{36}, finished Fault, energy \d", summary, re.M)
    assert "Total duration all phases: " in summary
    assert re.search(r"^Charge loops: \d+, request → response over TLS median", summary, re.M)
    assert re.search(r"^Supply fault → stop asked \d+ ms, → contactor open \d+ ms$", summary, re.M)
    folder = re.search(r"^Session log: (\S+) \(\d+ events\)$", summary, re.M)
    assert folder, summary
    assert Path(folder.group(1)).is_dir()
    assert Path(folder.group(1)).parent == run / "var/log/ccy/sessions"

    # the session log the summary names, as an operator reads it
    shown = subprocess.run(
        [str(EXE / "ccyctl"), "--root", str(run), "evse", "session", "show", session.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"Session {session.group(1)}\n")
    assert "Transactions: 2" in shown.stdout
    assert "reason=Fault" in shown.stdout
    assert "Timing:\n  Timing statistics (Plugin to CurrentDemand)" in shown.stdout

    # identities reach neither the journal nor the session logs in clear
    for clear in ("CB-F0-CHARGEMODULE-0-2",):
        assert clear not in out
        for path in (run / "var/log/ccy/sessions").rglob("*"):
            if path.is_file():
                assert clear not in path.read_text(errors="replace"), path


def test_a_missing_step_is_named(tmp_path: Path) -> None:
    log = tmp_path / "ccy-evse.log"
    log.write_text(
        "2026-01-01T00:00:00.000001+0000 vm ccy-evse[1]: [INFO] EVSE IEC Session Started: "
        "EVConnected\n"
    )
    journal = Journal(tmp_path)

    async def story() -> None:
        await journal.expect("session started", "ccy-evse", "Session Started", 1.0)
        await journal.expect("session started twice", "ccy-evse", "Session Started", 0.2)

    with pytest.raises(StepMissing) as caught:
        asyncio.run(story())
    assert caught.value.step == "session started twice"
    assert "ccy-evse did not log 'Session Started' within 0.2 s" in str(caught.value)
    assert [step for step, _ in journal.seen] == ["session started"]


def test_a_folder_with_an_earlier_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "ccy-bsp.log").write_text("earlier\n")
    r = subprocess.run(
        [str(EXE / "ccy-sim"), "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1
    assert r.stdout.count("\n") == 1 and "holds an earlier run" in r.stdout
