# SPDX-License-Identifier: Apache-2.0
"""Applying a DCP IP parameter to the interface (ccy.profinet.netif): the ``ip`` commands
planned for each case (pure), and for real on a veth end in a network namespace (root),
read back with ``ip -j addr`` / ``ip -j route``; failures are named errors with the seed's
journal words."""

import ipaddress
import json
import logging

import pytest
from tests.profinet.conftest import in_netns

from ccy.profinet.dcp.codec import IpParameter
from ccy.profinet.netif import (
    GATEWAY_FAILED_LINE,
    NO_GATEWAY_LINE,
    AddressNotApplied,
    GatewayNotApplied,
    InvalidIpParameter,
    NetIf,
    network_script_line,
    parse_addresses,
    plan,
)
from ccy.testing.netns import charger_network, ip

INDEX = 141
LOG = logging.getLogger("ccy-profinet")
IFACE = ipaddress.IPv4Interface


def argvs(cmds: list) -> list[str]:  # type: ignore[type-arg]
    return [" ".join(c.argv) for c in cmds]


def test_plan_new_address_replaces_the_old_one_old_first() -> None:
    new = IpParameter.from_strings("192.0.2.7", "255.255.255.0")
    assert argvs(plan("eth1", new, [IFACE("192.0.2.2/24")], None)) == [
        "ip -4 addr del 192.0.2.2/24 dev eth1",
        "ip -4 addr replace 192.0.2.7/24 dev eth1",
    ]


def test_plan_same_address_changes_nothing_and_gateway_is_replaced() -> None:
    same = IpParameter.from_strings("192.0.2.2", "255.255.255.0")
    assert plan("eth1", same, [IFACE("192.0.2.2/24")], None) == []
    gw = IpParameter.from_strings("192.0.2.2", "255.255.255.0", "192.0.2.1")
    assert argvs(plan("eth1", gw, [IFACE("192.0.2.2/24")], None)) == [
        "ip -4 route replace default via 192.0.2.1 dev eth1"
    ]


def test_plan_gateway_equal_to_own_address_means_none() -> None:
    seed = IpParameter.from_strings("169.254.12.53", "255.255.0.0", "169.254.12.53")
    assert argvs(plan("eth0", seed, [], None)) == ["ip -4 addr replace 169.254.12.53/16 dev eth0"]
    # a gateway we installed before goes when the new parameter has none
    same = IpParameter.from_strings("192.0.2.2", "255.255.255.0", "192.0.2.2")
    gone = plan("eth1", same, [IFACE("192.0.2.2/24")], ipaddress.IPv4Address("192.0.2.1"))
    assert argvs(gone) == ["ip -4 route del default via 192.0.2.1 dev eth1"]


def test_plan_zero_address_removes_every_ipv4_address() -> None:
    cmds = plan("eth1", IpParameter.none(), [IFACE("192.0.2.2/24"), IFACE("10.1.1.1/8")], None)
    assert argvs(cmds) == [
        "ip -4 addr del 192.0.2.2/24 dev eth1",
        "ip -4 addr del 10.1.1.1/8 dev eth1",
    ]


def test_plan_refuses_what_no_interface_can_take() -> None:
    with pytest.raises(InvalidIpParameter, match="contiguous"):
        plan("eth1", IpParameter.from_strings("10.0.0.1", "255.0.255.0"), [], None)


def test_address_list_from_ip_json() -> None:
    out = json.dumps([{"ifname": "x", "addr_info": [
        {"family": "inet", "local": "192.0.2.2", "prefixlen": 24},
        {"family": "inet6", "local": "fe80::1", "prefixlen": 64}]}])  # fmt: skip
    assert parse_addresses(out) == [IFACE("192.0.2.2/24")]
    assert parse_addresses("") == []


def test_network_script_line_uses_the_seed_words() -> None:
    seed = IpParameter.from_strings("169.254.12.53", "255.255.0.0", "169.254.12.53")
    assert network_script_line("eth0", seed, False, "fortescue-dev") == (
        "Network script for eth0:  Set IP 169.254.12.53   Netmask 255.255.0.0   Gateway"
        " 169.254.12.53   Permanent: 0   Hostname: fortescue-dev   Skip setting hostname: true"
    )


def addresses(ns: str, dev: str) -> list[str]:
    links = json.loads(ip("-j", "-4", "addr", "show", "dev", dev, namespace=ns))
    return [f"{a['local']}/{a['prefixlen']}" for link in links for a in link["addr_info"]]


def default_routes(ns: str) -> list[str]:
    return [r.get("gateway", "") for r in json.loads(ip("-j", "-4", "route", "show", "default",
                                                        namespace=ns))]  # fmt: skip


@pytest.mark.root
def test_ip_really_applied_in_a_namespace(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with charger_network(INDEX) as net:
        ns, dev = net.device.namespace, net.device.interface
        netif = NetIf(dev, LOG)

        def apply(address: str, mask: str, gw: str, permanent: bool = True) -> None:
            p = IpParameter.from_strings(address, mask, gw)
            in_netns(ns, lambda: netif.apply_blocking(p, permanent, "ccy-charger"))

        apply("192.0.2.9", "255.255.255.0", "192.0.2.9", permanent=False)
        assert addresses(ns, dev) == ["192.0.2.9/24"] and default_routes(ns) == []
        assert "Permanent: 0" in caplog.text and NO_GATEWAY_LINE in caplog.text

        apply("192.0.2.9", "255.255.255.0", "192.0.2.1")
        assert addresses(ns, dev) == ["192.0.2.9/24"] and default_routes(ns) == ["192.0.2.1"]
        assert netif.installed_gateway == ipaddress.IPv4Address("192.0.2.1")

        apply("192.0.2.9", "255.255.255.0", "0.0.0.0")  # gateway withdrawn
        assert default_routes(ns) == [] and netif.installed_gateway is None

        apply("10.20.30.40", "255.255.0.0", "10.20.0.1")  # another subnet, with a gateway
        assert addresses(ns, dev) == ["10.20.30.40/16"] and default_routes(ns) == ["10.20.0.1"]

        apply("0.0.0.0", "0.0.0.0", "0.0.0.0")
        assert addresses(ns, dev) == [] and default_routes(ns) == []

        ip("link", "set", dev, "down", namespace=ns)  # no on-link route: gateway fails
        caplog.clear()
        with pytest.raises(GatewayNotApplied, match=r"route replace default via 192\.0\.2\.1"):
            apply("192.0.2.9", "255.255.255.0", "192.0.2.1")
        assert GATEWAY_FAILED_LINE in caplog.text

        gone = NetIf("ccy-gone0", LOG)
        with pytest.raises(AddressNotApplied, match="ccy-gone0"):
            in_netns(ns, lambda: gone.apply_blocking(IpParameter.none(), True))
