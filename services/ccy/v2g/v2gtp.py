# SPDX-License-Identifier: Apache-2.0
"""V2GTP, the 8-byte header in front of every V2G message (ISO 15118-2 §7.8.3, used by -20).

``01 FE | payload type (2) | payload length (4)``, big-endian, the length excluding the header
(design/v2g.md "Transport"). The payload type names the EXI grammar set: one per -20
namespace, chosen by namespace (:func:`payload_type_for`), never by guessing.

Every header problem is a named :class:`V2gtpError` whose ``counter`` names the transport
counter it increments. An oversize length is refused from the header alone, before a byte of
the payload is read (reference stacks cap messages at a few kB, far below the codec's 64 KiB).
:func:`read_message` adds the two timeouts of a stream: a message once started must complete
within ``message_timeout_s`` (a peer that sends one byte a second is cut), and a new message
must start within ``idle_timeout_s``.
"""

import asyncio
import enum
import struct
from typing import NamedTuple

from ccy.v2g.exi import Namespace

VERSION = 0x01
INVERSE_VERSION = 0xFE
HEADER_SIZE = 8
_HEADER = struct.Struct(">BBHI")

DEFAULT_MAX_PAYLOAD_BYTES = 4096
"""A few kB, as the reference stacks cap them; configurable (``max_payload_bytes``)."""


class PayloadType(enum.IntEnum):
    """V2GTP payload types of ISO 15118-20 (design/v2g.md "Transport")."""

    SAP = 0x8001
    """SupportedAppProtocol (V2G_CI_AppProtocol)."""
    COMMON = 0x8002
    """-20 CommonMessages (incl. ScheduleExchange, PowerDelivery, SessionStop)."""
    AC = 0x8003
    DC = 0x8004
    ACDP = 0x8005
    WPT = 0x8006
    SCHEDULE_RENEGOTIATION = 0x8101
    METERING_CONFIRMATION = 0x8102
    ACDP_SYSTEM_STATUS = 0x8103
    PARKING_STATUS = 0x8104
    SDP_REQ = 0x9000
    SDP_RES = 0x9001
    SDP_REQ_WIRELESS = 0x9002
    SDP_RES_WIRELESS = 0x9003


TCP_PAYLOAD_TYPES = frozenset(
    {pt for pt in PayloadType if pt < PayloadType.SDP_REQ}  # SDP rides on UDP only
)
"""Payload types a V2G TCP/TLS connection may carry."""

_NAMESPACES = {
    PayloadType.SAP: Namespace.SAP,
    PayloadType.COMMON: Namespace.CM,
    PayloadType.AC: Namespace.AC,
    PayloadType.DC: Namespace.DC,
}


def payload_type_for(namespace: Namespace) -> PayloadType:
    """The payload type that carries messages of ``namespace``."""
    for pt, ns in _NAMESPACES.items():
        if ns is namespace:
            return pt
    raise ValueError(f"no V2GTP payload type for {namespace}")  # pragma: no cover


def namespace_for(payload_type: int) -> Namespace | None:
    """The EXI grammar set of ``payload_type``; None when ccy has no codec for it."""
    try:
        return _NAMESPACES.get(PayloadType(payload_type))
    except ValueError:
        return None


class V2gtpError(Exception):
    """A V2GTP stream problem; ``counter`` names the transport counter it counts in."""

    counter = "v2gtp_errors"


class WrongVersion(V2gtpError):
    counter = "wrong_version"


class WrongInverse(V2gtpError):
    counter = "wrong_inverse"


class UnknownPayloadType(V2gtpError):
    counter = "unknown_payload_type"


class TooLong(V2gtpError):
    counter = "too_long"


class Truncated(V2gtpError):
    """The stream ended inside a header or payload."""

    counter = "truncated"


class MessageTimeout(V2gtpError):
    """A message started but did not complete in time (a stalled or trickling peer)."""

    counter = "message_timeouts"


class IdleTimeout(V2gtpError):
    """No new message started in time."""

    counter = "idle_timeouts"


class PeerClosed(V2gtpError):
    """The peer closed the stream cleanly between two messages (not an error of the peer)."""

    counter = "peer_closed"


class Header(NamedTuple):
    payload_type: int
    length: int


class Frame(NamedTuple):
    payload_type: int
    payload: bytes


def encode(payload_type: int, payload: bytes) -> bytes:
    """Header + payload."""
    if not 0 <= payload_type <= 0xFFFF:
        raise ValueError(f"payload type {payload_type:#x} does not fit 16 bits")
    return _HEADER.pack(VERSION, INVERSE_VERSION, payload_type, len(payload)) + payload


def decode_header(
    data: bytes,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    allowed: frozenset[int] = TCP_PAYLOAD_TYPES,
) -> Header:
    """Check the first 8 bytes of ``data``; raises a named :class:`V2gtpError`."""
    if len(data) < HEADER_SIZE:
        raise Truncated(f"header needs {HEADER_SIZE} bytes, got {len(data)}")
    version, inverse, payload_type, length = _HEADER.unpack_from(data)
    if version != VERSION:
        raise WrongVersion(f"protocol version {version:#04x}, expected {VERSION:#04x}")
    if inverse != INVERSE_VERSION:
        raise WrongInverse(
            f"inverse protocol version {inverse:#04x}, expected {INVERSE_VERSION:#04x}"
        )
    if payload_type not in allowed:
        raise UnknownPayloadType(f"payload type {payload_type:#06x} is not accepted here")
    if length > max_payload_bytes:
        raise TooLong(f"payload length {length} exceeds the limit of {max_payload_bytes} bytes")
    return Header(payload_type, length)


def decode(
    data: bytes,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    allowed: frozenset[int] = TCP_PAYLOAD_TYPES,
) -> tuple[Frame, bytes]:
    """One message from the front of ``data``, and the bytes after it."""
    header = decode_header(data, max_payload_bytes, allowed)
    end = HEADER_SIZE + header.length
    if len(data) < end:
        raise Truncated(f"payload needs {header.length} bytes, got {len(data) - HEADER_SIZE}")
    return Frame(header.payload_type, bytes(data[HEADER_SIZE:end])), bytes(data[end:])


async def read_message(
    reader: asyncio.StreamReader,
    *,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    message_timeout_s: float = 2.0,
    idle_timeout_s: float = 60.0,
    allowed: frozenset[int] = TCP_PAYLOAD_TYPES,
) -> Frame:
    """Read one message. The first byte may take ``idle_timeout_s``; from it on, the whole
    message must arrive within ``message_timeout_s``. One timeout scope, moved when the first
    byte is in (no task per message, as ``asyncio.wait_for`` would make)."""
    started = False
    try:
        async with asyncio.timeout(idle_timeout_s) as scope:
            first = await reader.read(1)
            if not first:
                raise PeerClosed("peer closed the connection")
            started = True
            scope.reschedule(asyncio.get_running_loop().time() + message_timeout_s)
            header_bytes = first + await _read_exactly(reader, HEADER_SIZE - 1, "header")
            header = decode_header(header_bytes, max_payload_bytes, allowed)
            payload = await _read_exactly(reader, header.length, "payload")
    except TimeoutError:
        if started:
            raise MessageTimeout(f"message not complete within {message_timeout_s:g} s") from None
        raise IdleTimeout(f"no message within {idle_timeout_s:g} s") from None
    return Frame(header.payload_type, payload)


async def _read_exactly(reader: asyncio.StreamReader, n: int, what: str) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        raise Truncated(
            f"stream ended inside the {what} ({len(exc.partial)} of {n} bytes)"
        ) from None
