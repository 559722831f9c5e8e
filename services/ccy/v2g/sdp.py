# SPDX-License-Identifier: Apache-2.0
"""SECC Discovery Protocol (SDP): where the vehicle finds the SECC's TCP port.

UDP port 15118, link-local multicast ff02::1 on the vehicle-side interface (design/v2g.md
"Transport"). Request ``01 FE 90 00 | 00000002 | security | transport``; response
``01 FE 90 01 | 00000014 | SECC IPv6 (16) | port (2) | security | transport``
(security 0x00 TLS, 0x10 no TLS; transport 0x00 TCP).

The responder answers with the interface's link-local address, the port of the server that
matches the requested security when the configuration offers it, else the other one offered.
A request with a wrong version, inverse, payload type or length is dropped without an answer,
as ISO 15118 wants (the vehicle repeats its request), and counted (``sdp_dropped``); the first
drop of each kind, and every 100th, get a journal line. Each answered request logs the seed's
``Got SDP request from fe80::…%eth1``.
"""

import asyncio
import contextlib
import enum
import ipaddress
import logging
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, cast

from ccy.v2g import v2gtp
from ccy.v2g.server import TransportCounters
from ccy.v2g.v2gtp import PayloadType

LOG = logging.getLogger("ccy.v2g.net")

SDP_PORT = 15118
MULTICAST_ALL_NODES = "ff02::1"
REQUEST_PAYLOAD_LENGTH = 2
RESPONSE_PAYLOAD_LENGTH = 20
IF_INET6 = Path("/proc/net/if_inet6")
_SDP_TYPES = frozenset({PayloadType.SDP_REQ, PayloadType.SDP_RES})


class Security(enum.IntEnum):
    TLS = 0x00
    NONE = 0x10


class Transport(enum.IntEnum):
    TCP = 0x00


class SdpError(Exception):
    """An SDP datagram that must be dropped; ``kind`` names the reason."""

    kind = "invalid"


class SdpHeaderError(SdpError):
    kind = "header"


class SdpWrongType(SdpError):
    kind = "payload type"


class SdpWrongLength(SdpError):
    kind = "length"


class SdpUnknownValue(SdpError):
    kind = "value"


class SdpRequest(NamedTuple):
    security: Security
    transport: Transport


class SdpResponse(NamedTuple):
    address: ipaddress.IPv6Address
    port: int
    security: Security
    transport: Transport


def _frame(data: bytes, payload_type: PayloadType, length: int) -> bytes:
    try:
        header = v2gtp.decode_header(data, max_payload_bytes=length, allowed=_SDP_TYPES)
    except v2gtp.TooLong as exc:
        raise SdpWrongLength(str(exc)) from None
    except v2gtp.UnknownPayloadType as exc:
        raise SdpWrongType(str(exc)) from None
    except v2gtp.V2gtpError as exc:
        raise SdpHeaderError(f"{type(exc).__name__}: {exc}") from None
    if header.payload_type != payload_type:
        raise SdpWrongType(f"payload type {header.payload_type:#06x}, expected {payload_type:#06x}")
    if header.length != length or len(data) != v2gtp.HEADER_SIZE + length:
        raise SdpWrongLength(
            f"payload length {header.length} in a datagram of {len(data)} bytes, "
            f"expected {length} in {v2gtp.HEADER_SIZE + length}"
        )
    return data[v2gtp.HEADER_SIZE :]


def decode_request(data: bytes) -> SdpRequest:
    payload = _frame(data, PayloadType.SDP_REQ, REQUEST_PAYLOAD_LENGTH)
    try:
        return SdpRequest(Security(payload[0]), Transport(payload[1]))
    except ValueError as exc:
        raise SdpUnknownValue(str(exc)) from None


def encode_request(security: Security, transport: Transport = Transport.TCP) -> bytes:
    return v2gtp.encode(PayloadType.SDP_REQ, bytes([security, transport]))


def encode_response(
    address: ipaddress.IPv6Address,
    port: int,
    security: Security,
    transport: Transport = Transport.TCP,
) -> bytes:
    payload = address.packed + struct.pack(">HBB", port, security, transport)
    return v2gtp.encode(PayloadType.SDP_RES, payload)


def decode_response(data: bytes) -> SdpResponse:
    payload = _frame(data, PayloadType.SDP_RES, RESPONSE_PAYLOAD_LENGTH)
    port, security, transport = struct.unpack(">HBB", payload[16:])
    try:
        return SdpResponse(
            ipaddress.IPv6Address(payload[:16]), port, Security(security), Transport(transport)
        )
    except ValueError as exc:
        raise SdpUnknownValue(str(exc)) from None


class NoLinkLocalAddress(RuntimeError):
    """The vehicle-side interface has no IPv6 link-local address (yet)."""


def link_local_address(interface: str, if_inet6: Path = IF_INET6) -> ipaddress.IPv6Address:
    """The interface's link-local address (``lo``, which has none, answers ::1)."""
    if interface == "lo":
        return ipaddress.IPv6Address("::1")
    try:
        lines = if_inet6.read_text().splitlines()
    except OSError as exc:
        raise NoLinkLocalAddress(f"{if_inet6}: {exc.strerror}") from None
    for line in lines:
        fields = line.split()
        if len(fields) >= 6 and fields[5] == interface:
            address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
            if address.is_link_local:
                return address
    raise NoLinkLocalAddress(
        f"interface {interface} has no IPv6 link-local address (ip -6 addr show dev {interface})"
    )


@dataclass(frozen=True)
class SdpConfig:
    interface: str
    udp_port: int = SDP_PORT
    tls_port: int | None = None
    """The TLS server's port; None: TLS not offered."""
    tcp_port: int | None = None
    """The plain TCP server's port; None: sessions without TLS not offered."""
    bind_address: str = "::"


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, responder: "SdpResponder") -> None:
        self._responder = responder
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        answer = self._responder.handle(data, addr)
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)
            self._responder.counters.count("sdp_responses")


class SdpResponder:
    """Answers SDP requests on the vehicle-side interface."""

    def __init__(
        self,
        config: SdpConfig,
        *,
        counters: TransportCounters | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self._config = config
        self._tls_port = config.tls_port
        self._tcp_port = config.tcp_port
        self.counters = counters if counters is not None else TransportCounters()
        self._log = log or LOG
        self._transport: asyncio.DatagramTransport | None = None
        self._address: ipaddress.IPv6Address | None = None
        self._drops: dict[str, int] = {}

    @property
    def port(self) -> int:
        if self._transport is None:
            raise RuntimeError("responder not started")
        return int(self._transport.get_extra_info("sockname")[1])

    def set_ports(self, *, tls_port: int | None, tcp_port: int | None) -> None:
        self._tls_port = tls_port
        self._tcp_port = tcp_port

    async def start(self) -> None:
        cfg = self._config
        self._address = link_local_address(cfg.interface)
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            index = socket.if_nametoindex(cfg.interface)
            if cfg.interface != "lo":
                mreq = socket.inet_pton(socket.AF_INET6, MULTICAST_ALL_NODES) + struct.pack(
                    "@I", index
                )
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
            sock.bind((cfg.bind_address, cfg.udp_port))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self._transport = transport

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def handle(self, data: bytes, addr: tuple[str | object, ...]) -> bytes | None:
        """The answer to one datagram from ``addr``, or None (dropped)."""
        host = str(addr[0])
        if len(addr) >= 4 and "%" not in host and addr[3]:
            with contextlib.suppress(OSError):
                host = f"{host}%{socket.if_indextoname(int(str(addr[3])))}"
        try:
            request = decode_request(data)
        except SdpError as exc:
            self._drop(host, exc.kind, str(exc))
            return None
        self.counters.count("sdp_requests")
        self._log.info("Got SDP request from %s", host)
        offered = {Security.TLS: self._tls_port, Security.NONE: self._tcp_port}
        port = offered[request.security]
        security = request.security
        if port is None:
            security = Security.NONE if request.security is Security.TLS else Security.TLS
            port = offered[security]
        if port is None or self._address is None:
            self._drop(host, "nothing offered", "no V2G server is offered")
            return None
        return encode_response(self._address, port, security, Transport.TCP)

    def _drop(self, host: str, kind: str, why: str) -> None:
        self.counters.count("sdp_dropped")
        n = self._drops.get(kind, 0) + 1
        self._drops[kind] = n
        if n == 1 or n % 100 == 0:
            self._log.warning(
                "Dropped SDP request from %s (%s; %d dropped for this reason)", host, why, n
            )
