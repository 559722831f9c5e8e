# SPDX-License-Identifier: Apache-2.0
"""DCP PDUs (IEC 61158-6-10, "DCP"; profinet.md "DCP"): parse and build. Pure, no I/O.

The PDU follows the Ethernet header (ethertype 0x8892): FrameID (2), ServiceID (1),
ServiceType (1), Xid (4), ResponseDelayFactor or reserved (2), DCPDataLength (2), then
DCPDataLength bytes of blocks. Each block is Option (1), Suboption (1), DCPBlockLength (2)
and DCPBlockLength bytes, padded to an even length (padding counts in DCPDataLength, not in
DCPBlockLength). What the block's first two value bytes mean depends on the PDU:

| PDU                                  | block value                                       |
|--------------------------------------|---------------------------------------------------|
| Identify request (0xFEFE)            | filter value (no prefix); All selector FF/FF      |
| Get request (0xFEFD, service Get)    | no blocks: a list of (option, suboption) pairs    |
| Set request (0xFEFD, service Set)    | BlockQualifier (2) + value                        |
| responses and Hello                  | BlockInfo (2) + value; Control/Response (5/4) has |
|                                      | none: option, suboption, BlockError (3 bytes)     |

Everything malformed raises a :class:`DcpError` subclass naming what is wrong; nothing
else escapes :func:`parse_pdu` (tests/fuzz/fuzz_profinet_dcp.py holds it to that).
"""

import ipaddress
import struct
from dataclasses import dataclass
from enum import IntEnum

FRAME_ID_HELLO = 0xFEFC
FRAME_ID_GET_SET = 0xFEFD
FRAME_ID_IDENTIFY_REQ = 0xFEFE
FRAME_ID_IDENTIFY_RES = 0xFEFF
DCP_FRAME_IDS = frozenset((FRAME_ID_HELLO, FRAME_ID_GET_SET, FRAME_ID_IDENTIFY_REQ,
                           FRAME_ID_IDENTIFY_RES))  # fmt: skip

HEADER = struct.Struct("!HBBIHH")
"""FrameID, ServiceID, ServiceType, Xid, ResponseDelay, DCPDataLength."""
BLOCK_HEADER = struct.Struct("!BBH")
MAX_DATA_LEN = 1432
"""Largest DCPDataLength: 1500-byte payload less FrameID and DCP header, rounded down."""
MAX_RESPONSE_DELAY_FACTOR = 6400
RESPONSE_DELAY_STEP_S = 0.010


class ServiceId(IntEnum):
    GET = 3
    SET = 4
    IDENTIFY = 5
    HELLO = 6


class ServiceType(IntEnum):
    REQUEST = 0
    SUCCESS = 1
    NOT_SUPPORTED = 5


class Option(IntEnum):
    IP = 1
    DEVICE = 2
    DHCP = 3
    CONTROL = 5
    DEVICE_INITIATIVE = 6
    ALL = 0xFF


class IpSub(IntEnum):
    MAC = 1
    PARAMETER = 2
    FULL_SUITE = 3


class DeviceSub(IntEnum):
    VENDOR = 1
    NAME_OF_STATION = 2
    DEVICE_ID = 3
    ROLE = 4
    OPTIONS = 5
    ALIAS = 6
    INSTANCE = 7


class ControlSub(IntEnum):
    START = 1
    STOP = 2
    SIGNAL = 3
    RESPONSE = 4
    FACTORY_RESET = 5
    RESET_TO_FACTORY = 6


DEVICE_INITIATIVE_SUB = 1
ALL_SUB = 0xFF


class BlockError(IntEnum):
    """BlockError of a Control/Response block (profinet.md)."""

    NONE = 0
    OPTION_UNSUPPORTED = 1
    SUBOPTION_UNSUPPORTED = 2
    NOT_SET = 3
    RESOURCE = 4
    NOT_POSSIBLE = 5
    IN_OPERATION = 6


QUALIFIER_PERMANENT = 0x0001
"""BlockQualifier bit 0 of a Set: 1 = keep the value after a restart, 0 = temporary."""
BLOCK_INFO_IP_SET = 0x0001
"""IP parameter BlockInfo: an address is set (0 = none)."""
SIGNAL_FLASH_ONCE = 0x0100
"""SignalValue: flash once (the only value defined)."""


class DcpError(ValueError):
    """A DCP PDU that cannot be read as the standard says."""


class DcpTooShort(DcpError):
    """Fewer bytes than the FrameID and DCP header."""


class DcpNotDcp(DcpError):
    """The FrameID is not one of DCP's (0xFEFC..0xFEFF)."""


class DcpDataLengthError(DcpError):
    """DCPDataLength is larger than the bytes that follow, or than MAX_DATA_LEN."""


class DcpBlockLengthError(DcpError):
    """A block's DCPBlockLength runs past DCPDataLength, or a block header is cut off."""


class DcpBadValue(DcpError):
    """A block value of the wrong size or content for its option (e.g. IP parameter ≠ 12)."""


class DcpBadService(DcpError):
    """A ServiceID / ServiceType that this FrameID cannot carry."""


@dataclass(frozen=True, slots=True)
class Block:
    option: int
    suboption: int
    value: bytes
    """The value after any BlockQualifier/BlockInfo (without padding)."""
    prefix: int | None = None
    """BlockQualifier (Set request) or BlockInfo (response, Hello); None where the PDU has
    neither (Identify filter, Control/Response)."""

    @property
    def key(self) -> tuple[int, int]:
        return (self.option, self.suboption)


@dataclass(frozen=True, slots=True)
class Pdu:
    frame_id: int
    service_id: int
    service_type: int
    xid: int
    response_delay: int
    """ResponseDelayFactor in an Identify request; reserved (0) otherwise."""
    blocks: tuple[Block, ...] = ()
    requested: tuple[tuple[int, int], ...] = ()
    """A Get request's (option, suboption) list."""


@dataclass(frozen=True, slots=True)
class IpParameter:
    """IP parameter value (option 1/2): address, netmask, gateway (0.0.0.0 = none)."""

    address: ipaddress.IPv4Address
    netmask: ipaddress.IPv4Address
    gateway: ipaddress.IPv4Address

    @classmethod
    def none(cls) -> "IpParameter":
        zero = ipaddress.IPv4Address(0)
        return cls(zero, zero, zero)

    @classmethod
    def from_strings(cls, address: str, netmask: str, gateway: str = "0.0.0.0") -> "IpParameter":
        try:
            return cls(
                ipaddress.IPv4Address(address),
                ipaddress.IPv4Address(netmask),
                ipaddress.IPv4Address(gateway),
            )
        except ValueError as exc:
            raise DcpBadValue(f"bad IP parameter: {exc}") from None

    @classmethod
    def decode(cls, value: bytes) -> "IpParameter":
        if len(value) != 12:
            raise DcpBadValue(f"IP parameter value has {len(value)} bytes, not 12")
        a, m, g = struct.unpack("!4s4s4s", value)
        return cls(ipaddress.IPv4Address(a), ipaddress.IPv4Address(m), ipaddress.IPv4Address(g))

    def encode(self) -> bytes:
        return self.address.packed + self.netmask.packed + self.gateway.packed

    @property
    def is_set(self) -> bool:
        return int(self.address) != 0 or int(self.netmask) != 0 or int(self.gateway) != 0

    @property
    def effective_gateway(self) -> ipaddress.IPv4Address | None:
        """The default gateway to install: none when 0.0.0.0 or equal to the own address
        (IEC 61158-6-10: a device without router sends its own address as gateway)."""
        if int(self.gateway) == 0 or self.gateway == self.address:
            return None
        return self.gateway

    def problem(self) -> str | None:
        """Why this parameter cannot be applied to an interface, or None."""
        if not self.is_set:
            return None
        mask = int(self.netmask)
        inverted = (~mask) & 0xFFFFFFFF
        if mask == 0 or (inverted & (inverted + 1)) != 0:
            return f"netmask {self.netmask} is not a contiguous prefix"
        addr = self.address
        if addr.is_multicast or addr.is_loopback or int(addr) == 0 or addr.is_reserved:
            return f"address {addr} cannot be a host address"
        host = int(addr) & inverted
        if inverted > 1 and host in (0, inverted):
            return f"address {addr} is the network or broadcast address of its subnet"
        gw = self.effective_gateway
        if gw is not None and (int(gw) & mask) != (int(addr) & mask):
            return f"gateway {gw} is outside the subnet {addr}/{self.prefix_len}"
        return None

    @property
    def prefix_len(self) -> int:
        return bin(int(self.netmask)).count("1")

    def __str__(self) -> str:
        return f"IP {self.address} Netmask {self.netmask} Gateway {self.gateway}"


def _pad(data: bytes) -> bytes:
    return data + b"\x00" if len(data) & 1 else data


def encode_block(option: int, suboption: int, value: bytes, prefix: int | None = None) -> bytes:
    """One block with its header and padding; ``prefix`` is BlockInfo/BlockQualifier."""
    body = value if prefix is None else struct.pack("!H", prefix) + value
    if len(body) > 0xFFFF:
        raise DcpBadValue("block value too long")
    return _pad(BLOCK_HEADER.pack(option, suboption, len(body)) + body)


def encode_pdu(
    frame_id: int,
    service_id: int,
    service_type: int,
    xid: int,
    blocks: bytes,
    response_delay: int = 0,
) -> bytes:
    """FrameID + DCP header + the already encoded ``blocks``."""
    if len(blocks) > MAX_DATA_LEN:
        raise DcpBadValue(f"DCP data of {len(blocks)} bytes exceeds {MAX_DATA_LEN}")
    return (
        HEADER.pack(frame_id, service_id, service_type, xid & 0xFFFFFFFF, response_delay,
                    len(blocks))
        + blocks
    )  # fmt: skip


def control_response(option: int, suboption: int, error: BlockError) -> bytes:
    """The Control/Response block (5/4) answering one Set or Get block."""
    return encode_block(Option.CONTROL, ControlSub.RESPONSE, bytes((option, suboption, error)))


def _blocks(data: bytes, prefixed: bool) -> tuple[Block, ...]:
    out: list[Block] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < BLOCK_HEADER.size:
            raise DcpBlockLengthError(
                f"block header cut off: {len(data) - pos} bytes left at offset {pos}"
            )
        option, suboption, length = BLOCK_HEADER.unpack_from(data, pos)
        pos += BLOCK_HEADER.size
        if length > len(data) - pos:
            raise DcpBlockLengthError(
                f"block {option}/{suboption} says {length} bytes, {len(data) - pos} remain"
            )
        body = data[pos : pos + length]
        pos += length + (length & 1)
        control_response_block = (option, suboption) == (Option.CONTROL, ControlSub.RESPONSE)
        if prefixed and not control_response_block:
            if length < 2:
                raise DcpBlockLengthError(
                    f"block {option}/{suboption} of {length} bytes has no room for its"
                    " BlockQualifier/BlockInfo"
                )
            out.append(Block(option, suboption, body[2:], int.from_bytes(body[:2], "big")))
        else:
            out.append(Block(option, suboption, body))
    return tuple(out)


def parse_pdu(payload: bytes) -> Pdu:
    """The DCP PDU in an Ethernet payload (starting at the FrameID); DcpError if malformed.
    Bytes after DCPDataLength (Ethernet padding) are ignored."""
    if len(payload) < HEADER.size:
        raise DcpTooShort(f"{len(payload)} bytes is shorter than a DCP header")
    frame_id, service_id, service_type, xid, delay, data_len = HEADER.unpack_from(payload)
    if frame_id not in DCP_FRAME_IDS:
        raise DcpNotDcp(f"FrameID 0x{frame_id:04X} is not DCP")
    if data_len > MAX_DATA_LEN:
        raise DcpDataLengthError(f"DCPDataLength {data_len} exceeds {MAX_DATA_LEN}")
    if data_len > len(payload) - HEADER.size:
        raise DcpDataLengthError(
            f"DCPDataLength {data_len} but only {len(payload) - HEADER.size} bytes follow"
        )
    data = payload[HEADER.size : HEADER.size + data_len]
    request = service_type == ServiceType.REQUEST
    if frame_id == FRAME_ID_IDENTIFY_REQ:
        if service_id != ServiceId.IDENTIFY or not request:
            raise DcpBadService(
                f"FrameID 0xFEFE carries service {service_id} type {service_type},"
                " not an Identify request"
            )
        return Pdu(frame_id, service_id, service_type, xid, delay, _blocks(data, False))
    if frame_id == FRAME_ID_HELLO and service_id != ServiceId.HELLO:
        raise DcpBadService(f"FrameID 0xFEFC carries service {service_id}, not Hello")
    if frame_id == FRAME_ID_GET_SET and request and service_id == ServiceId.GET:
        if data_len & 1:
            raise DcpBlockLengthError(f"a Get request's option list has odd length {data_len}")
        pairs = tuple((data[i], data[i + 1]) for i in range(0, data_len, 2))
        return Pdu(frame_id, service_id, service_type, xid, delay, (), pairs)
    # Set requests carry BlockQualifier; responses and Hello carry BlockInfo. Unknown
    # services on 0xFEFD are still parsed (as prefixed blocks is wrong for them, so none).
    if frame_id == FRAME_ID_GET_SET and request and service_id != ServiceId.SET:
        return Pdu(frame_id, service_id, service_type, xid, delay)
    return Pdu(frame_id, service_id, service_type, xid, delay, _blocks(data, True))


def response_delay_s(mac: bytes, factor: int) -> float:
    """The Identify response delay (profinet.md): ((MAC[4]<<8 | MAC[5]) mod factor) × 10 ms
    for a factor of 1..6400, else none."""
    if not 1 <= factor <= MAX_RESPONSE_DELAY_FACTOR:
        return 0.0
    return ((mac[4] << 8 | mac[5]) % factor) * RESPONSE_DELAY_STEP_S
