# SPDX-License-Identifier: Apache-2.0
"""DCP against peers nobody here wrote, in network namespaces (root):

- ``pnio-dcp`` (PyPI, MIT) in the PLC namespace identifies our responder, sets its name and
  IP temporarily and permanently, reads them back, blinks it and resets it to factory; the
  IP really appears on (and leaves) the interface (``ip -j addr``); after a restart the
  temporary values are gone and the permanent ones are back.
- ``scapy``'s pnio/pnio_dcp layers send malformed DCP frames (lengths, options, odd and
  IPv4-looking names); each is refused as the standard says and the responder answers the
  next good Identify.

Our device is ``python -m ccy.profinet.dcp`` (the same core, store, driver and IP handling
as ccy-profinet) inside the charger namespace.
"""

import json
import time
from pathlib import Path

import pytest
from tests.profinet.conftest import DcpDevice, run_in

from ccy.testing.netns import NetLayout, charger_network, ip

INDEX = 143

PNIO_DCP = """
import json, sys
from pnio_dcp import DCP
dcp = DCP(sys.argv[1])
dcp.default_timeout = 2  # > our largest Identify delay for its factor 128 (1.27 s)
out = {}
def dev(d):
    return {"mac": d.MAC, "name": d.name_of_station, "ip": d.IP, "netmask": d.netmask,
            "gateway": d.gateway, "family": d.family}
mac = sys.argv[2]
for step in sys.argv[3:]:
    kind, _, arg = step.partition("=")
    if kind == "all":
        out["found"] = [dev(d) for d in dcp.identify_all(timeout=1.5)]
    elif kind == "identify":
        out[step] = dev(dcp.identify(mac))
    elif kind in ("name-temp", "name-perm"):
        out[step] = int(dcp.set_name_of_station(mac, arg, store_permanent=kind == "name-perm")
                        .code)
    elif kind in ("ip-temp", "ip-perm"):
        out[step] = int(dcp.set_ip_address(mac, arg.split(","), store_permanent=kind == "ip-perm")
                        .code)
    elif kind == "get-name":
        out[step] = dcp.get_name_of_station(mac)
    elif kind == "get-ip":
        out[step] = dcp.get_ip_address(mac)
    elif kind == "blink":
        out[step] = int(dcp.blink(mac).code)
    elif kind == "reset-communication":
        out[step] = int(dcp.reset_to_factory(mac).code)
print(json.dumps(out))
"""


def pnio_dcp(net: NetLayout, mac: str, *steps: str) -> dict[str, object]:
    out = run_in(net.plc.namespace, PNIO_DCP, net.plc.address, mac, *steps)
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def addresses(net: NetLayout) -> list[str]:
    d = net.device
    links = json.loads(ip("-j", "-4", "addr", "show", "dev", d.interface, namespace=d.namespace))
    return [f"{a['local']}/{a['prefixlen']}" for link in links for a in link["addr_info"]]


def default_gateways(net: NetLayout) -> list[str]:
    routes = json.loads(ip("-j", "-4", "route", "show", "default", namespace=net.device.namespace))
    return [r["gateway"] for r in routes]


def wait_for_addresses(net: NetLayout, expected: list[str], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while addresses(net) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"interface has {addresses(net)}, expected {expected}")
        time.sleep(0.05)


def device(net: NetLayout, tmp_path: Path) -> DcpDevice:
    return DcpDevice(
        net.device.namespace, net.device.interface, tmp_path / "state", tmp_path / "device.log",
        "--station-name", "ccy-charger", "--ip", "192.0.2.2/24", "--apply-ip", "--no-lldp",
    )  # fmt: skip


@pytest.mark.root
def test_pnio_dcp_names_addresses_blinks_and_resets_our_device(tmp_path: Path) -> None:
    with charger_network(INDEX) as net:
        dev = device(net, tmp_path).start()
        try:
            mac = dev.mac
            # identify, then temporary name and IP
            out = pnio_dcp(net, mac, "all", "name-temp=line-7-charger",
                           "ip-temp=192.0.2.20,255.255.255.0,192.0.2.20",
                           "get-name", "get-ip", "identify")  # fmt: skip
            assert out["found"] == [{"mac": mac, "name": "ccy-charger", "ip": "192.0.2.2",
                                     "netmask": "255.255.255.0", "gateway": "0.0.0.0",
                                     "family": "CCY"}]  # fmt: skip
            assert out["name-temp=line-7-charger"] == 0 and out["get-name"] == "line-7-charger"
            assert out["ip-temp=192.0.2.20,255.255.255.0,192.0.2.20"] == 0
            assert out["get-ip"] == "192.0.2.20"
            assert dev.expect("name") == "name line-7-charger 0"
            assert dev.expect("ip") == "ip 192.0.2.20 255.255.255.0 192.0.2.20 0"
            wait_for_addresses(net, ["192.0.2.20/24"])
            assert default_gateways(net) == []  # gateway = own address means none
            assert "No valid default gateway given" in dev.log()

            # a restart forgets temporary values: the configured ones are back
            assert dev.stop() == 0
            dev.start()
            wait_for_addresses(net, ["192.0.2.2/24"])
            out = pnio_dcp(net, mac, "identify")
            assert out["identify"] == {"mac": mac, "name": "ccy-charger", "ip": "192.0.2.2",
                                       "netmask": "255.255.255.0", "gateway": "0.0.0.0",
                                       "family": "CCY"}  # fmt: skip

            # permanent values survive a restart, gateway applied
            out = pnio_dcp(net, mac, "name-perm=line-7-charger",
                           "ip-perm=192.0.2.30,255.255.255.0,192.0.2.1", "blink")  # fmt: skip
            assert out["name-perm=line-7-charger"] == 0 and out["blink"] == 0
            assert out["ip-perm=192.0.2.30,255.255.255.0,192.0.2.1"] == 0
            assert dev.expect("signal") == "signal"
            wait_for_addresses(net, ["192.0.2.30/24"])
            assert default_gateways(net) == ["192.0.2.1"]
            assert dev.stop() == 0
            ip("addr", "flush", "dev", net.device.interface, namespace=net.device.namespace)
            dev.start()
            wait_for_addresses(net, ["192.0.2.30/24"])
            out = pnio_dcp(net, mac, "get-name", "get-ip")
            assert (out["get-name"], out["get-ip"]) == ("line-7-charger", "192.0.2.30")
            assert default_gateways(net) == ["192.0.2.1"]

            # reset to factory (communication): no name, no IP, kept over a restart
            out = pnio_dcp(net, mac, "reset-communication")
            assert out["reset-communication"] == 0
            assert dev.expect("reset") == "reset communication"
            wait_for_addresses(net, [])
            dev.stop()
            dev.start()
            out = pnio_dcp(net, mac, "all")
            assert out["found"] == [{"mac": mac, "name": "", "ip": "0.0.0.0",
                                     "netmask": "0.0.0.0", "gateway": "0.0.0.0",
                                     "family": "CCY"}]  # fmt: skip
            assert addresses(net) == []
            assert dev.alive()
        finally:
            dev.stop()


SCAPY = r"""
import json, socket, sys, time
from scapy.layers.l2 import Ether
from scapy.contrib.pnio import ProfinetIO
from scapy.contrib.pnio_dcp import ProfinetDCP

iface, dev_mac = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8892))
s.bind((iface, 0x8892))
own = s.getsockname()[4].hex(":")
s.settimeout(0.3)
IDENT = "01:0e:cf:00:00:00"

def send(pkt):
    s.send(bytes(pkt))

def answers(xid, wait=0.4):
    got, end = [], time.monotonic() + wait
    while time.monotonic() < end:
        try:
            raw = s.recv(2048)
        except TimeoutError:
            continue
        p = Ether(raw)
        if p.src == dev_mac and p.haslayer(ProfinetDCP) and p[ProfinetDCP].xid == xid:
            got.append(raw[14:].hex())
    return got

def dcp(dst, frame_id, xid, **kw):
    return Ether(dst=dst, src=own, type=0x8892) / ProfinetIO(frameID=frame_id) / ProfinetDCP(
        xid=xid, **kw)

out = {}
# 1 Identify whose DCPDataLength claims more than the frame holds
send(dcp(IDENT, 0xFEFE, 1, service_id=5, service_type=0, option=255, sub_option=255,
         dcp_data_length=400))
out["data-length-too-big"] = answers(1)
# 2 Identify by name whose block length runs past the data
send(dcp(IDENT, 0xFEFE, 2, service_id=5, service_type=0, option=2, sub_option=2,
         dcp_block_length=60, name_of_station=b"ccy-charger", dcp_data_length=15))
out["block-length-overrun"] = answers(2)
# 3 Set of an IPv4-looking name, an upper-case name, a port-name, an odd-length good one
for xid, name in ((3, b"192.168.0.10"), (4, b"BadName"), (5, b"port-001"), (6, b"odd")):
    send(dcp(dev_mac, 0xFEFD, xid, service_id=4, service_type=0, option=2, sub_option=2,
             block_qualifier=0, name_of_station=name, dcp_block_length=2 + len(name),
             dcp_data_length=4 + 2 + len(name) + (len(name) & 1)))
    out[f"set-name-{name.decode()}"] = answers(xid)
# 4 Set IP with a block 4 bytes short
send(dcp(dev_mac, 0xFEFD, 7, service_id=4, service_type=0, option=1, sub_option=2,
         block_qualifier=0, ip="10.0.0.1", netmask="255.0.0.0", gateway="0.0.0.0",
         dcp_block_length=10, dcp_data_length=14))  # the gateway falls outside: padding
out["set-ip-short-block"] = answers(7)
# 5 Get of an unknown option (0x80/1) and of the NameOfStation
send(Ether(dst=dev_mac, src=own, type=0x8892) / ProfinetIO(frameID=0xFEFD)
     / bytes.fromhex("0300000000080000000480010202"))
out["get-unknown-option"] = answers(8)
# 6 a frame cut inside the DCP header, an Identify with an unknown service id
send(Ether(dst=IDENT, src=own, type=0x8892) / ProfinetIO(frameID=0xFEFE) / b"\x05\x00\x00")
send(dcp(IDENT, 0xFEFE, 9, service_id=9, service_type=0, option=255, sub_option=255))
out["cut-and-unknown-service"] = answers(9)
# 7 and the next good Identify All is answered
send(dcp(IDENT, 0xFEFE, 10, service_id=5, service_type=0, option=255, sub_option=255,
         dcp_data_length=4))
out["good-identify"] = answers(10)
print(json.dumps(out))
"""


def set_result(payload_hex: str) -> tuple[int, int, int]:
    """(option, suboption, BlockError) of the one Control/Response block of a Set reply."""
    p = bytes.fromhex(payload_hex)
    assert p[:4] == b"\xfe\xfd\x04\x01"
    block = p[12:]
    assert block[:4] == b"\x05\x04\x00\x03"
    return block[4], block[5], block[6]


@pytest.mark.root
def test_scapy_malformed_frames_are_refused_and_the_device_stays_up(tmp_path: Path) -> None:
    with charger_network(INDEX) as net:
        dev = device(net, tmp_path).start()
        try:
            out = json.loads(
                run_in(net.plc.namespace, SCAPY, net.plc.interface, dev.mac).splitlines()[-1]
            )
            assert out["data-length-too-big"] == []
            assert out["block-length-overrun"] == []
            assert out["cut-and-unknown-service"] == []
            for name in ("192.168.0.10", "BadName", "port-001"):
                (reply,) = out[f"set-name-{name}"]
                assert set_result(reply) == (2, 2, 3)  # BlockError 3: not set
            (reply,) = out["set-name-odd"]
            assert set_result(reply) == (2, 2, 0)
            assert dev.expect("name") == "name odd 0"
            (reply,) = out["set-ip-short-block"]
            assert set_result(reply) == (1, 2, 3)
            (reply,) = out["get-unknown-option"]
            assert bytes.fromhex(reply)[12:19] == b"\x05\x04\x00\x03\x80\x01\x01"
            (reply,) = out["good-identify"]
            good = bytes.fromhex(reply)
            assert good[:4] == b"\xfe\xff\x05\x01" and b"odd" in good
            assert dev.alive()
            log = dev.log()
            assert "DcpDataLengthError" in log and "DcpBlockLengthError" in log
            assert "InvalidStationName" in log and "looks like an IPv4 address" in log
        finally:
            dev.stop()


TWO_CONTROLLERS = r"""
import json, socket, struct, sys, time
iface, dev = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8892))
s.bind((iface, 0x8892))
a = s.getsockname()[4][:6]
b = bytes.fromhex("0200000000bb")  # a second controller on the same wire
# promiscuous, so the answers to b's MAC reach this socket too
s.setsockopt(263, 1, struct.pack("iHH8s", socket.if_nametoindex(iface), 1, 0, b""))
s.settimeout(0.2)

def set_name(src, xid, name):
    value = b"\x00\x00" + name
    block = struct.pack("!BBH", 2, 2, len(value)) + value + b"\x00" * (len(value) & 1)
    pdu = struct.pack("!HBBIHH", 0xFEFD, 4, 0, xid, 0, len(block)) + block
    frame = dev + src + b"\x88\x92" + pdu
    s.send(frame + bytes(max(0, 60 - len(frame))))
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        try:
            raw = s.recv(2048)
        except TimeoutError:
            continue
        if raw[:6] == src and raw[6:12] == dev and struct.unpack_from("!I", raw, 18)[0] == xid:
            return raw[32]  # BlockError of the Control/Response block
    return None

out = {"a": set_name(a, 1, b"from-a")}
out["b-locked"] = set_name(b, 2, b"from-b")  # waits 1 s for an answer that does not come
t0 = time.monotonic()
out["a-again"] = set_name(a, 3, b"from-a-again")  # the holder may go on, and restarts the lock
time.sleep(max(0.0, 3.3 - (time.monotonic() - t0)))
out["b-after-3s"] = set_name(b, 4, b"from-b")
print(json.dumps(out))
"""


@pytest.mark.root
def test_a_set_locks_out_a_second_controller_for_three_seconds(tmp_path: Path) -> None:
    with charger_network(INDEX) as net:
        dev = device(net, tmp_path).start()
        try:
            out = json.loads(run_in(net.plc.namespace, TWO_CONTROLLERS, net.plc.interface,
                                    dev.mac).splitlines()[-1])  # fmt: skip
            assert out == {"a": 0, "b-locked": None, "a-again": 0, "b-after-3s": 0}
            assert [dev.expect("name") for _ in range(3)] == [
                "name from-a 0", "name from-a-again 0", "name from-b 0"
            ]  # fmt: skip
            assert "Locked" in dev.log()
        finally:
            dev.stop()
