# SPDX-License-Identifier: Apache-2.0
"""The endpoint mapper's Lookup (opnum 2) answer: one entry, the PNIO device interface on
UDP 34964 at our address, with our station name as annotation (what engineering tools show).
A second call with the handle we returned ends the list (EPT_S_NOT_REGISTERED)."""

import ipaddress
import struct
import uuid
from dataclasses import dataclass

from ccy.profinet.rpc.dcerpc import DEVICE_IFACE, PNIO_PORT, uuid_bytes

NDR_SYNTAX = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860")
EPT_S_NOT_REGISTERED = 0x16C9A0D6
HANDLE_UUID = uuid.UUID("ccc7e7b0-0000-4000-8000-000000000001")


@dataclass(frozen=True)
class EpmEndpoint:
    object_uuid: uuid.UUID
    host_ip: str
    annotation: str


def _floor(lhs: bytes, rhs: bytes) -> bytes:
    return struct.pack("<H", len(lhs)) + lhs + struct.pack("<H", len(rhs)) + rhs


def tower(host_ip: str) -> bytes:
    try:
        ip = ipaddress.IPv4Address(host_ip).packed
    except ValueError:
        ip = bytes(4)
    floors = [
        _floor(b"\x0d" + DEVICE_IFACE.bytes_le + struct.pack("<H", 1), struct.pack("<H", 0)),
        _floor(b"\x0d" + NDR_SYNTAX.bytes_le + struct.pack("<H", 2), struct.pack("<H", 0)),
        _floor(b"\x0a", struct.pack("<H", 0)),
        _floor(b"\x08", struct.pack(">H", PNIO_PORT)),
        _floor(b"\x09", ip),
    ]
    return struct.pack("<H", len(floors)) + b"".join(floors)


def _request_handle(body: bytes, little: bool) -> uuid.UUID | None:
    """The entry handle of a Lookup request (None when the request is too short)."""
    e = "<" if little else ">"
    pos = 4  # inquiry type
    try:
        for extra in (16, 20):  # object UUID, interface id + versions
            (ref,) = struct.unpack_from(e + "I", body, pos)
            pos += 4 + (extra if ref else 0)
        pos += 4  # version option
        handle = body[pos + 4 : pos + 20]
        if len(handle) != 16:
            return None
        return uuid.UUID(bytes_le=handle) if little else uuid.UUID(bytes=handle)
    except struct.error:
        return None


def answer_lookup(body: bytes, little: bool, endpoint: EpmEndpoint) -> bytes:
    e = "<" if little else ">"
    handle = _request_handle(body, little)
    if handle is None or handle.int != 0:
        return (
            bytes(20)
            + struct.pack(e + "IIII", 0, 0, 0, 0)
            + struct.pack(e + "I", EPT_S_NOT_REGISTERED)
        )
    text = endpoint.annotation.encode("ascii", "replace")[:63] + b"\x00"
    entry = uuid_bytes(endpoint.object_uuid, little) + struct.pack(e + "I", 3)
    entry += struct.pack(e + "II", 0, len(text)) + text
    entry += bytes(-len(entry) % 4)
    octets = tower(endpoint.host_ip)
    tower_part = struct.pack(e + "II", len(octets), len(octets)) + octets
    tower_part += bytes(-len(tower_part) % 4)
    out = struct.pack(e + "I", 0) + uuid_bytes(HANDLE_UUID, little)
    out += struct.pack(e + "I", 1)  # entries
    out += struct.pack(e + "III", 1, 0, 1) + entry + tower_part
    return out + struct.pack(e + "I", 0)
