# SPDX-License-Identifier: Apache-2.0
"""Connectionless DCE/RPC v4 (the PNIO CM transport over UDP 34964), pure.

The 80-byte header (DCE 1.1 RPC, chapter 12) carries its integers and the first three UUID
fields in the sender's byte order (``drep[0]`` 0x10 = little endian, 0x00 = big endian); we
answer in the byte order of the request. PNIO bodies start with the NDR header
(``ArgsMaximum`` or, in responses, ``PNIOStatus``; ``ArgsLength``; the conformant array's
``MaximumCount``, ``Offset``, ``ActualCount``) followed by big-endian PNIO blocks.

Fragments: a body above ``MAX_FRAGMENT_BODY`` (1464 bytes, profinet.md) is split; requests in
fragments are reassembled by activity UUID and sequence number (``Reassembly``).
"""

import struct
import uuid
from dataclasses import dataclass, replace
from enum import IntEnum, IntFlag

HEADER_LEN = 80
NDR_HEADER_LEN = 20
MAX_FRAGMENT_BODY = 1464
MAX_REASSEMBLED = 16 * 1024
"""The largest request we reassemble (a Connect or WriteMultiple of this device is far
smaller); more is refused as a protocol error."""
PNIO_PORT = 34964

DEVICE_IFACE = uuid.UUID("dea00001-6c97-11d1-8271-00a02442df7d")
CONTROLLER_IFACE = uuid.UUID("dea00002-6c97-11d1-8271-00a02442df7d")
EPM_IFACE = uuid.UUID("e1af8308-5d1f-11c9-91a4-08002b14a0fa")
EPM_OBJECT = uuid.UUID("00000000-0000-0000-0000-000000000000")
NIL_UUID = uuid.UUID(int=0)


class RpcError(ValueError):
    """A datagram that is not a usable DCE/RPC PDU; ``reason`` names what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PType(IntEnum):
    REQUEST = 0
    PING = 1
    RESPONSE = 2
    FAULT = 3
    WORKING = 4
    NOCALL = 5
    REJECT = 6
    ACK = 7
    CL_CANCEL = 8
    FACK = 9
    CANCEL_ACK = 10


class Flags1(IntFlag):
    LAST_FRAG = 0x02
    FRAG = 0x04
    NO_FACK = 0x08
    MAYBE = 0x10
    IDEMPOTENT = 0x20
    BROADCAST = 0x40


class Opnum(IntEnum):
    CONNECT = 0
    RELEASE = 1
    READ = 2
    WRITE = 3
    CONTROL = 4
    READ_IMPLICIT = 5


EPM_LOOKUP = 2
NCA_UNK_IF = 0x1C010003
"""Reject status: unknown interface."""
NCA_OP_RNG_ERROR = 0x1C010002
"""Reject status: opnum out of range."""
NCA_PROTO_ERROR = 0x1C01000B


def uuid_bytes(value: uuid.UUID, little: bool) -> bytes:
    return value.bytes_le if little else value.bytes


def uuid_from(data: bytes, little: bool) -> uuid.UUID:
    return uuid.UUID(bytes_le=bytes(data)) if little else uuid.UUID(bytes=bytes(data))


@dataclass(frozen=True)
class RpcHeader:
    ptype: int
    flags1: int
    object_uuid: uuid.UUID
    interface_uuid: uuid.UUID
    activity_uuid: uuid.UUID
    sequence: int
    opnum: int
    body_len: int = 0
    fragment: int = 0
    flags2: int = 0
    little: bool = True
    server_boot: int = 0
    interface_version: int = 1
    interface_hint: int = 0xFFFF
    activity_hint: int = 0xFFFF
    serial: int = 0

    def encode(self) -> bytes:
        e = "<" if self.little else ">"
        drep = bytes((0x10 if self.little else 0x00, 0, 0))
        return (
            bytes((4, self.ptype, self.flags1, self.flags2))
            + drep
            + bytes((self.serial >> 8 & 0xFF,))
            + uuid_bytes(self.object_uuid, self.little)
            + uuid_bytes(self.interface_uuid, self.little)
            + uuid_bytes(self.activity_uuid, self.little)
            + struct.pack(
                e + "IIIHHHHHBB",
                self.server_boot,
                self.interface_version,
                self.sequence,
                self.opnum,
                self.interface_hint,
                self.activity_hint,
                self.body_len,
                self.fragment,
                0,
                self.serial & 0xFF,
            )
        )


@dataclass(frozen=True)
class RpcPdu:
    header: RpcHeader
    body: bytes

    def encode(self) -> bytes:
        return replace(self.header, body_len=len(self.body)).encode() + self.body


def decode_pdu(data: bytes) -> RpcPdu:
    """One datagram → header and body; RpcError when it is not DCE/RPC CL v4."""
    if len(data) < HEADER_LEN:
        raise RpcError(f"datagram of {len(data)} bytes is shorter than the 80-byte header")
    if data[0] != 4:
        raise RpcError(f"RPC version {data[0]} is not 4 (connectionless)")
    if data[1] > PType.CANCEL_ACK:
        raise RpcError(f"packet type {data[1]} is unknown")
    if data[4] & 0xF0 not in (0x00, 0x10):
        raise RpcError(f"data representation 0x{data[4]:02x} is unknown")
    little = data[4] & 0xF0 == 0x10
    e = "<" if little else ">"
    (boot, version, seq, opnum, ihint, ahint, blen, frag, auth, serial_lo) = struct.unpack_from(
        e + "IIIHHHHHBB", data, 56
    )
    if auth != 0:
        raise RpcError(f"authentication protocol {auth} is not supported")
    body = data[HEADER_LEN:]
    if blen > len(body):
        raise RpcError(f"body length {blen} exceeds the {len(body)} bytes received")
    header = RpcHeader(
        ptype=data[1],
        flags1=data[2],
        flags2=data[3],
        little=little,
        serial=data[7] << 8 | serial_lo,
        object_uuid=uuid_from(data[8:24], little),
        interface_uuid=uuid_from(data[24:40], little),
        activity_uuid=uuid_from(data[40:56], little),
        server_boot=boot,
        interface_version=version,
        sequence=seq,
        opnum=opnum,
        interface_hint=ihint,
        activity_hint=ahint,
        body_len=blen,
        fragment=frag,
    )
    return RpcPdu(header, bytes(body[:blen]))


@dataclass(frozen=True)
class Ndr:
    """The NDR header of a PNIO body: first word is ArgsMaximum (request) or PNIOStatus
    (response, big-endian bytes as the block codes read them)."""

    first: int
    args_length: int
    maximum_count: int
    offset: int
    actual_count: int


def decode_ndr(body: bytes, little: bool) -> tuple[Ndr, bytes]:
    if len(body) < NDR_HEADER_LEN:
        raise RpcError(f"body of {len(body)} bytes is shorter than the 20-byte NDR header")
    e = "<" if little else ">"
    ndr = Ndr(*struct.unpack_from(e + "IIIII", body, 0))
    if ndr.args_length > len(body) - NDR_HEADER_LEN:
        raise RpcError(f"ArgsLength {ndr.args_length} exceeds the {len(body) - 20} bytes sent")
    if ndr.actual_count != ndr.args_length or ndr.offset != 0:
        raise RpcError(
            f"NDR array (offset {ndr.offset}, actual count {ndr.actual_count})"
            f" does not match ArgsLength {ndr.args_length}"
        )
    return ndr, body[NDR_HEADER_LEN : NDR_HEADER_LEN + ndr.args_length]


def encode_request_ndr(payload: bytes, little: bool, args_maximum: int = 16696) -> bytes:
    e = "<" if little else ">"
    maximum = max(args_maximum, len(payload))
    return struct.pack(e + "IIIII", maximum, len(payload), maximum, 0, len(payload)) + payload


def encode_response_ndr(
    status: bytes, payload: bytes, little: bool, args_maximum: int | None = None
) -> bytes:
    """Response body: PNIOStatus (4 bytes as the PNIO spec orders them), then the array."""
    e = "<" if little else ">"
    maximum = len(payload) if args_maximum is None else max(args_maximum, len(payload))
    return status + struct.pack(e + "IIII", len(payload), maximum, 0, len(payload)) + payload


def fragments(header: RpcHeader, body: bytes) -> list[bytes]:
    """Encode ``body`` as one or more PDUs of at most MAX_FRAGMENT_BODY bytes each."""
    if len(body) <= MAX_FRAGMENT_BODY:
        flags = header.flags1 & ~(Flags1.FRAG | Flags1.LAST_FRAG)
        return [RpcPdu(replace(header, flags1=flags, fragment=0), body).encode()]
    out = []
    chunks = [body[i : i + MAX_FRAGMENT_BODY] for i in range(0, len(body), MAX_FRAGMENT_BODY)]
    for number, chunk in enumerate(chunks):
        flags = header.flags1 | Flags1.FRAG | Flags1.NO_FACK
        if number == len(chunks) - 1:
            flags |= Flags1.LAST_FRAG
        out.append(RpcPdu(replace(header, flags1=flags, fragment=number), chunk).encode())
    return out


class Reassembly:
    """Collects the fragments of requests by (activity, sequence); ``add`` returns the whole
    request once every fragment up to the last one is in, else None."""

    def __init__(self, limit: int = MAX_REASSEMBLED) -> None:
        self._limit = limit
        self._parts: dict[tuple[uuid.UUID, int], dict[int, RpcPdu]] = {}

    def add(self, pdu: RpcPdu) -> RpcPdu | None:
        h = pdu.header
        if not h.flags1 & Flags1.FRAG:
            return pdu
        key = (h.activity_uuid, h.sequence)
        parts = self._parts.setdefault(key, {})
        parts[h.fragment] = pdu
        if sum(len(p.body) for p in parts.values()) > self._limit:
            del self._parts[key]
            raise RpcError(f"fragmented request larger than {self._limit} bytes")
        last = [n for n, p in parts.items() if p.header.flags1 & Flags1.LAST_FRAG]
        if not last or any(n not in parts for n in range(last[0] + 1)):
            return None
        del self._parts[key]
        whole = b"".join(parts[n].body for n in range(last[0] + 1))
        first = parts[0].header
        flags = first.flags1 & ~(Flags1.FRAG | Flags1.LAST_FRAG)
        return RpcPdu(replace(first, flags1=flags, fragment=0, body_len=len(whole)), whole)

    def drop(self, activity: uuid.UUID) -> None:
        for key in [k for k in self._parts if k[0] == activity]:
            del self._parts[key]
