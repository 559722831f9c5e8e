# SPDX-License-Identifier: Apache-2.0
"""The image's nftables ruleset (meta-ccy/.../ccy-firewall.nft), proven with real packets.

The charger lives in a network namespace with three veth links (ccy.testing.netns plus a
management link): the vehicle side (IPv6 link-local), the PLC side (IPv4, raw Ethernet) and
a management side. A probe in the charger's namespace listens on every port and ethertype a
test sends to; the peers send from their own namespaces. First, without the firewall, every
probe gets through (so a blocked probe below is blocked by the ruleset, not by the probe).
Then the real file is loaded with nft, the interface names overridden to the veths by a
board override file (``redefine`` in ``ccy/firewall.d/*.nft``, exactly as a board does), and:

- vehicle → SDP (UDP 15118 to ff02::1) and V2GTP (TCP, both ports) pass; another TCP port,
  SSH, ping and a raw ARP frame do not; neighbour discovery works (and went through its rule);
- PLC → Profinet frames (0x8892, plain and 802.1Q-tagged) and LLDP reach an AF_PACKET socket,
  PN-RPC (UDP 34964) arrives; another UDP port, another ethertype and SSH do not;
- management → SSH passes;
- NTP (what systemd-timesyncd asks for transaction timestamps): a server behind the
  management port answers the charger; servers behind the vehicle and PLC ports get the
  request and answer too, but their replies are dropped (and counted by the rule that does).

A blocked UDP datagram or frame is sent before an allowed one on the same link; once the
allowed one has arrived, the blocked one would have too. ``nft -c`` checks the file with its
own defaults in a private namespace, as any user (user namespaces).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from json_probe import JsonProbe

from ccy.testing import netns
from ccy.testing.netns import NetLayout, Side, exec_in, ip

TOP = Path(__file__).resolve().parents[2]
RULESET = TOP / "meta-ccy" / "recipes-ccy" / "ccy-system" / "files" / "ccy-firewall.nft"
INDEX = 115  # issue 15; away from the indices of the other namespace tests
NFT = shutil.which("nft") or "/usr/sbin/nft"

SDP_PORT = 15118
V2GTP_PORTS = (61118, 61119)
OTHER_TCP_PORT = 8849  # the seed's controller service: not on the vehicle port
PN_RPC_PORT = 34964
OTHER_UDP_PORT = 22439  # the seed's EVLock UDP socket: not on the PLC port
SSH_PORT = 22
NTP_PORT = 123
ETH_P_PROFINET = 0x8892
ETH_P_LLDP = 0x88CC
ETH_P_OTHER = 0x88B5  # IEEE 802 local experimental ethertype
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
BLOCKED_WAIT_S = 0.5
"""After the allowed probe arrived: how long a blocked one is still given to show up."""
CONNECT_TIMEOUT_S = 1.0
NTP_TIMEOUT_S = 3.0
"""How long the charger waits for an NTP reply: over a link just brought up, the first
neighbour solicitation can go unanswered and is repeated after 1 s (RetransTimer), with the
request queued meanwhile."""

needs_nft = pytest.mark.skipif(
    not Path(NFT).exists(), reason="nft is needed (Debian package nftables, see .ci/setup)"
)

# The probe runs in a namespace (`ip netns exec NS python -c PROBE MODE JSON`). serve: listen
# on TCP/UDP ports and AF_PACKET ethertypes, print one JSON line per arrival, exit at EOF of
# stdin. tcp: connect once. udp: send datagrams in order. raw: send Ethernet frames in order.
PROBE = r"""
import json, os, select, socket, struct, sys, time
mode, arg = sys.argv[1], json.loads(sys.argv[2])
def out(**kw):
    print(json.dumps(kw), flush=True)
def addr(host, port, kind):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, socket.getaddrinfo(host, port, family, kind)[0][4]
if mode == "serve":
    socks = {}
    for host, port in arg["tcp"]:
        family, sa = addr(host, port, socket.SOCK_STREAM)
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(sa); s.listen(8); socks[s] = ("tcp", port)
    for host, port in arg["udp"]:
        family, sa = addr(host, port, socket.SOCK_DGRAM)
        s = socket.socket(family, socket.SOCK_DGRAM); s.bind(sa); socks[s] = ("udp", port)
    for ifname, ethertype in arg["raw"]:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
        s.bind((ifname, ethertype)); socks[s] = ("raw", ethertype)
    out(ready=True)
    while True:
        ready, _, _ = select.select([sys.stdin, *socks], [], [])
        for s in ready:
            if s is sys.stdin:
                if not sys.stdin.readline():
                    sys.exit(0)
                continue
            kind, key = socks[s]
            if kind == "tcp":
                conn, peer = s.accept(); conn.close(); out(tcp=key, peer=peer[0])
            elif kind == "udp":
                data, peer = s.recvfrom(2048); out(udp=key, data=data.hex(), peer=peer[0])
            else:
                data, info = s.recvfrom(2048); out(raw=key, ifname=info[0], data=data.hex())
elif mode == "tcp":
    family, sa = addr(arg["host"], arg["port"], socket.SOCK_STREAM)
    s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(arg["timeout"])
    try:
        s.connect(sa); out(result="connected")
    except TimeoutError:
        out(result="timeout")
    except OSError as exc:
        out(result=type(exc).__name__)
elif mode == "udp":
    for host, port, data in arg["send"]:
        family, sa = addr(host, port, socket.SOCK_DGRAM)
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.sendto(bytes.fromhex(data), sa)
    out(result="sent")
elif mode == "ping6":
    family, sa = addr(arg["host"], 0, socket.SOCK_DGRAM)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.settimeout(arg["timeout"])
    s.sendto(b"\x80\x00\x00\x00\x0c\xc7\x00\x01ccy-ping", sa)
    try:
        while True:
            data, peer = s.recvfrom(2048)
            if data[:1] == b"\x81" and data.endswith(b"ccy-ping"):
                out(result="answered"); break
    except TimeoutError:
        out(result="timeout")
elif mode == "ntp-serve":
    family, sa = addr(arg["host"], arg["port"], socket.SOCK_DGRAM)
    s = socket.socket(family, socket.SOCK_DGRAM); s.bind(sa)
    out(ready=True)
    while True:
        ready, _, _ = select.select([sys.stdin, s], [], [])
        if sys.stdin in ready:
            if not sys.stdin.readline():
                sys.exit(0)
            continue
        data, peer = s.recvfrom(2048)
        if len(data) < 48 or data[0] & 7 != 3:  # NTPv4 client request (mode 3) only
            continue
        now = time.time() + 2208988800  # NTP era 0 starts 1900
        stamp = struct.pack("!II", int(now), int((now % 1) * 2**32))
        # LI 0, VN 4, mode 4 (server), stratum 1, the client's poll, precision 2^-20;
        # root delay/dispersion 0, reference id LOCL; originate = the client's transmit.
        reply = bytes([0x24, 1, data[2], 0xEC]) + bytes(8) + b"LOCL" + stamp
        s.sendto(reply + data[40:48] + stamp + stamp, peer); out(ntp=peer[0])
elif mode == "ntp-ask":
    family, sa = addr(arg["host"], arg["port"], socket.SOCK_DGRAM)
    s = socket.socket(family, socket.SOCK_DGRAM); s.settimeout(arg["timeout"])
    stamp = os.urandom(8)
    s.sendto(bytes([0x23]) + bytes(39) + stamp, sa)  # LI 0, VN 4, mode 3; transmit stamp
    try:
        while True:
            data, peer = s.recvfrom(2048)
            if len(data) >= 48 and data[0] & 7 == 4 and data[24:32] == stamp:
                out(result="answered"); break
    except TimeoutError:
        out(result="timeout")
elif mode == "raw":
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((arg["ifname"], 0))
        for frame in arg["frames"]:
            s.send(bytes.fromhex(frame))
    out(result="sent")
"""


@dataclass(frozen=True)
class Net:
    layout: NetLayout
    mgmt: Side
    """The charger's end of the management link."""
    admin: Side
    """The administrator's end."""

    @property
    def vehicle(self) -> Side:
        return self.layout.secc

    @property
    def ev(self) -> Side:
        return self.layout.evcc

    @property
    def plc_port(self) -> Side:
        return self.layout.device

    @property
    def plc(self) -> Side:
        return self.layout.plc

    @property
    def charger_ns(self) -> str:
        return self.layout.charger_ns


def run_probe(namespace: str, mode: str, arg: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        exec_in(namespace, [sys.executable, "-c", PROBE, mode, json.dumps(arg)]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def run_probes(jobs: dict[str, tuple[str, str, dict[str, Any]]]) -> dict[str, str]:
    """name → (namespace, probe mode, its argument): run all at once; name → the last
    line's ``result`` (connected/timeout/…)."""
    procs = {
        name: subprocess.Popen(
            exec_in(ns, [sys.executable, "-c", PROBE, mode, json.dumps(arg)]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (ns, mode, arg) in jobs.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        results[name] = json.loads(out.splitlines()[-1])["result"]
    return results


def connect_all(probes: dict[str, tuple[str, str, int]]) -> dict[str, str]:
    """name → (namespace, host, port): connect all at once; name → connected/timeout/…"""
    return run_probes(
        {
            name: (ns, "tcp", {"host": host, "port": port, "timeout": CONNECT_TIMEOUT_S})
            for name, (ns, host, port) in probes.items()
        }
    )


class Listener(JsonProbe):
    """A probe listening in a namespace (``serve`` or ``ntp-serve``), and what it reported."""

    def __init__(self, namespace: str, mode: str, arg: dict[str, Any]) -> None:
        super().__init__(namespace, PROBE, [mode, json.dumps(arg)])


class Charger(Listener):
    """The probe listening in the charger's namespace, and what has arrived so far."""

    def __init__(self, net: Net) -> None:
        arg = {
            "tcp": [["::", port] for port in (*V2GTP_PORTS, OTHER_TCP_PORT, SSH_PORT)],
            "udp": [
                ["::", SDP_PORT],
                ["0.0.0.0", PN_RPC_PORT],
                ["0.0.0.0", OTHER_UDP_PORT],
            ],
            "raw": [
                [net.plc_port.interface, ETH_P_PROFINET],
                [net.plc_port.interface, ETH_P_LLDP],
                [net.plc_port.interface, ETH_P_OTHER],
                [net.vehicle.interface, ETH_P_ARP],
                [net.vehicle.interface, ETH_P_IPV6],
            ],
        }
        super().__init__(net.charger_ns, "serve", arg)


def _add_mgmt_link(net: Net) -> None:
    ip("netns", "add", net.admin.namespace)
    ip(
        "link", "add", net.mgmt.interface, "netns", net.mgmt.namespace,
        "type", "veth", "peer", "name", net.admin.interface, "netns", net.admin.namespace,
    )  # fmt: skip
    for side in (net.mgmt, net.admin):
        ip("link", "set", "lo", "up", namespace=side.namespace)
        ip("addr", "add", f"{side.address}/{side.prefix}", "dev", side.interface,
           namespace=side.namespace)  # fmt: skip
        ip("link", "set", side.interface, "up", namespace=side.namespace)


@pytest.fixture(scope="module")
def net() -> Iterator[Net]:
    if not netns.available():
        pytest.skip("network namespaces need root and the ip tool")
    layout = NetLayout(INDEX)
    net = Net(
        layout,
        mgmt=Side(layout.charger_ns, f"ccy-mg{INDEX}", "198.51.100.2", 24),
        admin=Side(f"ccy-adm-{INDEX}", f"ccy-adm{INDEX}", "198.51.100.1", 24),
    )
    netns.create(layout)
    try:
        _add_mgmt_link(net)
        yield net
    finally:
        netns.remove(layout)
        subprocess.run([netns.IP, "netns", "del", net.admin.namespace], capture_output=True)


@pytest.fixture(scope="module")
def charger(net: Net) -> Iterator[Charger]:
    probe = Charger(net)
    try:
        yield probe
    finally:
        probe.stop()


NtpServers = dict[str, tuple[Listener, str]]
"""Port name → (the NTP server behind it, its address as the charger asks it)."""


@pytest.fixture(scope="module")
def ntp_servers(net: Net) -> Iterator[NtpServers]:
    """An NTP server behind each port of the charger: management, vehicle and PLC side."""
    specs = {
        "management": (net.admin.namespace, "0.0.0.0", net.admin.address),
        "vehicle": (net.ev.namespace, "::", f"{net.ev.address}%{net.vehicle.interface}"),
        "PLC": (net.plc.namespace, "0.0.0.0", net.plc.address),
    }
    started: NtpServers = {}
    try:
        for name, (namespace, bind, asked) in specs.items():
            arg = {"host": bind, "port": NTP_PORT}
            started[name] = (Listener(namespace, "ntp-serve", arg), asked)
        yield started
    finally:
        for listener, _ in started.values():
            listener.stop()


def ask_ntp_all(net: Net, servers: NtpServers) -> dict[str, str]:
    """The charger asks every server at once (an NTPv4 client request from an ephemeral
    port, as systemd-timesyncd sends it); port name → answered/timeout."""
    arg = {"port": NTP_PORT, "timeout": NTP_TIMEOUT_S}
    return run_probes(
        {
            name: (net.charger_ns, "ntp-ask", {"host": host, **arg})
            for name, (_, host) in servers.items()
        }
    )


def mac(side: Side) -> bytes:
    info = json.loads(ip("-j", "link", "show", side.interface, namespace=side.namespace))
    return bytes.fromhex(info[0]["address"].replace(":", ""))


def frame(dst: bytes, src: bytes, ethertype: int, payload: bytes, vlan_tci: int = -1) -> str:
    tag = b"" if vlan_tci < 0 else (0x8100).to_bytes(2, "big") + vlan_tci.to_bytes(2, "big")
    body = payload.ljust(46, b"\0")
    return (dst + src + tag + ethertype.to_bytes(2, "big") + body).hex()


def send_udp(ns: str, *datagrams: tuple[str, int, bytes]) -> None:
    send = [[host, port, data.hex()] for host, port, data in datagrams]
    assert run_probe(ns, "udp", {"send": send}) == {"result": "sent"}


def send_raw(side: Side, *frames: str) -> None:
    sent = run_probe(side.namespace, "raw", {"ifname": side.interface, "frames": list(frames)})
    assert sent == {"result": "sent"}


def udp_arrived(port: int, data: bytes) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("udp") == port and e.get("data") == data.hex()


def raw_arrived(ethertype: int, marker: bytes) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("raw") == ethertype and marker.hex() in e.get("data", "")


def blocked_probes(net: Net) -> dict[str, tuple[str, str, int]]:
    """The TCP connections the firewall must drop."""
    ev, plc = net.ev.namespace, net.plc.namespace
    charger = f"{net.vehicle.address}%{net.ev.interface}"  # as the EV addresses it
    return {
        "vehicle → TCP 8849": (ev, charger, OTHER_TCP_PORT),
        "vehicle → SSH": (ev, charger, SSH_PORT),
        "PLC → SSH": (plc, net.plc_port.address, SSH_PORT),
    }


def ping6(net: Net) -> str:
    """An ICMPv6 echo request from the EV to the charger: answered or timeout."""
    host = f"{net.vehicle.address}%{net.ev.interface}"
    arg = {"host": host, "timeout": CONNECT_TIMEOUT_S}
    return str(run_probe(net.ev.namespace, "ping6", arg)["result"])


def load_firewall(net: Net, overrides: Path) -> subprocess.CompletedProcess[str]:
    board = overrides / "ccy" / "firewall.d"
    board.mkdir(parents=True, exist_ok=True)
    (board / "test-veths.nft").write_text(
        f'redefine vehicle_if = "{net.vehicle.interface}"\n'
        f'redefine plc_if = "{net.plc_port.interface}"\n'
        f'redefine mgmt_if = "{net.mgmt.interface}"\n'
    )
    cmd = [NFT, "-I", str(overrides), "-f", str(RULESET)]
    return subprocess.run(
        exec_in(net.charger_ns, cmd), capture_output=True, text=True, timeout=30, check=False
    )


# ------------------------------------------------------------------------ without firewall


@pytest.mark.root
@needs_nft
def test_without_the_firewall_every_probe_gets_through(net: Net, charger: Charger) -> None:
    """The control: what the firewall must block reaches the charger when it is not loaded."""
    listed = subprocess.run(
        exec_in(net.charger_ns, [NFT, "list", "ruleset"]), capture_output=True, text=True
    )
    assert listed.returncode == 0 and listed.stdout.strip() == "", listed
    results = connect_all(blocked_probes(net))
    assert set(results.values()) == {"connected"}, results
    assert ping6(net) == "answered"
    charger.forget()
    send_udp(net.plc.namespace, (net.plc_port.address, OTHER_UDP_PORT, b"evlock?"))
    assert charger.wait_for(udp_arrived(OTHER_UDP_PORT, b"evlock?"), 10)
    dst, src = mac(net.plc_port), mac(net.plc)
    send_raw(net.plc, frame(dst, src, ETH_P_OTHER, b"other-ethertype"))
    assert charger.wait_for(raw_arrived(ETH_P_OTHER, b"other-ethertype"), 10)
    send_raw(net.ev, frame(mac(net.vehicle), mac(net.ev), ETH_P_ARP, b"arp-on-vehicle"))
    assert charger.wait_for(raw_arrived(ETH_P_ARP, b"arp-on-vehicle"), 10)


@pytest.mark.root
@needs_nft
def test_without_the_firewall_ntp_works_on_every_port(net: Net, ntp_servers: NtpServers) -> None:
    """The control for NTP: each port's server answers the charger when nothing filters."""
    listed = subprocess.run(
        exec_in(net.charger_ns, [NFT, "list", "ruleset"]), capture_output=True, text=True
    )
    assert listed.returncode == 0 and listed.stdout.strip() == "", listed
    assert ask_ntp_all(net, ntp_servers) == dict.fromkeys(ntp_servers, "answered")


# --------------------------------------------------------------------------- with firewall


@pytest.fixture(scope="module")
def firewall(net: Net, charger: Charger) -> Iterator[Net]:
    with tempfile.TemporaryDirectory(prefix="ccy-firewall-") as tmp:
        loaded = load_firewall(net, Path(tmp))
        assert loaded.returncode == 0, loaded.stderr
        # Loading twice is how a reload works: one transaction, the same ruleset.
        again = load_firewall(net, Path(tmp))
        assert again.returncode == 0, again.stderr
        yield net


def ruleset(net: Net) -> str:
    done = subprocess.run(
        exec_in(net.charger_ns, [NFT, "list", "ruleset"]), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.root
@needs_nft
def test_the_board_override_names_the_ports(firewall: Net) -> None:
    text = ruleset(firewall)
    assert f'device "{firewall.vehicle.interface}"' in text
    assert f'device "{firewall.plc_port.interface}"' in text
    assert f'iifname "{firewall.mgmt.interface}" jump mgmt' in text
    for default in ('"eth0"', '"eth1"', '"eth2"'):
        assert default not in text
    assert text.count("table ") == 3  # loaded twice, still one of each


@pytest.mark.root
@needs_nft
def test_vehicle_port_carries_sdp_v2gtp_and_neighbour_discovery(
    firewall: Net, charger: Charger
) -> None:
    net = firewall
    ev = net.ev.namespace
    ip("-6", "neigh", "flush", "dev", net.ev.interface, namespace=ev)
    ip("-6", "neigh", "flush", "dev", net.vehicle.interface, namespace=net.charger_ns)
    charger.forget()
    # SDP: the EV's request goes to all nodes (ff02::1) on the link.
    send_udp(ev, (f"ff02::1%{net.ev.interface}", SDP_PORT, b"\x01\xfe\x90\x00sdp"))
    assert charger.wait_for(udp_arrived(SDP_PORT, b"\x01\xfe\x90\x00sdp"), 10)
    host = f"{net.vehicle.address}%{net.ev.interface}"
    results = connect_all({f"TCP {port}": (ev, host, port) for port in V2GTP_PORTS})
    assert results == {f"TCP {port}": "connected" for port in V2GTP_PORTS}
    # The connections needed neighbour discovery both ways, through its rule.
    neigh = ip("-j", "-6", "neigh", "show", "dev", net.ev.interface, namespace=ev)
    entries = {n["dst"]: n for n in json.loads(neigh)}
    assert entries["fe80::1"]["lladdr"] == mac(net.vehicle).hex(":"), entries
    assert entries["fe80::1"]["state"][0] in {"REACHABLE", "STALE", "DELAY", "PROBE"}, entries
    nd_rule = next(line for line in ruleset(net).splitlines() if "nd-neighbor-solicit" in line)
    assert int(nd_rule.split("counter packets ")[1].split()[0]) > 0, nd_rule


@pytest.mark.root
@needs_nft
def test_vehicle_port_drops_everything_else(firewall: Net, charger: Charger) -> None:
    net = firewall
    results = connect_all(blocked_probes(net))
    assert results["vehicle → TCP 8849"] == "timeout", results
    assert results["vehicle → SSH"] == "timeout", results
    assert ping6(net) == "timeout"  # an echo request is not neighbour discovery
    # No ARP (nor anything but IPv6) gets in at Layer 2: the ARP frame goes first, then IPv6.
    charger.forget()
    dst, src = mac(net.vehicle), mac(net.ev)
    send_raw(
        net.ev,
        frame(dst, src, ETH_P_ARP, b"arp-on-vehicle"),
        frame(dst, src, ETH_P_IPV6, b"ipv6-marker"),
    )
    assert charger.wait_for(raw_arrived(ETH_P_IPV6, b"ipv6-marker"), 10)
    assert not charger.wait_for(raw_arrived(ETH_P_ARP, b"arp-on-vehicle"), BLOCKED_WAIT_S)


@pytest.mark.root
@needs_nft
def test_plc_port_carries_profinet_lldp_and_pn_rpc(firewall: Net, charger: Charger) -> None:
    net = firewall
    dst, src = mac(net.plc_port), mac(net.plc)
    dcp_multicast = bytes.fromhex("010ecf000000")
    lldp_multicast = bytes.fromhex("0180c200000e")
    charger.forget()
    send_raw(
        net.plc,
        frame(dcp_multicast, src, ETH_P_PROFINET, b"\xfe\xfe\x05\x00dcp-identify"),
        frame(dst, src, ETH_P_PROFINET, b"\xc0\x00cyclic-tagged", vlan_tci=6 << 13),
        frame(lldp_multicast, src, ETH_P_LLDP, b"\x02\x07lldp"),
    )
    assert charger.wait_for(raw_arrived(ETH_P_PROFINET, b"dcp-identify"), 10)
    assert charger.wait_for(raw_arrived(ETH_P_PROFINET, b"cyclic-tagged"), 10)
    assert charger.wait_for(raw_arrived(ETH_P_LLDP, b"lldp"), 10)
    send_udp(net.plc.namespace, (net.plc_port.address, PN_RPC_PORT, b"pn-rpc-connect"))
    assert charger.wait_for(udp_arrived(PN_RPC_PORT, b"pn-rpc-connect"), 10)


@pytest.mark.root
@needs_nft
def test_plc_port_drops_everything_else(firewall: Net, charger: Charger) -> None:
    net = firewall
    charger.forget()
    send_udp(
        net.plc.namespace,
        (net.plc_port.address, OTHER_UDP_PORT, b"evlock?"),
        (net.plc_port.address, PN_RPC_PORT, b"rpc-marker"),
    )
    assert charger.wait_for(udp_arrived(PN_RPC_PORT, b"rpc-marker"), 10)
    assert not charger.wait_for(udp_arrived(OTHER_UDP_PORT, b"evlock?"), BLOCKED_WAIT_S)
    dst, src = mac(net.plc_port), mac(net.plc)
    send_raw(
        net.plc,
        frame(dst, src, ETH_P_OTHER, b"other-ethertype"),
        frame(dst, src, ETH_P_OTHER, b"other-tagged", vlan_tci=0),
        frame(dst, src, ETH_P_PROFINET, b"profinet-marker"),
    )
    assert charger.wait_for(raw_arrived(ETH_P_PROFINET, b"profinet-marker"), 10)
    assert not charger.wait_for(raw_arrived(ETH_P_OTHER, b"other-"), BLOCKED_WAIT_S)
    assert connect_all({"PLC → SSH": blocked_probes(net)["PLC → SSH"]}) == {"PLC → SSH": "timeout"}


@pytest.mark.root
@needs_nft
def test_ssh_only_from_the_management_port(firewall: Net) -> None:
    net = firewall
    results = connect_all(
        {
            "management → SSH": (net.admin.namespace, net.mgmt.address, SSH_PORT),
            "management → TCP 8849": (net.admin.namespace, net.mgmt.address, OTHER_TCP_PORT),
            **blocked_probes(net),
        }
    )
    assert results == {
        "management → SSH": "connected",
        "management → TCP 8849": "timeout",
        "vehicle → TCP 8849": "timeout",
        "vehicle → SSH": "timeout",
        "PLC → SSH": "timeout",
    }


@pytest.mark.root
@needs_nft
def test_time_comes_through_the_management_port_only(
    firewall: Net, ntp_servers: NtpServers
) -> None:
    net = firewall
    for listener, _ in ntp_servers.values():
        listener.forget()
    assert ask_ntp_all(net, ntp_servers) == {
        "management": "answered",
        "vehicle": "timeout",
        "PLC": "timeout",
    }
    # The requests left by the vehicle and PLC ports and were answered (the charger does
    # not filter what it sends): it is the replies that the NTP rule dropped.
    for name in ("vehicle", "PLC"):
        assert ntp_servers[name][0].wait_for(lambda e: "ntp" in e, 10), name
    rule = next(line for line in ruleset(net).splitlines() if "ct direction reply" in line)
    assert int(rule.split("counter packets ")[1].split()[0]) >= 2, rule


# ------------------------------------------------------------------------------ nft -c


def nft_check(*extra: str, board_override: str = "") -> subprocess.CompletedProcess[str]:
    """``nft -c -f RULESET`` in a private network namespace holding eth0..eth2 (veths):
    as root with ``unshare -n``, otherwise in a user namespace (``unshare -rn``)."""
    with tempfile.TemporaryDirectory(prefix="ccy-nft-check-") as tmp:
        if board_override:
            (Path(tmp) / "ccy" / "firewall.d").mkdir(parents=True)
            (Path(tmp) / "ccy" / "firewall.d" / "board.nft").write_text(board_override)
        script = (
            "ip link add eth0 type veth peer name eth0p && "
            "ip link add eth1 type veth peer name eth1p && "
            "ip link add eth2 type veth peer name eth2p && "
            f'exec "{NFT}" -c -I "{tmp}" {" ".join(extra)} -f "{RULESET}"'
        )
        unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
        return subprocess.run(
            [*unshare, "sh", "-c", script], capture_output=True, text=True, timeout=30, check=False
        )


def _userns_works() -> bool:
    if os.geteuid() == 0:
        return shutil.which("unshare") is not None
    done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    return done.returncode == 0


needs_private_netns = pytest.mark.skipif(
    shutil.which("unshare") is None or not _userns_works(),
    reason="a private network namespace is needed (root, or unprivileged user namespaces)",
)


@needs_nft
@needs_private_netns
def test_nft_check_accepts_the_ruleset_with_its_defaults() -> None:
    done = nft_check()
    assert (done.returncode, done.stderr) == (0, "")


@needs_nft
@needs_private_netns
def test_nft_check_takes_a_board_override_and_names_a_bad_one() -> None:
    good = nft_check(board_override='redefine vehicle_if = "eth2"\nredefine mgmt_if = "eth1"\n')
    assert (good.returncode, good.stderr) == (0, "")
    bad = nft_check(board_override="redefine v2g_tcp_ports = { 61118, 70000 }\n")
    assert bad.returncode != 0
    assert "70000" in bad.stderr and "board.nft" in bad.stderr, bad.stderr


# ------------------------------------------------------------------------------ the unit


def test_the_unit_loads_the_installed_ruleset_before_the_network() -> None:
    """ccy-firewall.service loads the file the recipe installs, before network-pre.target,
    and has no ExecStop (stopping the unit must not open the ports)."""
    unit: dict[str, list[str]] = {}
    for raw in (RULESET.parent / "ccy-firewall.service").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            unit.setdefault(key, []).append(value)
    load = f"/usr/sbin/nft -f /usr/lib/ccy/{RULESET.name}"
    assert unit["ExecStart"] == [load] and unit["ExecReload"] == [load]
    assert "ExecStop" not in unit
    assert "network-pre.target" in unit["Before"][0].split()
    assert unit["Wants"] == ["network-pre.target"] and unit["DefaultDependencies"] == ["no"]
    assert 'include "ccy/firewall.d/*.nft"' in RULESET.read_text()
