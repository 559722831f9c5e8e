# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.sim.plc`` end to end (root, veth pair): at 32 ms, setting the station name
and a temporary IP by DCP first, releasing the AR at the end; a PLC that vanishes and comes
back (the device serves the second controller after the DHT abort); and the one-line errors
of the command line."""

import subprocess
import sys
from pathlib import Path

import pytest
from tests.profinet.conftest import DcpDevice
from tests.profinet.rt_procs import Proc

from ccy.testing.netns import charger_network, exec_in

INDEX = 153
HOST = Path(__file__).parents[1] / "profinet" / "rt_device_host.py"


def plc(ns: str, iface: str, log: Path, *args: str) -> Proc:
    return Proc(exec_in(ns, [sys.executable, "-m", "ccy.sim.plc", "--iface", iface, *args]), log)


@pytest.mark.root
def test_plc_names_the_device_connects_at_32_ms_releases_and_reconnects(tmp_path: Path) -> None:
    with charger_network(INDEX) as net:
        dcp = DcpDevice(
            net.charger_ns, net.device.interface, tmp_path / "dcp", tmp_path / "dcp.log",
            "--station-name", "", "--ip", "192.0.2.2/24",
        )  # fmt: skip
        dev = Proc(
            exec_in(net.charger_ns, [sys.executable, str(HOST), net.device.interface]),
            tmp_path / "device.log",
        )
        first = plc(
            net.plc_ns, net.plc.interface, tmp_path / "plc1.log",
            "--set-name", "ccy-charger", "--set-ip", "192.0.2.7/24", "--temporary",
            "--cycle-ms", "32", "--run-s", "1", "--release",
        )  # fmt: skip
        second = plc(
            net.plc_ns, net.plc.interface, tmp_path / "plc2.log",
            "--station", "ccy-charger", "--vanish-after", "0.5", "--run-s", "0.2",
        )  # fmt: skip
        third = plc(
            net.plc_ns, net.plc.interface, tmp_path / "plc3.log",
            "--station", "ccy-charger", "--run-s", "0.5", "--release",
        )  # fmt: skip
        try:
            dcp.start()
            dev.start().expect("ready")
            first.start()
            assert first.expect("plc: set") == "plc: set ccy-charger 192.0.2.7/24"
            assert first.expect("plc: found").endswith("192.0.2.7")
            first.expect("plc: data exchange")
            assert first.expect("plc: released") == "plc: released 0x00 0x00 0x00 0x00"
            assert first.wait() == 0
            dev.expect("state Released")
            second.start().expect("plc: vanished")
            assert second.wait() == 0
            assert dev.expect("state Aborted").endswith("DHT expired")
            third.start().expect("plc: data exchange")
            assert third.wait() == 0
            dev.expect("state Released")
        finally:
            for p in (first, second, third, dev):
                p.stop()
            dcp.stop()
    states = [line.split()[1] for line in dev.seen if line.startswith("state ")]
    assert states == [
        "Connected", "PrmEnd", "DataExchange", "Released",
        "Connected", "PrmEnd", "DataExchange", "Aborted",
        "Connected", "PrmEnd", "DataExchange", "Released",
    ]  # fmt: skip


def test_command_line_errors_are_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ccy.sim.plc", "--iface", "no-such-if0"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode in (69,) and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("ccy-sim plc: ")
    done = subprocess.run(
        [sys.executable, "-m", "ccy.sim.plc", "--iface", "x", "--cycle-ms", "3"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "--cycle-ms" in done.stderr
