# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim demo`` (what `make demo` runs): the story passes; the journal reads like the seed."""

import re
import subprocess
import sys
from pathlib import Path

STAMP = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000) \S+ ([\w-]+)\[\d+\]: \[(\w+)\] "
)


def test_demo_story_and_merged_journal(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "ccy-sim"
    r = subprocess.run(
        [str(exe), "demo", "--dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "demo: OK"
    records = [m for m in map(STAMP.match, lines) if m]
    stamps = [m.group(1) for m in records]
    assert stamps == sorted(stamps), "the merged journal is not in time order"
    assert {m.group(2) for m in records} >= {"ccy-bsp", "ccy-sim", "ccy-sim-mcu"}
    text = r.stdout
    for expected in (
        "Safety Controller Firmware: 0.2.3 (g5638a7e18ecce8f0, CC Y, firmware)",
        "ID change detected: not connected → connected",
        "CE state change from A to B0",
        "CE state change from B0 to B",
        "MCS HLC enable: True (CCSReady=Ready)",
        "Allow power on: request to CLOSE the contactor",
        "Error raised TemperatureWarning/dc_plus",
        "Emergency Stop: EmergencyInput",
        "Emergency Stop released",
        "Leaving safe state: resetting the safety controller (CE returned to A)",
        "ID change detected: connected → not connected",
        "Story complete",
    ):
        assert expected in text, expected
    assert "Traceback" not in text
