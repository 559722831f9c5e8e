# SPDX-License-Identifier: Apache-2.0
"""Our EV simulator against a third-party SECC: Josev's (PyPI ``iso15118``), full -20 DC sessions.

Josev's SECC runs in the charger's network namespace on one end of a veth pair, our EV
simulator (``ccy-sim ev``) in the vehicle's namespace on the other; SDP by link-local
multicast, then V2GTP over TCP. Josev's SECC knows no MCS, so the service is DC (2); its
simulated power stage never raises the voltage, so pre-charge ends after three requests
(``--pre-charge-requests``), as Josev's own EVCC does. Both control modes; the test fails when
our simulator does not complete or Josev's log shows an error or a validation failure.

Needs root (namespaces) and Josev's venv (``.cache/josev-venv``, made by the setup hook
``.ci/setup.d/josev.sh``; ``CCY_JOSEV_VENV`` overrides the path).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccy.testing import netns

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("CCY_JOSEV_VENV", REPO / ".cache/josev-venv"))
JOSEV_PY = VENV / "bin/python"

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not netns.available(), reason="needs root and ip for network namespaces"),
    pytest.mark.skipif(
        not JOSEV_PY.exists(), reason=f"Josev's venv missing at {VENV} (.ci/setup.d/josev.sh)"
    ),
]

INDEX = 41


def _wait_for(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{path.name}: no {text!r} within {timeout_s:g} s")


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_ev_simulator_completes_a_session_with_josev_secc(mode: str, tmp_path: Path) -> None:
    layout = netns.NetLayout(INDEX)
    (tmp_path / ".env").write_text(
        f"NETWORK_INTERFACE={layout.secc.interface}\nLOG_LEVEL=INFO\n"
        "PROTOCOLS=ISO_15118_20_DC\nAUTH_MODES=EIM\nENABLE_TLS_1_3=False\n"
        "MESSAGE_LOG_EXI=False\nMESSAGE_LOG_JSON=False\n"
    )
    log = tmp_path / "josev-secc.log"
    with netns.charger_network(INDEX), log.open("w") as out:
        secc = subprocess.Popen(
            netns.exec_in(layout.charger_ns, [str(JOSEV_PY), "-m", "iso15118.secc.main"]),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(log, "UDP server started", 60)
            argv = [sys.executable, "-m", "ccy.sim.ev.cli", "--sdp-port", "15118"]
            argv += ["--interface", layout.evcc.interface, "--service", "dc", "--mode", mode]
            argv += ["--loops", "3", "--loop-interval-ms", "20", "--pre-charge-requests", "3"]
            ev = subprocess.run(
                netns.exec_in(layout.ev_ns, argv),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            secc.terminate()
            secc.wait(10)
    josev = log.read_text(errors="replace")
    assert ev.returncode == 0, ev.stderr + ev.stdout[-3000:]
    assert "ccy-sim ev: completed" in ev.stdout
    lines = ev.stdout.splitlines()
    for name in ("DcCableCheck", "DcPreCharge", "DcChargeLoop", "DcWeldingDetection"):
        assert any(f"CAR ISO V2G {name}Req" in line for line in lines), name
        assert any(f"EVSE ISO V2G {name}Res" in line for line in lines), name
    assert sum("CAR ISO V2G DcChargeLoopReq" in line for line in lines) == 3
    problems = [
        line for line in josev.splitlines() if line.startswith("ERROR") or "Traceback" in line
    ]
    assert not problems, "\n".join(problems)
    assert "SessionStopReq received" in josev
