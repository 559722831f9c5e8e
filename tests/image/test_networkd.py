# SPDX-License-Identifier: Apache-2.0
"""systemd-networkd with the image's files (meta-ccy/.../ccy-system/files/50-ccy-*.network), run
for real on veth links.

The charger is a network namespace with three veth links named as on the image (eth0 the PLC
port, eth1 the vehicle port, eth2 the management port); their peers sit in a second namespace,
where a sniffer reports every frame networkd sends (AF_PACKET). The real
/usr/lib/systemd/systemd-networkd of this machine runs inside the charger's namespace in a
private mount namespace: /usr/lib/systemd/network holds what the image holds there (our files
beside a stand-in for OE-core's 80-wired.network), /etc/systemd/network is empty, /run/systemd
is a test folder (networkd's state files, read back by the test) and /sys is read-only, which
tells networkd that no udev runs (links count as initialized, as in a container).

- control: OE-core's 80-wired.network alone runs DHCP on every port (so the checks below see
  DHCP when it happens, and the stand-in matches veth links named eth*);
- with our files: each port takes its own file; the vehicle port gets an IPv6 link-local
  address and nothing else (no IPv4, no DHCP, no router solicitation, no LLDP; a router
  advertisement with a prefix and a default route is ignored there, while the management port
  takes one); the PLC port is up with no address at all and keeps an address and a default
  route added with ``ip`` as ccy-profinet adds them (over time, a carrier loss, networkd
  stopping and starting again, an address set while the link was still down before networkd
  started); with Unmanaged=yes instead it would stay down; the management
  port runs DHCPv4 and router solicitation, takes a lease and hands the lease's NTP server on
  (its state file, what systemd-timesyncd reads);
- a board renames a port with a drop-in, as the files say;
- ccy's preset enables systemd-networkd under OE-core's "disable *".

Not shown here: that KeepConfiguration=static is needed. systemd 252 (this machine) kept the
PLC address without it too, over a restart and when it was set before networkd started;
systemd.network(5) lets networkd drop foreign addresses at start without it (and the image's
systemd is newer), so the file keeps the line.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from json_probe import JsonProbe
from staging import SYSTEM_FILES, preset_all, preset_root

from ccy.testing import netns
from ccy.testing.netns import exec_in, ip

NETWORKD = Path("/usr/lib/systemd/systemd-networkd")
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
INDEX = 117  # away from the indices of the other namespace tests
CHARGER_NS = f"ccy-nwd-chg-{INDEX}"
PEER_NS = f"ccy-nwd-peer-{INDEX}"
PORTS = {"plc": "eth0", "vehicle": "eth1", "mgmt": "eth2"}
"""Port → the charger's interface: the defaults of the files (and of ccy-firewall.nft)."""
PEERS = {"plc": "nwd-plc", "vehicle": "nwd-ev", "mgmt": "nwd-adm", "board": "nwd-board"}
OUR_FILES = {
    "vehicle": "50-ccy-vehicle.network",
    "plc": "50-ccy-plc.network",
    "mgmt": "50-ccy-management.network",
}
NETWORK_DIR = "/usr/lib/systemd/network"

OE_WIRED = """[Match]
Type=ether
Name=!veth*
KernelCommandLine=!nfsroot
KernelCommandLine=!ip

[Network]
DHCP=yes
"""
"""What OE-core's systemd-conf installs as /usr/lib/systemd/network/80-wired.network: DHCP on
every Ethernet link whose name does not start with veth (our veth ends are named eth*)."""

START_TIMEOUT_S = 20.0
QUIET_S = 3.0
"""After networkd has done what it does on a port: how long nothing more may be added."""
PLC_ADDRESS = "192.0.2.2/24"
PLC_GATEWAY = "192.0.2.1"

needs_networkd = pytest.mark.skipif(
    not NETWORKD.exists() or shutil.which("unshare") is None,
    reason=f"{NETWORKD} and unshare are needed (Debian packages systemd, util-linux)",
)

# The sniffer runs in the peers' namespace: one AF_PACKET socket per peer interface, one JSON
# line per frame that arrives (what the charger sent), with a kind from the headers.
SNIFFER = r"""
import json, select, socket, struct, sys
socks = {}
for name in sys.argv[1:]:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
    s.bind((name, 0)); socks[s] = name
def kind(f):
    et = struct.unpack("!H", f[12:14])[0]
    if et == 0x0806: return "arp"
    if et == 0x88CC: return "lldp"
    if et == 0x0800:
        ihl = (f[14] & 15) * 4
        if f[23] == 17:
            dport = struct.unpack("!H", f[14 + ihl + 2:14 + ihl + 4])[0]
            return {67: "dhcp4", 5355: "llmnr", 5353: "mdns"}.get(dport, "ipv4")
        return "ipv4"
    if et == 0x86DD:
        nxt, off = f[20], 54
        if nxt == 0:  # hop-by-hop options (MLD reports carry one)
            nxt, off = f[54], 54 + (f[55] + 1) * 8
        if nxt == 58:
            return {133: "rs", 134: "ra", 135: "ns", 136: "na"}.get(f[off], "icmp6-%d" % f[off])
        if nxt == 17:
            dport = struct.unpack("!H", f[off + 2:off + 4])[0]
            return {547: "dhcp6", 5355: "llmnr", 5353: "mdns"}.get(dport, "ipv6")
        return "ipv6"
    return "ether-%04x" % et
print(json.dumps({"ready": True}), flush=True)
while True:
    ready, _, _ = select.select([sys.stdin, *socks], [], [])
    for s in ready:
        if s is sys.stdin:
            if not sys.stdin.readline():
                sys.exit(0)
            continue
        frame, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        print(json.dumps({"port": socks[s], "kind": kind(frame)}), flush=True)
"""

# A DHCPv4 server for the management link, as small as networkd's client needs: an OFFER for
# each DISCOVER and an ACK for each REQUEST, broadcast, with a lease of ADDRESS (argv) and the
# NTP server option (42) naming the server itself.
DHCP_SERVER = r"""
import json, socket, struct, sys
ifname, server, lease = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
s.bind(("0.0.0.0", 67))
print(json.dumps({"ready": True}), flush=True)
def option(code, data):
    return bytes([code, len(data)]) + data
while True:
    data, _ = s.recvfrom(4096)
    if len(data) < 240 or data[0] != 1 or data[236:240] != b"\x63\x82\x53\x63":
        continue
    opts, i, kind = data[240:], 0, 0
    while i < len(opts) and opts[i] != 255:
        if opts[i] == 0:
            i += 1; continue
        if opts[i] == 53:
            kind = opts[i + 2]
        i += 2 + opts[i + 1]
    reply = {1: 2, 3: 5}.get(kind)
    if reply is None:
        continue
    ip4 = socket.inet_aton
    head = struct.pack("!BBBB", 2, 1, 6, 0) + data[4:8] + bytes(4)
    head += bytes(4) + ip4(lease) + ip4(server) + bytes(4) + data[28:44] + bytes(192)
    body = (b"\x63\x82\x53\x63" + option(53, bytes([reply])) + option(54, ip4(server))
            + option(51, struct.pack("!I", 3600)) + option(1, ip4("255.255.255.0"))
            + option(42, ip4(server)) + b"\xff")
    s.sendto(head + body, ("255.255.255.255", 68))
    print(json.dumps({"sent": reply}), flush=True)
"""
MGMT_SERVER = "198.51.100.1"
MGMT_LEASE = "198.51.100.10"
"""TEST-NET-2 (RFC 5737): the management link exists only inside the namespaces."""

FORBIDDEN_ON_VEHICLE = {"dhcp4", "dhcp6", "rs", "lldp", "llmnr", "mdns", "arp", "ipv4"}
FORBIDDEN_ON_PLC = {"dhcp4", "dhcp6", "rs", "lldp", "llmnr", "mdns"}


class Sniffer(JsonProbe):
    """What the charger sent on each link, as seen by the peers."""

    def __init__(self, interfaces: list[str]) -> None:
        super().__init__(PEER_NS, SNIFFER, interfaces)

    def kinds(self, peer: str) -> set[str]:
        self.take()
        return {e["kind"] for e in self.seen if e["port"] == peer}

    def saw(self, peer: str, kind: str, timeout_s: float) -> bool:
        return self.wait_for(lambda e: e["port"] == peer and e["kind"] == kind, timeout_s)


@dataclass
class Networkd:
    """systemd-networkd in the charger's namespace with ``lib`` as /usr/lib/systemd/network."""

    top: Path
    lib: Path
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.run = self.top / "run-systemd"
        self.etc = self.top / "etc-network"
        self.log = self.top / "networkd.log"
        for folder in (self.top, self.run, self.etc, self.lib):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o755)  # networkd drops to systemd-network after start

    def start(self) -> None:
        # unshare -m: a private copy of the mounts (propagation private), so the binds below
        # are seen by this networkd only and vanish with it.
        script = (
            "set -e; mount -o remount,bind,ro /sys;"
            f' mount --bind "{self.run}" /run/systemd;'
            f' mount --bind "{self.etc}" /etc/systemd/network;'
            f' mount --bind "{self.lib}" {NETWORK_DIR};'
            f" exec {NETWORKD}"
        )
        env = {**os.environ, "SYSTEMD_LOG_LEVEL": "debug", "SYSTEMD_LOG_TARGET": "console"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                exec_in(CHARGER_NS, [UNSHARE, "-m", "sh", "-c", script]),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)  # ip netns exec, unshare and sh exec: one pid
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def state(self, interface: str) -> dict[str, str]:
        """networkd's state file of the link (/run/systemd/netif/links/<ifindex>)."""
        index = json.loads(ip("-j", "link", "show", interface, namespace=CHARGER_NS))[0]["ifindex"]
        path = self.run / "netif" / "links" / str(index)
        if not path.exists():
            return {}
        lines = path.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")

    def wait_state(self, interface: str, admin_states: tuple[str, ...]) -> dict[str, str]:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            state = self.state(interface)
            if state.get("ADMIN_STATE") in admin_states:
                return state
            assert time.monotonic() < deadline, f"{interface}: {state}\n{self.log.read_text()}"
            time.sleep(0.1)


@dataclass(frozen=True)
class Net:
    sniffer: Sniffer


def _link(charger_if: str, peer_if: str) -> None:
    ip(
        "link", "add", charger_if, "netns", CHARGER_NS,
        "type", "veth", "peer", "name", peer_if, "netns", PEER_NS,
    )  # fmt: skip
    ip("link", "set", peer_if, "up", namespace=PEER_NS)


def _remove_namespaces() -> None:
    present = netns.existing_namespaces()
    for name in (CHARGER_NS, PEER_NS):
        if name in present:
            subprocess.run([netns.IP, "netns", "del", name], capture_output=True, check=False)


@pytest.fixture
def net() -> Iterator[Net]:
    """Fresh namespaces for each test (what one networkd configured, the next one sees not)."""
    if not netns.available():
        pytest.skip("network namespaces need root and the ip tool")
    clash = netns.existing_namespaces() & {CHARGER_NS, PEER_NS}
    assert not clash, f"namespace {clash} exists already; remove it (ip netns del NAME)"
    sniffer = None
    try:
        ip("netns", "add", CHARGER_NS)
        ip("netns", "add", PEER_NS)
        for port, name in PORTS.items():
            _link(name, PEERS[port])
        _link("eth3", PEERS["board"])
        ip("addr", "add", f"{PLC_GATEWAY}/24", "dev", PEERS["plc"], namespace=PEER_NS)
        sniffer = Sniffer(list(PEERS.values()))
        yield Net(sniffer)
    finally:
        if sniffer is not None:
            sniffer.stop()
        _remove_namespaces()


@pytest.fixture
def networkd(tmp_path: Path) -> Iterator[Callable[..., Networkd]]:
    started: list[Networkd] = []

    def start(files: dict[str, str], top: str = "networkd") -> Networkd:
        lib = tmp_path / top / "lib"
        for name, text in files.items():
            (lib / name).parent.mkdir(parents=True, exist_ok=True)
            (lib / name).write_text(text)
        daemon = Networkd(tmp_path / top, lib)
        daemon.start()
        started.append(daemon)
        return daemon

    try:
        yield start
    finally:
        for daemon in started:
            daemon.stop()


def ours() -> dict[str, str]:
    return {name: (SYSTEM_FILES / name).read_text() for name in OUR_FILES.values()}


def addresses(interface: str) -> list[dict[str, Any]]:
    info = json.loads(ip("-j", "addr", "show", "dev", interface, namespace=CHARGER_NS))
    found: list[dict[str, Any]] = info[0].get("addr_info", [])
    return found


def link_flags(interface: str) -> list[str]:
    info = json.loads(ip("-j", "link", "show", interface, namespace=CHARGER_NS))
    flags: list[str] = info[0]["flags"]
    return flags


def routes(interface: str, family: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(
        ip("-j", family, "route", "show", "dev", interface, namespace=CHARGER_NS)
    )
    return found


def router_advertisement(peer: str, prefix: str) -> bytes:
    """An Ethernet frame carrying an RA from ``peer`` to ff02::1: default router for 1800 s,
    ``prefix``/64 on-link and autonomous (SLAAC)."""
    info = json.loads(ip("-j", "link", "show", peer, namespace=PEER_NS))[0]
    mac = bytes.fromhex(info["address"].replace(":", ""))
    # fe80::/64 from the MAC (modified EUI-64)
    eui = bytes([mac[0] ^ 2]) + mac[1:3] + b"\xff\xfe" + mac[3:]
    src = b"\xfe\x80" + bytes(6) + eui
    dst = socket.inet_pton(socket.AF_INET6, "ff02::1")
    pio = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0)
    pio += socket.inet_pton(socket.AF_INET6, prefix)
    slla = struct.pack("!BB", 1, 1) + mac
    body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + slla + pio
    pseudo = src + dst + struct.pack("!I3xB", len(body), 58)
    data = pseudo + body
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    body = body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:]
    header = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst
    ether = b"\x33\x33\x00\x00\x00\x01" + mac + b"\x86\xdd"
    return ether + header + body


SEND_RAW = r"""
import socket, sys
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
    s.bind((sys.argv[1], 0)); s.send(bytes.fromhex(sys.argv[2]))
"""


def send_ra(peer: str, prefix: str) -> None:
    frame = router_advertisement(peer, prefix).hex()
    done = subprocess.run(
        exec_in(PEER_NS, [sys.executable, "-c", SEND_RAW, peer, frame]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def wait_until(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def global_v6(interface: str) -> list[str]:
    return [
        a["local"]
        for a in addresses(interface)
        if a["family"] == "inet6" and not a["local"].startswith("fe80:")
    ]


# ---------------------------------------------------------------------------------- tests


def test_staging_installs_the_three_files(staged_root: Path) -> None:
    for name in OUR_FILES.values():
        installed = staged_root / NETWORK_DIR.lstrip("/") / name
        assert installed.read_text() == (SYSTEM_FILES / name).read_text()
    assert sorted(OUR_FILES.values())[-1] < "80-wired.network"  # the first match wins


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl (Debian: systemd)")
def test_preset_enables_networkd_over_oe_cores_default(tmp_path: Path, staged_root: Path) -> None:
    """OE-core's 99-default.preset says "disable *"; ccy's preset enables systemd-networkd
    (the real ``systemctl --root … preset-all`` OE-core runs on the rootfs)."""
    unit = "[Service]\nExecStart=/usr/lib/systemd/systemd-networkd\n[Install]\n"
    unit += "WantedBy=multi-user.target\n"
    wants = "etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
    for with_ccy in (False, True):
        root = preset_root(
            tmp_path / f"root-{with_ccy}",
            staged_root,
            {"systemd-networkd.service": unit},
            with_ccy=with_ccy,
        )
        preset_all(root)
        assert (root / wants).is_symlink() == with_ccy


@needs_networkd
def test_control_oe_wired_alone_runs_dhcp_on_every_port(
    net: Net, networkd: Callable[..., Networkd]
) -> None:
    daemon = networkd({"80-wired.network": OE_WIRED})
    for port, interface in PORTS.items():
        assert daemon.wait_state(interface, ("configuring", "configured"))["NETWORK_FILE"] == (
            f"{NETWORK_DIR}/80-wired.network"
        )
        assert net.sniffer.saw(PEERS[port], "dhcp4", START_TIMEOUT_S), port


@needs_networkd
def test_each_port_takes_its_file_and_does_only_what_it_says(
    net: Net, networkd: Callable[..., Networkd]
) -> None:
    daemon = networkd({**ours(), "80-wired.network": OE_WIRED})
    states = {
        "vehicle": daemon.wait_state(PORTS["vehicle"], ("configured",)),
        "plc": daemon.wait_state(PORTS["plc"], ("configured",)),
        "mgmt": daemon.wait_state(PORTS["mgmt"], ("configuring", "configured")),
    }
    for port, state in states.items():
        assert state["NETWORK_FILE"] == f"{NETWORK_DIR}/{OUR_FILES[port]}", port
    # The management port: DHCPv4 and router solicitation, as OE-core would do.
    assert net.sniffer.saw(PEERS["mgmt"], "dhcp4", START_TIMEOUT_S)
    assert net.sniffer.saw(PEERS["mgmt"], "rs", START_TIMEOUT_S)
    # Give the other ports the same time again to do what they must not.
    time.sleep(QUIET_S)

    vehicle = addresses(PORTS["vehicle"])
    assert [a["family"] for a in vehicle] == ["inet6"], vehicle
    assert vehicle[0]["local"].startswith("fe80:") and vehicle[0]["scope"] == "link"
    assert net.sniffer.kinds(PEERS["vehicle"]) & FORBIDDEN_ON_VEHICLE == set()
    assert (states["vehicle"]["LLMNR"], states["vehicle"]["MDNS"]) == ("no", "no")
    assert states["vehicle"]["REQUIRED_FOR_ONLINE"] == "no"

    assert "UP" in link_flags(PORTS["plc"])
    assert addresses(PORTS["plc"]) == []
    assert net.sniffer.kinds(PEERS["plc"]) & FORBIDDEN_ON_PLC == set()
    assert states["plc"]["REQUIRED_FOR_ONLINE"] == "no"

    # networkd names a file and line for each key or section it does not take
    # ("/usr/lib/systemd/network/50-ccy-vehicle.network:4: Unknown key 'X' in section
    # [Network], ignoring."): none for ours.
    complaints = [
        line for line in daemon.log.read_text().splitlines() if line.startswith(f"{NETWORK_DIR}/")
    ]
    assert complaints == []


@needs_networkd
def test_router_advertisements_count_on_the_management_port_only(
    net: Net, networkd: Callable[..., Networkd]
) -> None:
    daemon = networkd({**ours(), "80-wired.network": OE_WIRED})
    daemon.wait_state(PORTS["vehicle"], ("configured",))
    daemon.wait_state(PORTS["mgmt"], ("configuring", "configured"))
    assert net.sniffer.saw(PEERS["mgmt"], "rs", START_TIMEOUT_S)
    # The vehicle's RA first: once the management port has taken its own, the other was
    # processed too, had networkd listened.
    send_ra(PEERS["vehicle"], "2001:db8:1::")
    send_ra(PEERS["mgmt"], "2001:db8:2::")
    assert wait_until(lambda: bool(global_v6(PORTS["mgmt"])), START_TIMEOUT_S)
    assert global_v6(PORTS["mgmt"])[0].startswith("2001:db8:2:")
    assert any(r["dst"] == "default" for r in routes(PORTS["mgmt"], "-6"))
    time.sleep(1.0)
    assert global_v6(PORTS["vehicle"]) == []
    assert not any(r["dst"] == "default" for r in routes(PORTS["vehicle"], "-6"))


def plc_config() -> tuple[list[str], list[str]]:
    """The PLC port's IPv4 addresses and default routes."""
    addrs = [f"{a['local']}/{a['prefixlen']}" for a in addresses(PORTS["plc"])]
    defaults = [r["gateway"] for r in routes(PORTS["plc"], "-4") if r["dst"] == "default"]
    return addrs, defaults


@needs_networkd
def test_plc_port_keeps_what_ccy_profinet_sets(net: Net, networkd: Callable[..., Networkd]) -> None:
    files = {**ours(), "80-wired.network": OE_WIRED}
    daemon = networkd(files)
    plc_if = PORTS["plc"]
    daemon.wait_state(plc_if, ("configured",))
    # What ccy.profinet.netif runs for a DCP Set with a gateway.
    ip("-4", "addr", "replace", PLC_ADDRESS, "dev", plc_if, namespace=CHARGER_NS)
    ip("-4", "route", "replace", "default", "via", PLC_GATEWAY, "dev", plc_if,
       namespace=CHARGER_NS)  # fmt: skip
    wanted = ([PLC_ADDRESS], [PLC_GATEWAY])
    time.sleep(QUIET_S)
    assert plc_config() == wanted  # while networkd runs: nothing removed, nothing added

    # The peer loses and regains carrier (a cable pulled and plugged back).
    ip("link", "set", PEERS["plc"], "down", namespace=PEER_NS)
    assert wait_until(lambda: "LOWER_UP" not in link_flags(plc_if), START_TIMEOUT_S)
    ip("link", "set", PEERS["plc"], "up", namespace=PEER_NS)
    assert wait_until(lambda: "LOWER_UP" in link_flags(plc_if), START_TIMEOUT_S)
    daemon.wait_state(plc_if, ("configured",))
    time.sleep(QUIET_S)
    assert plc_config() == wanted

    # networkd starts again (a restart, a configuration update).
    daemon.stop()
    assert plc_config() == wanted  # stopping drops nothing either
    restarted = networkd(files, top="networkd-again")
    state = restarted.wait_state(plc_if, ("configured",))
    assert state["NETWORK_FILE"] == f"{NETWORK_DIR}/{OUR_FILES['plc']}"
    time.sleep(QUIET_S)
    assert plc_config() == wanted
    assert "UP" in link_flags(plc_if)
    assert net.sniffer.kinds(PEERS["plc"]) & FORBIDDEN_ON_PLC == set()


@needs_networkd
def test_plc_port_keeps_an_address_set_before_networkd_starts(
    net: Net, networkd: Callable[..., Networkd]
) -> None:
    """At boot ccy-profinet may apply its permanent IP before networkd has configured the link
    (still down then): networkd brings the link up and keeps the address."""
    plc_if = PORTS["plc"]
    ip("-4", "addr", "replace", PLC_ADDRESS, "dev", plc_if, namespace=CHARGER_NS)
    assert "UP" not in link_flags(plc_if)
    daemon = networkd({**ours(), "80-wired.network": OE_WIRED})
    daemon.wait_state(plc_if, ("configured",))
    time.sleep(QUIET_S)
    assert "UP" in link_flags(plc_if)
    assert plc_config() == ([PLC_ADDRESS], [])


@needs_networkd
def test_unmanaged_would_leave_the_plc_port_down(
    net: Net, networkd: Callable[..., Networkd]
) -> None:
    """Why the PLC file is managed: ccy-profinet never brings the link up (ccy.profinet.netif
    only runs ``ip addr`` and ``ip route``), and with Unmanaged=yes networkd does not either."""
    unmanaged = "[Match]\nName=eth0\n\n[Link]\nUnmanaged=yes\n"
    daemon = networkd({**ours(), OUR_FILES["plc"]: unmanaged, "80-wired.network": OE_WIRED})
    daemon.wait_state(PORTS["vehicle"], ("configured",))
    assert daemon.wait_state(PORTS["plc"], ("unmanaged",))["ADMIN_STATE"] == "unmanaged"
    time.sleep(QUIET_S)
    assert "UP" not in link_flags(PORTS["plc"])
    assert "UP" in link_flags(PORTS["vehicle"])


@needs_networkd
def test_a_board_renames_a_port_with_a_drop_in(net: Net, networkd: Callable[..., Networkd]) -> None:
    drop_in = "[Match]\nName=\nName=eth3\n"
    daemon = networkd(
        {
            **ours(),
            "80-wired.network": OE_WIRED,
            f"{OUR_FILES['vehicle']}.d/50-board.conf": drop_in,
        }
    )
    moved = daemon.wait_state("eth3", ("configured",))
    assert moved["NETWORK_FILE"] == f"{NETWORK_DIR}/{OUR_FILES['vehicle']}"
    # Without the drop-in eth3 would take 80-wired.network, and eth1 would stay the vehicle's.
    left = daemon.wait_state(PORTS["vehicle"], ("configuring", "configured"))
    assert left["NETWORK_FILE"] == f"{NETWORK_DIR}/80-wired.network"


@needs_networkd
def test_management_port_takes_a_dhcp_lease_and_its_ntp_server(
    net: Net, networkd: Callable[..., Networkd]
) -> None:
    ip("addr", "add", f"{MGMT_SERVER}/24", "dev", PEERS["mgmt"], namespace=PEER_NS)
    server = subprocess.Popen(
        exec_in(PEER_NS, [sys.executable, "-c", DHCP_SERVER, PEERS["mgmt"], MGMT_SERVER,
                          MGMT_LEASE]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert json.loads(server.stdout.readline()) == {"ready": True}, server.stderr
        daemon = networkd({**ours(), "80-wired.network": OE_WIRED})
        daemon.wait_state(PORTS["mgmt"], ("configured",))
        mgmt = [f"{a['local']}/{a['prefixlen']}" for a in addresses(PORTS["mgmt"])]
        assert f"{MGMT_LEASE}/24" in mgmt
        # What systemd-timesyncd reads (sd_network_link_get_ntp): the link's NTP= line.
        assert wait_until(
            lambda: daemon.state(PORTS["mgmt"]).get("NTP") == MGMT_SERVER, START_TIMEOUT_S
        ), daemon.state(PORTS["mgmt"])
        assert daemon.state(PORTS["vehicle"])["NTP"] == ""
        assert daemon.state(PORTS["plc"])["NTP"] == ""
    finally:
        server.kill()
        server.wait()
