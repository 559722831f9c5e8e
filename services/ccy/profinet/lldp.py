# SPDX-License-Identifier: Apache-2.0
"""LLDP (IEEE 802.1AB) as a Profinet device sends and reads it (profinet.md "LLDP").

Transmit, every 5 s (and at once on start and on :meth:`LldpAgent.send_now`, e.g. after a
DCP Set of the name), to 01:80:C2:00:00:0E with TTL 20 s:

| TLV                    | value                                                         |
|------------------------|---------------------------------------------------------------|
| Chassis ID (1)         | subtype 7 "locally assigned": NameOfStation (MAC text if none) |
| Port ID (2)            | subtype 7: ``port-001.<station>`` (``port-001`` if unnamed)    |
| TTL (3)                | 20                                                            |
| PNIO PortStatus        | org 00:0E:CF subtype 2: RTClass2 and RTClass3 port status 0    |
| PNIO ChassisMAC        | org 00:0E:CF subtype 5: the interface's MAC                   |
| IEEE 802.3 MAC/PHY     | org 00:12:0F subtype 1: auto-negotiation, 100BASE-TX FD       |
| Management Address (8) | the IPv4 address (the MAC, subtype all-802, while none is set) |
| End (0)                |                                                               |

Receive: :func:`parse_lldpdu` reads a neighbour's frame into :class:`LldpPeer` (named
:class:`LldpError` subclasses for anything malformed); the peer's ``alias`` is the
AliasNameValue that DCP matches an Identify alias filter against: the peer's Port ID, with
``.<peer chassis ID>`` appended when the Port ID has no dot (IEC 61158-6-10).
"""

import asyncio
import contextlib
import ipaddress
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from ccy.profinet.ethernet import (
    ETH_P_LLDP,
    LLDP_MULTICAST,
    EthernetFrame,
    RawSocket,
    build_frame,
    mac_to_str,
)

TX_INTERVAL_S = 5.0
TTL_S = 20
PORT_NAME = "port-001"

TLV_END = 0
TLV_CHASSIS_ID = 1
TLV_PORT_ID = 2
TLV_TTL = 3
TLV_PORT_DESCRIPTION = 4
TLV_SYSTEM_NAME = 5
TLV_MANAGEMENT_ADDRESS = 8
TLV_ORG = 127
CHASSIS_SUBTYPE_MAC = 4
CHASSIS_SUBTYPE_LOCAL = 7
PORT_SUBTYPE_MAC = 3
PORT_SUBTYPE_LOCAL = 7
OUI_PROFINET = bytes.fromhex("000ecf")
OUI_IEEE_8023 = bytes.fromhex("00120f")
PNIO_PORT_STATUS = 2
PNIO_CHASSIS_MAC = 5
IEEE_8023_MAC_PHY = 1
MAC_PHY_AUTONEG = 0x03
"""Auto-negotiation supported (bit 0) and enabled (bit 1)."""
MAC_PHY_ADVERTISED = 0x6C00
"""10BASE-T half/full, 100BASE-TX half/full (RFC 3636 bit order, MSB first)."""
MAU_100BASE_TX_FD = 0x0010
MGMT_SUBTYPE_IPV4 = 1
MGMT_SUBTYPE_802 = 6
IF_NUMBERING_IFINDEX = 2


class LldpError(ValueError):
    """An LLDPDU that cannot be read as IEEE 802.1AB says."""


class LldpTruncated(LldpError):
    """A TLV header or value runs past the end of the frame."""


class LldpMissingTlv(LldpError):
    """Chassis ID, Port ID and TTL are not the first three TLVs, in that order."""


class LldpBadTlv(LldpError):
    """A TLV of the wrong length or content (TTL not 2 bytes, empty ID, …)."""


@dataclass(frozen=True)
class LldpPeer:
    chassis_id: str
    chassis_subtype: int
    port_id: str
    port_subtype: int
    ttl_s: int
    source_mac: bytes
    chassis_mac: bytes | None = None
    management_ipv4: ipaddress.IPv4Address | None = None
    system_name: str | None = None
    port_description: str | None = None

    @property
    def alias(self) -> str:
        """AliasNameValue the neighbour gives this device (what Identify alias filters use)."""
        if "." in self.port_id:
            return self.port_id
        return f"{self.port_id}.{self.chassis_id}"


def _tlv(kind: int, value: bytes) -> bytes:
    if len(value) > 511:
        raise LldpBadTlv(f"TLV {kind} value of {len(value)} bytes exceeds 511")
    return struct.pack("!H", (kind << 9) | len(value)) + value


def _id_text(value: bytes) -> str:
    return value.decode("ascii", errors="replace")


def port_id(station_name: str) -> str:
    return f"{PORT_NAME}.{station_name}" if station_name else PORT_NAME


def build_lldpdu(
    mac: bytes,
    station_name: str,
    ipv4: ipaddress.IPv4Address | None,
    ifindex: int = 1,
    ttl_s: int = TTL_S,
) -> bytes:
    """The LLDPDU (TLVs from Chassis ID to End) this device sends."""
    chassis = station_name.encode() if station_name else mac_to_str(mac).encode()
    if ipv4 is not None and int(ipv4) != 0:
        mgmt_addr = bytes((MGMT_SUBTYPE_IPV4,)) + ipv4.packed
    else:
        mgmt_addr = bytes((MGMT_SUBTYPE_802,)) + mac
    mgmt = (
        bytes((len(mgmt_addr),)) + mgmt_addr + struct.pack("!BIB", IF_NUMBERING_IFINDEX, ifindex, 0)
    )
    return (
        _tlv(TLV_CHASSIS_ID, bytes((CHASSIS_SUBTYPE_LOCAL,)) + chassis)
        + _tlv(TLV_PORT_ID, bytes((PORT_SUBTYPE_LOCAL,)) + port_id(station_name).encode())
        + _tlv(TLV_TTL, struct.pack("!H", ttl_s))
        + _tlv(TLV_ORG, OUI_PROFINET + bytes((PNIO_PORT_STATUS,)) + struct.pack("!HH", 0, 0))
        + _tlv(TLV_ORG, OUI_PROFINET + bytes((PNIO_CHASSIS_MAC,)) + mac)
        + _tlv(
            TLV_ORG,
            OUI_IEEE_8023
            + bytes((IEEE_8023_MAC_PHY, MAC_PHY_AUTONEG))
            + struct.pack("!HH", MAC_PHY_ADVERTISED, MAU_100BASE_TX_FD),
        )
        + _tlv(TLV_MANAGEMENT_ADDRESS, mgmt)
        + _tlv(TLV_END, b"")
    )


def build_frame_lldp(
    mac: bytes, station_name: str, ipv4: ipaddress.IPv4Address | None, ifindex: int = 1
) -> bytes:
    return build_frame(
        LLDP_MULTICAST, mac, ETH_P_LLDP, build_lldpdu(mac, station_name, ipv4, ifindex)
    )


def parse_tlvs(data: bytes) -> list[tuple[int, bytes]]:
    """(type, value) pairs up to and without End; LldpTruncated when cut off."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while True:
        if len(data) - pos < 2:
            if pos == len(data) and out:
                return out  # no End TLV: accepted (some senders omit it)
            raise LldpTruncated(f"TLV header cut off at offset {pos}")
        (header,) = struct.unpack_from("!H", data, pos)
        kind, length = header >> 9, header & 0x1FF
        pos += 2
        if length > len(data) - pos:
            raise LldpTruncated(f"TLV {kind} says {length} bytes, {len(data) - pos} remain")
        if kind == TLV_END:
            return out
        out.append((kind, data[pos : pos + length]))
        pos += length


def parse_lldpdu(data: bytes, source_mac: bytes) -> LldpPeer:
    """A neighbour's LLDPDU (the Ethernet payload) → LldpPeer; LldpError if malformed."""
    tlvs = parse_tlvs(data)
    if len(tlvs) < 3 or [k for k, _ in tlvs[:3]] != [TLV_CHASSIS_ID, TLV_PORT_ID, TLV_TTL]:
        raise LldpMissingTlv("the first TLVs must be Chassis ID, Port ID and TTL")
    (_, chassis), (_, port), (_, ttl) = tlvs[:3]
    if len(chassis) < 2 or len(chassis) > 256:
        raise LldpBadTlv(f"Chassis ID of {len(chassis)} bytes (2..256)")
    if len(port) < 2 or len(port) > 256:
        raise LldpBadTlv(f"Port ID of {len(port)} bytes (2..256)")
    if len(ttl) != 2:
        raise LldpBadTlv(f"TTL of {len(ttl)} bytes, not 2")
    chassis_id = mac_to_str(chassis[1:]) if chassis[0] == CHASSIS_SUBTYPE_MAC and len(
        chassis
    ) == 7 else _id_text(chassis[1:])  # fmt: skip
    port_text = mac_to_str(port[1:]) if port[0] == PORT_SUBTYPE_MAC and len(port) == 7 else (
        _id_text(port[1:])
    )  # fmt: skip
    chassis_mac = mgmt_ip = system_name = port_description = None
    for kind, value in tlvs[3:]:
        if kind in (TLV_CHASSIS_ID, TLV_PORT_ID, TLV_TTL):
            raise LldpBadTlv(f"TLV {kind} appears twice")
        if kind == TLV_ORG and len(value) >= 4:
            if value[:3] == OUI_PROFINET and value[3] == PNIO_CHASSIS_MAC:
                if len(value) != 10:
                    raise LldpBadTlv(f"PNIO ChassisMAC of {len(value) - 4} bytes, not 6")
                chassis_mac = value[4:10]
        elif kind == TLV_ORG:
            raise LldpBadTlv(f"organisation TLV of {len(value)} bytes has no OUI and subtype")
        elif kind == TLV_MANAGEMENT_ADDRESS:
            if len(value) < 9 or value[0] < 2 or value[0] > 32 or 1 + value[0] > len(value):
                raise LldpBadTlv("Management Address TLV with a bad address length")
            if value[1] == MGMT_SUBTYPE_IPV4 and value[0] == 5:
                mgmt_ip = ipaddress.IPv4Address(value[2:6])
        elif kind == TLV_SYSTEM_NAME:
            system_name = _id_text(value)
        elif kind == TLV_PORT_DESCRIPTION:
            port_description = _id_text(value)
    return LldpPeer(
        chassis_id, chassis[0], port_text, port[0], struct.unpack("!H", ttl)[0], source_mac,
        chassis_mac, mgmt_ip, system_name, port_description,
    )  # fmt: skip


class LldpAgent:
    """Sends this device's LLDPDU periodically and keeps the neighbour (until its TTL ends)."""

    def __init__(
        self,
        sock: RawSocket,
        station_name: Callable[[], str],
        ipv4: Callable[[], ipaddress.IPv4Address | None],
        log: logging.Logger,
        on_peer: Callable[[LldpPeer | None], None] = lambda _p: None,
        interval_s: float = TX_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sock = sock
        self.station_name = station_name
        self.ipv4 = ipv4
        self.log = log
        self.on_peer = on_peer
        self.interval_s = interval_s
        self.clock = clock
        self.peer: LldpPeer | None = None
        self.peer_expires_s = 0.0
        self.sent = 0
        self.malformed = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_error_log_s = -1e9

    def start(self) -> "asyncio.Task[None]":
        loop = asyncio.get_running_loop()
        self.sock.attach(loop, self.on_frame)
        self._task = loop.create_task(self._run(), name="lldp-tx")
        return self._task

    def stop(self) -> None:
        self.sock.detach()
        if self._task is not None:
            self._task.cancel()

    def send_now(self) -> None:
        """Send at once (after a name or IP change) and restart the interval."""
        self._wake.set()

    def frame(self) -> bytes:
        return build_frame_lldp(self.sock.mac, self.station_name(), self.ipv4(), self.sock.ifindex)

    def on_frame(self, frame: EthernetFrame) -> None:
        if frame.ethertype != ETH_P_LLDP:
            return
        try:
            peer = parse_lldpdu(frame.payload, frame.src)
        except LldpError as exc:
            self.malformed += 1
            now = self.clock()
            if now - self._last_error_log_s >= 10.0:
                self._last_error_log_s = now
                self.log.warning("LLDP frame from %s ignored: %s", mac_to_str(frame.src), exc)
            return
        self._set_peer(peer if peer.ttl_s > 0 else None, self.clock() + peer.ttl_s)

    def _set_peer(self, peer: LldpPeer | None, expires_s: float) -> None:
        changed = (peer is None) != (self.peer is None) or (
            peer is not None and self.peer is not None and peer.alias != self.peer.alias
        )
        self.peer, self.peer_expires_s = peer, expires_s
        if changed:
            if peer is not None:
                self.log.info("LLDP neighbour: %s (alias %s)", peer.chassis_id, peer.alias)
            self.on_peer(peer)

    async def _run(self) -> None:
        while True:
            try:
                self.sock.send(self.frame())
                self.sent += 1
            except OSError as exc:
                self.log.warning("LLDP send failed: %s", exc.strerror)
            if self.peer is not None and self.clock() >= self.peer_expires_s:
                self._set_peer(None, 0.0)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
