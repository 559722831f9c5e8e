# SPDX-License-Identifier: Apache-2.0
"""The IO device against the PLC simulator through real frames on a veth pair (root): DCP,
Connect, WriteMultiple, PrmEnd, ApplicationReady, cyclic exchange at 8 ms with setpoints
echoed as present values, a diagnosis alarm appearing and disappearing (ACKed), then the PLC
vanishing → "DHT expired" with the ERR-RTA frame; and tshark's dissection of the whole
capture (no malformed frame, no expert error).

One run (a module fixture) serves every test of this file."""

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.profinet.conftest import DcpDevice
from tests.profinet.rt_procs import Proc

from ccy.testing.netns import charger_network, exec_in

INDEX = 150
HOST = Path(__file__).with_name("rt_device_host.py")


@dataclass
class Run:
    plc: list[str]
    device: list[str]
    device_log: str
    capture: Path
    voltages: list[float]


def start_capture(namespace: str, interface: str, path: Path) -> "subprocess.Popen[str]":
    cap = subprocess.Popen(
        exec_in(namespace, ["dumpcap", "-q", "-i", interface, "-w", str(path)]),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cap.stderr is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "Capturing on" in cap.stderr.readline():
            return cap
    raise AssertionError("dumpcap did not start")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("rt")
    with charger_network(INDEX) as net:
        cap = start_capture(net.plc_ns, net.plc.interface, tmp / "run.pcapng")
        dcp = DcpDevice(
            net.charger_ns, net.device.interface, tmp / "dcp", tmp / "dcp.log",
            "--station-name", "ccy-charger", "--ip", "192.0.2.2/24",
        )  # fmt: skip
        dev = Proc(
            exec_in(net.charger_ns, [sys.executable, str(HOST), net.device.interface]),
            tmp / "device.log",
        )
        plc = Proc(
            exec_in(
                net.plc_ns,
                [sys.executable, "-m", "ccy.sim.plc", "--iface", net.plc.interface,
                 "--station", "ccy-charger", "--cycle-ms", "8", "--read-im0",
                 "--vanish-after", "2", "--run-s", "1"],
            ),
            tmp / "plc.log",
        )  # fmt: skip
        try:
            dcp.start()
            dev.start().expect("ready")
            plc.start()
            plc.expect("plc: data exchange")
            dev.expect("state DataExchange")
            dev.send("target 400 0 CABLE_CHECK")
            dev.expect("output valid")
            voltages = []
            for _ in range(3):
                time.sleep(0.2)
                dev.send("last")
                voltages.append(float(dev.expect("last").split()[1]))
            dev.send("diag appear 0x0100")
            plc.expect("plc: alarm appears")
            dev.send("diag clear 0x0100")
            plc.expect("plc: alarm disappears")
            dev.expect("state Aborted", timeout=10)
            dev.send("stats")
            dev.expect("stats")
            plc.expect("plc: done", timeout=10)
        finally:
            for p in (plc, dev):
                p.stop()
            dcp.stop()
            time.sleep(0.2)
            cap.terminate()
            cap.wait(timeout=10)
        yield Run(plc.seen, dev.seen, dev.log(), tmp / "run.pcapng", voltages)


@pytest.mark.root
def test_startup_reaches_data_exchange_with_the_seed_wording(run: Run) -> None:
    steps = [line.split(" ", 2)[1] for line in run.plc if line.startswith("plc: ")]
    assert steps[:7] == ["found", "connected", "written", "prm", "application", "I&M0", "data"]
    assert [s.split()[1] for s in run.device if s.startswith("state ")][:3] == [
        "Connected",
        "PrmEnd",
        "DataExchange",
    ]
    for line in (
        "PLC connect indication. AREP: 1",
        "PLC dcontrol message (The PLC is done with parameter writing). AREP: 1 Command: PRM_END",
        "Application will signal that it is ready for data, for AREP 1",
    ):
        assert line in run.device_log


@pytest.mark.root
def test_setpoints_come_back_as_present_values(run: Run) -> None:
    assert run.voltages == sorted(run.voltages) and run.voltages[-1] > run.voltages[0] > 0


@pytest.mark.root
def test_alarms_are_acknowledged(run: Run) -> None:
    stats = next(s for s in run.device if s.startswith("stats")).split()
    values = dict(zip(stats[1::2], stats[2::2], strict=False))
    assert values["alarms"] == "2" and values["acked"] == "2"
    assert int(values["sent"]) > 100 and int(values["accepted"]) > 100
    assert values["length"] == "0" and values["stale"] == "0"


@pytest.mark.root
def test_a_vanished_plc_is_dht_expired(run: Run) -> None:
    aborted = next(s for s in run.device if s.startswith("state Aborted"))
    assert aborted.endswith("DHT expired")
    assert "dht 1" in next(s for s in run.device if s.startswith("stats"))


def tshark(capture: Path, *args: str) -> list[str]:
    done = subprocess.run(
        ["tshark", "-r", str(capture), *args], capture_output=True, text=True, check=True
    )
    return [line for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.root
def test_tshark_dissects_the_run_without_malformed_frames_or_expert_errors(run: Run) -> None:
    bad = tshark(run.capture, "-Y", "_ws.malformed || _ws.expert.severity >= 0x800000")
    assert bad == []
    summary = "\n".join(tshark(run.capture, "-Y", "pn_io || pn_dcp || dcerpc"))
    for part in (
        "Ident Ok",
        "Connect response, OK, ARBlockRes, IOCRBlockRes, IOCRBlockRes, AlarmCRBlockRes",
        "Write response, OK",
        "Control response, OK, IODControlRes Prm End.rsp",
        "IOXBlockReq Application Ready.req",
        "Read response, OK, IODReadResHeader",
        "Alarm Notification Low, Diagnosis,",
        "Alarm Notification Low, Diagnosis disappears",
        "ACK-RTA",
        "AR consumer DHT/WDT expired",
    ):
        assert part in summary, part
    cycles = tshark(
        run.capture, "-Y", "pn_rt.frame_id == 0xc001", "-T", "fields", "-e", "pn_rt.cycle_counter"
    )
    counters = [int(c) for c in cycles]
    assert len(counters) > 100
    steps = {(b - a) % 65536 for a, b in itertools.pairwise(counters)}
    assert min(steps) >= 256 and all(s % 256 == 0 for s in steps)  # 8 ms = 256 ticks
