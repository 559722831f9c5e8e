# SPDX-License-Identifier: Apache-2.0
"""profinet-py, a Profinet controller library nobody here wrote (PyPI "profinet-py", GPL-3.0,
a test dependency only, run as its own process in the PLC namespace), against our IO device
(root, veth pair): DCP discovery by name, a device-access AR with an I&M0 read and an I&M1
write read back, then an IO AR (Connect, PrmEnd, ApplicationReady) and cyclic exchange at
32 ms in both directions, and a Release. The capture of the run must dissect without a
malformed frame or an expert error."""

import sys
from pathlib import Path

import pytest
from tests.profinet.conftest import DcpDevice
from tests.profinet.rt_procs import Proc
from tests.profinet.test_rt_netns import HOST, start_capture, tshark

import profinet  # noqa: F401  (declared test dependency: a missing install fails here)
from ccy.testing.netns import charger_network, exec_in

INDEX = 152
PEER = Path(__file__).with_name("rt_peer_profinet_py.py")


@pytest.mark.root
def test_profinet_py_discovers_connects_reads_writes_and_exchanges_cyclic_data(
    tmp_path: Path,
) -> None:
    with charger_network(INDEX) as net:
        cap = start_capture(net.plc_ns, net.plc.interface, tmp_path / "peer.pcapng")
        dcp = DcpDevice(
            net.charger_ns, net.device.interface, tmp_path / "dcp", tmp_path / "dcp.log",
            "--station-name", "ccy-charger", "--ip", "192.0.2.2/24",
        )  # fmt: skip
        dev = Proc(
            exec_in(net.charger_ns, [sys.executable, str(HOST), net.device.interface]),
            tmp_path / "device.log",
        )
        peer = Proc(
            exec_in(net.plc_ns, [sys.executable, str(PEER), net.plc.interface, "ccy-charger"]),
            tmp_path / "peer.log",
        )
        try:
            dcp.start()
            dev.start().expect("ready")
            dev.send("target 321 0 CABLE_CHECK")
            peer.start()
            assert peer.expect("found", 30) == "found ccy-charger 192.0.2.2"
            assert peer.expect("im0", 30) == "im0 fffe CCY-MCS-1"
            assert peer.expect("im1", 30) == "im1 profinet-py netns"
            peer.expect("cyclic started", 30)
            assert peer.expect("input", 30) == "input target_voltage 321.0 good True"
            peer.expect("done", 30)
            assert peer.wait() == 0
            dev.expect("output valid 123.0")  # the peer's present voltage reached us
            dev.expect("state Released")
        finally:
            peer.stop()
            dev.stop()
            dcp.stop()
            cap.terminate()
            cap.wait(timeout=10)
    states = [line.split()[1] for line in dev.seen if line.startswith("state ")]
    assert states[:6] == [
        "Connected",
        "Released",
        "Connected",
        "PrmEnd",
        "DataExchange",
        "Released",
    ]
    assert (
        tshark(tmp_path / "peer.pcapng", "-Y", "_ws.malformed || _ws.expert.severity >= 0x800000")
        == []
    )
    assert tshark(tmp_path / "peer.pcapng", "-Y", "pn_rt.frame_id == 0xc010")  # its output CR
