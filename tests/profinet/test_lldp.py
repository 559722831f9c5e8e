# SPDX-License-Identifier: Apache-2.0
"""LLDP (ccy.profinet.lldp): the LLDPDU this device sends, reading a neighbour's (named
errors for malformed ones), the alias it gives DCP, and a real exchange on a veth pair."""

import asyncio
import ipaddress
import logging
import struct

import pytest
from tests.profinet.conftest import in_netns

from ccy.profinet.ethernet import ETH_P_LLDP, LLDP_MULTICAST, RawSocket, build_frame
from ccy.profinet.lldp import (
    LldpAgent,
    LldpBadTlv,
    LldpMissingTlv,
    LldpPeer,
    LldpTruncated,
    build_lldpdu,
    parse_lldpdu,
    parse_tlvs,
)
from ccy.testing.netns import charger_network

INDEX = 142
MAC = bytes.fromhex("020000001234")
PLC = bytes.fromhex("0200000000aa")
LOG = logging.getLogger("test")


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", kind << 9 | len(value)) + value


def plc_lldpdu(port: bytes = b"\x07port-001", chassis: bytes = b"\x07plc-1") -> bytes:
    """A neighbour's LLDPDU, written out TLV by TLV."""
    mgmt = b"\x05\x01\xc0\x00\x02\x01\x02\x00\x00\x00\x01\x00"  # 192.0.2.1, ifIndex 1
    return (tlv(1, chassis) + tlv(2, port) + tlv(3, b"\x00\x14")
            + tlv(127, b"\x00\x0e\xcf\x05" + PLC) + tlv(5, b"S7-1500")
            + tlv(8, mgmt) + tlv(0, b""))  # fmt: skip


def test_our_lldpdu_has_the_profinet_tlvs_in_order() -> None:
    data = build_lldpdu(MAC, "ccy-charger", ipaddress.IPv4Address("192.0.2.2"), ifindex=3)
    tlvs = parse_tlvs(data)
    assert [k for k, _ in tlvs] == [1, 2, 3, 127, 127, 127, 8]
    assert tlvs[0][1] == b"\x07ccy-charger"
    assert tlvs[1][1] == b"\x07port-001.ccy-charger"
    assert tlvs[2][1] == b"\x00\x14"  # TTL 20 s
    assert tlvs[3][1] == b"\x00\x0e\xcf\x02\x00\x00\x00\x00"  # PNIO PortStatus
    assert tlvs[4][1] == b"\x00\x0e\xcf\x05" + MAC  # PNIO ChassisMAC
    assert tlvs[5][1][:4] == b"\x00\x12\x0f\x01"  # IEEE 802.3 MAC/PHY
    assert tlvs[6][1] == b"\x05\x01\xc0\x00\x02\x02\x02\x00\x00\x00\x03\x00"
    assert data.endswith(b"\x00\x00")  # End


def test_unnamed_device_sends_its_mac_and_no_ip() -> None:
    tlvs = dict(parse_tlvs(build_lldpdu(MAC, "", None)))
    assert tlvs[1] == b"\x0702:00:00:00:12:34" and tlvs[2] == b"\x07port-001"
    assert tlvs[8][:8] == b"\x07\x06" + MAC  # management address: the MAC (all-802)


def test_reading_a_neighbour_and_its_alias() -> None:
    peer = parse_lldpdu(plc_lldpdu(), PLC)
    assert (peer.chassis_id, peer.port_id, peer.ttl_s) == ("plc-1", "port-001", 20)
    assert peer.chassis_mac == PLC and peer.system_name == "S7-1500"
    assert peer.management_ipv4 == ipaddress.IPv4Address("192.0.2.1")
    assert peer.alias == "port-001.plc-1"
    old_style = parse_lldpdu(plc_lldpdu(port=b"\x07port-003.switch-a"), PLC)
    assert old_style.alias == "port-003.switch-a"
    mac_chassis = parse_lldpdu(plc_lldpdu(chassis=b"\x04" + PLC), PLC)
    assert mac_chassis.chassis_id == "02:00:00:00:00:aa"


def test_our_own_lldpdu_reads_back() -> None:
    peer = parse_lldpdu(build_lldpdu(MAC, "ccy-charger", None), MAC)
    assert peer == LldpPeer("ccy-charger", 7, "port-001.ccy-charger", 7, 20, MAC, MAC)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x02", LldpTruncated),
        (tlv(1, b"\x07plc")[:-1], LldpTruncated),
        (tlv(2, b"\x07p") + tlv(1, b"\x07c") + tlv(3, b"\x00\x14") + tlv(0, b""), LldpMissingTlv),
        (tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(0, b""), LldpMissingTlv),
        (tlv(1, b"\x07") + tlv(2, b"\x07p") + tlv(3, b"\x00\x14"), LldpBadTlv),
        (tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(3, b"\x14"), LldpBadTlv),
        (tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(3, b"\x00\x14") + tlv(3, b"\x00\x14"),
         LldpBadTlv),
        (tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(3, b"\x00\x14") + tlv(127, b"\x00\x0e"),
         LldpBadTlv),
        (tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(3, b"\x00\x14")
         + tlv(127, b"\x00\x0e\xcf\x05\x01"), LldpBadTlv),
        (tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(3, b"\x00\x14") + tlv(8, b"\x30\x01"),
         LldpBadTlv),
    ],
)  # fmt: skip
def test_malformed_lldpdus_are_named(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_lldpdu(data, PLC)


@pytest.mark.root
def test_agent_sends_periodically_and_learns_the_neighbour() -> None:
    with charger_network(INDEX) as net:
        dev_sock = in_netns(
            net.device.namespace,
            lambda: RawSocket(net.device.interface, ETH_P_LLDP, multicast=(LLDP_MULTICAST,)),
        )
        plc_sock = in_netns(
            net.plc.namespace,
            lambda: RawSocket(net.plc.interface, ETH_P_LLDP, multicast=(LLDP_MULTICAST,)),
        )
        peers: list[LldpPeer | None] = []

        async def run() -> tuple[int, LldpAgent]:
            agent = LldpAgent(dev_sock, lambda: "ccy-charger",
                              lambda: ipaddress.IPv4Address("192.0.2.2"), LOG,
                              on_peer=peers.append, interval_s=0.05)  # fmt: skip
            agent.start()
            plc_sock.send(build_frame(LLDP_MULTICAST, plc_sock.mac, ETH_P_LLDP, b"\x02"))
            plc_sock.send(build_frame(LLDP_MULTICAST, plc_sock.mac, ETH_P_LLDP, plc_lldpdu()))
            plc_sock.send(build_frame(LLDP_MULTICAST, plc_sock.mac, ETH_P_LLDP, plc_lldpdu()))
            plc_sock.settimeout(0.2)
            seen = 0
            for _ in range(100):
                await asyncio.sleep(0.02)
                while (f := plc_sock.recv()) is not None and seen < 3:
                    assert f.dst == LLDP_MULTICAST and f.src == dev_sock.mac
                    assert parse_lldpdu(f.payload, f.src).port_id == "port-001.ccy-charger"
                    seen += 1
                if seen >= 3 and peers:
                    break
            agent.stop()
            return seen, agent

        with dev_sock, plc_sock:
            seen, agent = asyncio.run(run())
        assert seen >= 3  # sent again and again
        assert [p.alias if p else None for p in peers] == ["port-001.plc-1"]  # told once
        assert agent.malformed == 1
