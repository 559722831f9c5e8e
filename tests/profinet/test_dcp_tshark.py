# SPDX-License-Identifier: Apache-2.0
"""tshark dissects a capture of our DCP and LLDP traffic (root, network namespaces):
Identify (all, by name, by alias after the PLC's LLDP), Get, Set of name and IP, Signal,
reset, Hello and our periodic LLDP, captured with dumpcap on the PLC's veth end. The test
fails on any frame tshark calls malformed and on any expert-info error, and checks the
decoded fields (service, NameOfStation, VendorID/DeviceID, LLDP chassis and port)."""

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.profinet.conftest import DcpDevice, run_in
from tests.profinet.test_dcp_peer import PNIO_DCP

from ccy.profinet.dcp.identity import IDENTITY
from ccy.testing.netns import NetLayout, charger_network, exec_in

INDEX = 144

PLC_SIDE = r"""
import socket, struct, sys, time
iface, dev_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88CC))
s.bind((iface, 0x88CC))
own = s.getsockname()[4][:6]
def tlv(k, v): return struct.pack("!H", k << 9 | len(v)) + v
lldp = (tlv(1, b"\x07plc-1") + tlv(2, b"\x07port-001") + tlv(3, b"\x00\x14")
        + tlv(127, b"\x00\x0e\xcf\x05" + own) + tlv(0, b""))
s.send(bytes.fromhex("0180c200000e") + own + b"\x88\xcc" + lldp)
time.sleep(0.3)
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8892))
p.bind((iface, 0x8892))
def identify(xid, block):
    pdu = struct.pack("!HBBIHH", 0xFEFE, 5, 0, xid, 1, len(block)) + block
    frame = bytes.fromhex("010ecf000000") + own + b"\x88\x92" + pdu
    p.send(frame + bytes(max(0, 60 - len(frame))))
alias = b"port-001.plc-1"
identify(0x77, struct.pack("!BBH", 2, 6, len(alias)) + alias)
name = sys.argv[3].encode()
identify(0x78, struct.pack("!BBH", 2, 2, len(name)) + name + b"\0" * (len(name) & 1))
p.settimeout(2)
got = set()
end = time.monotonic() + 3
while time.monotonic() < end and len(got) < 2:
    try:
        raw = p.recv(2048)
    except TimeoutError:
        break
    if raw[6:12] == dev_mac and raw[14:16] == b"\xfe\xff":
        got.add(struct.unpack_from("!I", raw, 18)[0])
print(sorted(got))
"""


def tshark(*args: str) -> str:
    done = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def field_rows(cap: Path, display_filter: str, *fields: str) -> list[list[str]]:
    args = ["-r", str(cap), "-Y", display_filter, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    return [line.split("\t") for line in tshark(*args).splitlines() if line]


def start_capture(net: NetLayout, cap: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        exec_in(net.plc.namespace, ["dumpcap", "-q", "-i", net.plc.interface, "-w", str(cap)]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not (cap.exists() and cap.stat().st_size > 0):
        assert proc.poll() is None and time.monotonic() < deadline, "dumpcap did not start"
        time.sleep(0.05)
    time.sleep(0.2)
    return proc


def stop_capture(proc: subprocess.Popen[str], cap: Path) -> None:
    """SIGINT, as at a terminal: dumpcap writes what it has and closes the file. First wait
    until the file stops growing: on a loaded machine dumpcap may not have taken the last
    frames from the kernel yet, and SIGINT would lose them."""
    deadline, size, since = time.monotonic() + 5, -1, time.monotonic()
    while time.monotonic() < deadline:
        now_size = cap.stat().st_size
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since >= 0.5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.mark.root
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_finds_nothing_malformed_in_our_dcp_and_lldp(tmp_path: Path) -> None:
    cap = tmp_path / "dcp.pcapng"
    with charger_network(INDEX) as net:
        capture = start_capture(net, cap)
        dev = DcpDevice(
            net.device.namespace, net.device.interface, tmp_path / "state",
            tmp_path / "device.log", "--station-name", "ccy-charger", "--ip", "192.0.2.2/24",
            "--hello",
        ).start()  # fmt: skip
        try:
            mac = dev.mac
            answered = run_in(net.plc.namespace, PLC_SIDE, net.plc.interface, mac, "ccy-charger")
            assert json.loads(answered) == [0x77, 0x78]  # alias (from LLDP) and name filters
            out = json.loads(run_in(
                net.plc.namespace, PNIO_DCP, net.plc.address, mac, "all", "get-name", "get-ip",
                "name-perm=line-7-charger", "ip-temp=192.0.2.20,255.255.255.0,192.0.2.20",
                "blink", "reset-communication",
            ).splitlines()[-1])  # fmt: skip
            assert [out[k] for k in ("name-perm=line-7-charger", "blink",
                                     "reset-communication")] == [0, 0, 0]  # fmt: skip
            dev.expect("reset")
        finally:
            dev.stop()
            stop_capture(capture, cap)

    verbose = tshark("-r", str(cap), "-V")
    assert "Malformed" not in verbose
    assert "[Expert Info (Error" not in verbose
    assert tshark("-r", str(cap), "-Y", "_ws.malformed || _ws.expert.severity == error") == ""

    services = field_rows(cap, "pn_dcp && eth.src == " + mac, "pn_dcp.service_id",
                          "pn_dcp.service_type")  # fmt: skip
    seen = {(int(s), int(t)) for s, t in services}
    assert {(5, 1), (3, 1), (4, 1), (6, 0)} <= seen  # Identify/Get/Set responses, Hello
    names = field_rows(cap, "pn_dcp.service_id == 5 && pn_dcp.service_type == 1",
                       "pn_dcp.suboption_device_nameofstation", "pn_dcp.suboption_vendor_id",
                       "pn_dcp.suboption_device_id")  # fmt: skip
    assert ["ccy-charger", f"0x{IDENTITY.vendor_id:04x}", f"0x{IDENTITY.device_id:04x}"] in names
    lldp = field_rows(cap, f"lldp && eth.src == {mac}", "lldp.chassis.subtype", "lldp.chassis.id",
                      "lldp.port.id", "lldp.time_to_live")  # fmt: skip
    assert ["7", b"ccy-charger".hex(), "port-001.ccy-charger", "20"] in lldp
