# SPDX-License-Identifier: Apache-2.0
"""Big-endian PNIO block reading and writing: the block header and a field reader that names
the faulty field (ErrorCode2 = parameter number of the block, IEC 61158-6-10) when a block is
short or a value is out of range."""

import struct
import uuid
from dataclasses import dataclass

from ccy.profinet.rpc.status import ErrorCode, PnioError, pnio

BLOCK_HEADER_LEN = 6
PARAM_BLOCK_TYPE = 0
PARAM_BLOCK_LENGTH = 1
PARAM_VERSION_HIGH = 2
PARAM_VERSION_LOW = 3


@dataclass(frozen=True)
class RawBlock:
    block_type: int
    version: tuple[int, int]
    body: bytes
    """Everything after the version bytes, up to BlockLength."""
    offset: int
    """Where the block started in the sequence it came from."""


def block(block_type: int, body: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    """Header + body; BlockLength counts the version bytes and the body."""
    return struct.pack(">HHBB", block_type, len(body) + 2, *version) + body


def split_blocks(data: bytes, service: ErrorCode, code1: int) -> list[RawBlock]:
    """A sequence of blocks as a request carries them (no padding between blocks)."""
    out = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < BLOCK_HEADER_LEN:
            raise PnioError(pnio(service, code1, PARAM_BLOCK_LENGTH), "truncated block header")
        btype, blen, vh, vl = struct.unpack_from(">HHBB", data, pos)
        if blen < 2 or pos + 4 + blen > len(data):
            raise PnioError(
                pnio(service, code1, PARAM_BLOCK_LENGTH),
                f"block 0x{btype:04X}: BlockLength {blen} does not fit the {len(data) - pos} bytes",
            )
        out.append(RawBlock(btype, (vh, vl), data[pos + 6 : pos + 4 + blen], pos))
        pos += 4 + blen
    return out


class Reader:
    """Reads fields of one block body; short reads and bad values raise PnioError with
    ``service``/``code1`` and the parameter number given."""

    def __init__(self, body: bytes, service: ErrorCode, code1: int, what: str) -> None:
        self.body = body
        self.pos = 0
        self.service = service
        self.code1 = code1
        self.what = what

    def fail(self, param: int, reason: str) -> PnioError:
        return PnioError(pnio(self.service, self.code1, param), f"{self.what}: {reason}")

    def take(self, n: int, param: int) -> bytes:
        if self.pos + n > len(self.body):
            raise self.fail(PARAM_BLOCK_LENGTH, f"block too short for parameter {param}")
        chunk = self.body[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, param: int) -> int:
        return self.take(1, param)[0]

    def u16(self, param: int) -> int:
        return int.from_bytes(self.take(2, param), "big")

    def u32(self, param: int) -> int:
        return int.from_bytes(self.take(4, param), "big")

    def uuid(self, param: int) -> uuid.UUID:
        return uuid.UUID(bytes=self.take(16, param))

    def check(self, ok: bool, param: int, reason: str) -> None:
        if not ok:
            raise self.fail(param, reason)

    def rest(self) -> bytes:
        chunk = self.body[self.pos :]
        self.pos = len(self.body)
        return chunk

    def at_end(self) -> bool:
        return self.pos >= len(self.body)
