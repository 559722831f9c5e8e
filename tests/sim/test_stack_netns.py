# SPDX-License-Identifier: Apache-2.0
"""The network-namespace layout (ccy.testing.netns): both links carry traffic, and nothing is
left behind, after a clean run or a failing one."""

import subprocess
import sys

import pytest

from ccy.testing.netns import LOOPBACK, NetLayout, NetnsError, charger_network, exec_in, ip

INDEX = 7  # away from 0, which a developer's manual run may hold

ECHO_SERVER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind(socket.getaddrinfo(sys.argv[1], 15118, family, socket.SOCK_DGRAM)[0][4])
print("ready", flush=True)
data, peer = s.recvfrom(100)
s.sendto(data[::-1], peer)
"""

ECHO_CLIENT = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"ccy-netns", socket.getaddrinfo(sys.argv[1], 15118, family, socket.SOCK_DGRAM)[0][4])
print(s.recv(100).decode())
"""


def round_trip(server_ns: str, server_addr: str, client_ns: str, client_target: str) -> str:
    server = subprocess.Popen(
        exec_in(server_ns, [sys.executable, "-c", ECHO_SERVER, server_addr]),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        client = subprocess.run(
            exec_in(client_ns, [sys.executable, "-c", ECHO_CLIENT, client_target]),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert client.returncode == 0, client.stderr
        return client.stdout.strip()
    finally:
        server.kill()
        server.wait()


def leftovers(layout: NetLayout) -> list[str]:
    names = set(layout.namespaces)
    found = [n.split()[0] for n in ip("netns", "list").splitlines() if n.split()[0] in names]
    links = ip("-o", "link", "show")
    found += [s.interface for a, b in layout.links for s in (a, b) if f" {s.interface}@" in links]
    return found


@pytest.mark.root
def test_vehicle_and_plc_links_carry_udp_and_are_removed() -> None:
    with charger_network(INDEX) as net:
        assert leftovers(net)  # the namespaces exist while in use
        secc, evcc, device, plc = net.secc, net.evcc, net.device, net.plc
        shown = ip("-o", "addr", "show", "dev", secc.interface, namespace=secc.namespace)
        assert "inet6 fe80::1/64 scope link" in shown and " inet " not in shown
        assert (
            round_trip(secc.namespace, secc.scoped(), evcc.namespace, "fe80::1%" + evcc.interface)
            == "snten-ycc"
        )
        assert round_trip(plc.namespace, plc.address, device.namespace, plc.address) == "snten-ycc"
    assert leftovers(NetLayout(INDEX)) == []


@pytest.mark.root
def test_nothing_is_left_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError, match="test failure"), charger_network(INDEX):
        raise RuntimeError("test failure")
    assert leftovers(NetLayout(INDEX)) == []


@pytest.mark.root
def test_an_existing_namespace_is_not_taken_over() -> None:
    layout = NetLayout(INDEX)
    ip("netns", "add", layout.ev_ns)
    try:
        with pytest.raises(NetnsError, match="exists already"), charger_network(INDEX):
            pass
        assert leftovers(layout) == [layout.ev_ns]  # ours untouched, none of the rest made
    finally:
        ip("netns", "del", layout.ev_ns)


def test_loopback_fallback_names_both_sides() -> None:
    assert {s.interface for s in LOOPBACK.values()} == {"lo"}
    assert LOOPBACK["secc"].address == "::1" and LOOPBACK["plc"].address == "127.0.0.1"
