# SPDX-License-Identifier: Apache-2.0
"""PNIOStatus (ErrorCode, ErrorDecode, ErrorCode1, ErrorCode2) and the codes this device uses.

IEC 61158-6-10 "Coding of the field PNIOStatus": ErrorCode names the service (0xDB Connect,
0xDC Release, 0xDD Control, 0xDE Read, 0xDF Write, 0xCF RTA error/abort, 0x81 PNIO), ErrorDecode
how to read the rest (0x80 PNIORW for records, 0x81 PNIO), ErrorCode1 the faulty block or
protocol machine, ErrorCode2 the faulty field of that block (parameter number) or the reason.
"""

from dataclasses import dataclass
from enum import IntEnum


class ErrorCode(IntEnum):
    OK = 0x00
    PNIO = 0x81
    RTA_ERROR = 0xCF
    CONNECT = 0xDB
    RELEASE = 0xDC
    CONTROL = 0xDD
    READ = 0xDE
    WRITE = 0xDF


class ErrorDecode(IntEnum):
    PNIORW = 0x80
    PNIO = 0x81


class Code1(IntEnum):
    """ErrorCode1 values with ErrorDecode PNIO."""

    AR_BLOCK = 1
    IOCR_BLOCK = 2
    EXPECTED_SUBMODULE_BLOCK = 3
    ALARM_CR_BLOCK = 4
    CONTROL_BLOCK = 20
    RELEASE_BLOCK = 40
    CMDEV = 61
    CMRPC = 64
    RTA_PROTOCOL = 0xFD


class Cmrpc(IntEnum):
    """ErrorCode2 with ErrorCode1 CMRPC (64)."""

    ARGS_LENGTH_INVALID = 0
    UNKNOWN_BLOCKS = 1
    IOCR_MISSING = 2
    WRONG_ALARM_CR_COUNT = 3
    OUT_OF_AR_RESOURCES = 4
    AR_UUID_UNKNOWN = 5
    STATE_CONFLICT = 6
    OUT_OF_RESOURCES = 7


class Cmdev(IntEnum):
    STATE_CONFLICT = 0
    RESOURCES = 1


class AbortReason(IntEnum):
    """ErrorCode2 of an AR abort (0xCF 0x81 0xFD reason)."""

    SEQUENCE = 1
    INSTANCE_CLOSED = 2
    OUT_OF_MEMORY = 3
    ADD_PROVIDER_CONSUMER_FAILED = 4
    DHT_EXPIRED = 5
    CMI_TIMEOUT = 6
    ALARM_OPEN_FAILED = 7
    ALARM_SEND_NEG = 8
    ALARM_ACK_SEND_NEG = 9
    ALARM_DATA_TOO_LONG = 10
    ALARM_IND_ERROR = 11
    RPC_CLIENT_CALL_NEG = 12
    ABORT_REQUEST = 13
    RERUN_ABORTS_EXISTING = 14
    RELEASE_IND = 15
    DEVICE_PASSIVATED = 16
    DEVICE_REMOVED = 17
    PROTOCOL_VIOLATION = 18
    RPC_CONTROL_ERROR = 24
    STATION_NAME_CHANGED = 31
    RESET_TO_FACTORY = 32


class Rw(IntEnum):
    """ErrorCode1 with ErrorDecode PNIORW: class (high nibble) and code (low nibble)."""

    INVALID_INDEX = 0xB0
    WRITE_LENGTH = 0xB1
    INVALID_SLOT = 0xB2
    TYPE_CONFLICT = 0xB3
    INVALID_API = 0xB4
    STATE_CONFLICT = 0xB5
    ACCESS_DENIED = 0xB6
    INVALID_RANGE = 0xB7
    INVALID_PARAMETER = 0xB8
    INVALID_TYPE = 0xB9
    BACKUP = 0xBA
    READ_CONSTRAIN = 0xC0
    WRITE_CONSTRAIN = 0xC1
    RESOURCE_BUSY = 0xC2
    RESOURCE_UNAVAILABLE = 0xC3


@dataclass(frozen=True)
class PnioStatus:
    code: int = 0
    decode: int = 0
    code1: int = 0
    code2: int = 0

    def encode(self) -> bytes:
        return bytes((self.code, self.decode, self.code1, self.code2))

    @classmethod
    def decode_from(cls, data: bytes) -> "PnioStatus":
        return cls(data[0], data[1], data[2], data[3])

    @property
    def ok(self) -> bool:
        return self.encode() == bytes(4)

    def __str__(self) -> str:
        return f"0x{self.code:02X} 0x{self.decode:02X} 0x{self.code1:02X} 0x{self.code2:02X}"


OK = PnioStatus()


def pnio(service: ErrorCode, code1: int, code2: int) -> PnioStatus:
    return PnioStatus(service, ErrorDecode.PNIO, code1, code2)


def rw(service: ErrorCode, code1: Rw, code2: int = 0) -> PnioStatus:
    return PnioStatus(service, ErrorDecode.PNIORW, code1, code2)


def abort(reason: AbortReason) -> PnioStatus:
    return PnioStatus(ErrorCode.RTA_ERROR, ErrorDecode.PNIO, Code1.RTA_PROTOCOL, reason)


class PnioError(Exception):
    """A request the device refuses: the status goes back to the controller as is."""

    def __init__(self, status: PnioStatus, reason: str) -> None:
        super().__init__(f"{reason} (PNIOStatus {status})")
        self.status = status
        self.reason = reason
