# SPDX-License-Identifier: Apache-2.0
"""Record access (IODReadReq/Res, IODWriteReq/Res, WriteMultiple), the control blocks
(PrmEnd, ApplicationReady, Release) and the identification records (I&M0–4, I&M0FilterData,
RealIdentificationData), IEC 61158-6-10. Pure: bytes in, bytes out."""

import struct
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ccy.profinet.rpc.model import DeviceModel
from ccy.profinet.rpc.status import Code1, ErrorCode, PnioError, PnioStatus, Rw, rw
from ccy.profinet.rpc.wire import BLOCK_HEADER_LEN, Reader, block

if TYPE_CHECKING:
    from ccy.profinet.dcp.identity import DeviceIdentity

IOD_WRITE_REQ = 0x0008
IOD_READ_REQ = 0x0009
IOD_WRITE_RES = 0x8008
IOD_READ_RES = 0x8009
CONTROL_PRM_END_REQ = 0x0110
CONTROL_APP_READY_REQ = 0x0112
CONTROL_RELEASE_REQ = 0x0114
CONTROL_RES_OFFSET = 0x8000

CMD_PRM_END = 0x0001
CMD_APPLICATION_READY = 0x0002
CMD_RELEASE = 0x0004
CMD_DONE = 0x0008

INDEX_WRITE_MULTIPLE = 0xE040
INDEX_IM0 = 0xAFF0
INDEX_IM4 = 0xAFF4
INDEX_IM0_FILTER = 0xF840
INDEX_REAL_IDENTIFICATION = 0xF000
IOD_HEADER_LEN = 64
"""Every IOD read/write header block is 64 bytes with its header."""

NIL_UUID = uuid.UUID(int=0)
IM0_BLOCK = 0x0020
IM_BLOCKS = {0xAFF1: (0x0021, 54), 0xAFF2: (0x0022, 16), 0xAFF3: (0x0023, 54), 0xAFF4: (0x0024, 54)}
"""I&M1..4: block type and content length."""
IM0_FILTER_SUBMODULE = 0x0030
IM0_FILTER_MODULE = 0x0031
IM0_FILTER_DEVICE = 0x0032
REAL_IDENTIFICATION_BLOCK = 0x0013


@dataclass(frozen=True)
class IodHeader:
    """IODReadReq/IODWriteReq header (the request side)."""

    block_type: int
    seq: int
    ar_uuid: uuid.UUID
    api: int
    slot: int
    subslot: int
    index: int
    length: int
    target_ar_uuid: uuid.UUID = NIL_UUID

    def encode(self) -> bytes:
        body = (
            struct.pack(">H", self.seq)
            + self.ar_uuid.bytes
            + struct.pack(">IHHHHI", self.api, self.slot, self.subslot, 0, self.index, self.length)
        )
        if self.block_type == IOD_READ_REQ and self.target_ar_uuid.int:
            return block(self.block_type, body + self.target_ar_uuid.bytes + bytes(8), (1, 1))
        return block(self.block_type, body + bytes(24))

    @classmethod
    def decode(cls, data: bytes, service: ErrorCode) -> "IodHeader":
        """The 64-byte header at the start of ``data``."""
        r = Reader(data, service, Code1.CMRPC, "IOD header")
        block_type = r.u16(0)
        want = IOD_READ_REQ if service == ErrorCode.READ else IOD_WRITE_REQ
        r.check(block_type == want, 0, f"BlockType 0x{block_type:04X}")
        blen = r.u16(1)
        r.check(blen == IOD_HEADER_LEN - 4, 1, f"BlockLength {blen}")
        vh, vl = r.u8(2), r.u8(3)
        r.check(vh == 1 and vl in (0, 1), 2, f"BlockVersion {vh}.{vl}")
        seq = r.u16(4)
        ar = r.uuid(5)
        api, slot, subslot, _pad, index, length = struct.unpack(">IHHHHI", r.take(16, 6))
        target = r.uuid(7) if vl == 1 and block_type == IOD_READ_REQ else NIL_UUID
        return cls(block_type, seq, ar, api, slot, subslot, index, length, target)


def encode_read_res(req: IodHeader, data: bytes) -> bytes:
    body = (
        struct.pack(">H", req.seq)
        + req.ar_uuid.bytes
        + struct.pack(">IHHHHIHH", req.api, req.slot, req.subslot, 0, req.index, len(data), 0, 0)
        + bytes(20)
    )
    return block(IOD_READ_RES, body) + data


def encode_write_res(req: IodHeader, status: PnioStatus) -> bytes:
    body = (
        struct.pack(">H", req.seq)
        + req.ar_uuid.bytes
        + struct.pack(">IHHHHIHH", req.api, req.slot, req.subslot, 0, req.index, req.length, 0, 0)
        + status.encode()
        + bytes(16)
    )
    return block(IOD_WRITE_RES, body)


@dataclass(frozen=True)
class IodResHeader:
    """A read or write response header as the PLC simulator reads it."""

    block_type: int
    index: int
    length: int
    status: PnioStatus


def decode_res_header(data: bytes) -> IodResHeader:
    r = Reader(data, ErrorCode.READ, Code1.CMRPC, "IOD response header")
    block_type = r.u16(0)
    r.check(r.u16(1) == IOD_HEADER_LEN - 4, 1, "BlockLength")
    r.take(2 + 2 + 16 + 4 + 2 + 2 + 2, 2)
    index = r.u16(3)
    length = r.u32(4)
    r.take(4, 5)
    status = PnioStatus.decode_from(r.take(4, 6)) if block_type == IOD_WRITE_RES else PnioStatus()
    return IodResHeader(block_type, index, length, status)


def split_write_multiple(data: bytes) -> list[tuple[IodHeader, bytes]]:
    """The writes inside an IODWriteMultiple record, each 4-byte aligned."""
    out = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < IOD_HEADER_LEN:
            raise PnioError(
                rw(ErrorCode.WRITE, Rw.WRITE_LENGTH), "truncated write header in WriteMultiple"
            )
        header = IodHeader.decode(data[pos : pos + IOD_HEADER_LEN], ErrorCode.WRITE)
        start = pos + IOD_HEADER_LEN
        if header.index == INDEX_WRITE_MULTIPLE or start + header.length > len(data):
            raise PnioError(rw(ErrorCode.WRITE, Rw.WRITE_LENGTH), "bad write in WriteMultiple")
        out.append((header, data[start : start + header.length]))
        pos = start + header.length
        pos += -pos % 4
    return out


def join_write_multiple(writes: list[tuple[IodHeader, bytes]]) -> bytes:
    out = b""
    for header, data in writes:
        if len(out) % 4:
            out += bytes(-len(out) % 4)
        out += header.encode() + data
    return out


@dataclass(frozen=True)
class ControlBlock:
    block_type: int
    ar_uuid: uuid.UUID
    session_key: int
    command: int
    properties: int = 0

    def encode(self) -> bytes:
        body = (
            bytes(2)
            + self.ar_uuid.bytes
            + struct.pack(">HHHH", self.session_key, 0, self.command, self.properties)
        )
        return block(self.block_type, body)

    @classmethod
    def decode(cls, block_type: int, body: bytes, service: ErrorCode, code1: int) -> "ControlBlock":
        r = Reader(body, service, code1, f"IODControl 0x{block_type:04X}")
        r.take(2, 4)
        ar = r.uuid(5)
        key = r.u16(6)
        r.take(2, 7)
        command = r.u16(8)
        props = r.u16(9)
        r.check(r.at_end(), 1, "bytes after ControlBlockProperties")
        return cls(block_type, ar, key, command, props)


@dataclass
class ImData:
    """Identification & maintenance data (I&M0 read-only, I&M1–4 written by the engineering
    tool and kept by the unit)."""

    vendor_id: int
    device_id: int
    order_id: str
    serial_number: str
    hw_revision: int = 1
    sw_revision: tuple[str, int, int, int] = ("V", 1, 0, 0)
    revision_counter: int = 0
    profile_id: int = 0
    profile_specific_type: int = 0
    im1_tag_function: str = ""
    im1_tag_location: str = ""
    im2_date: str = ""
    im3_descriptor: str = ""
    im4_signature: bytes = b""

    def im0(self) -> bytes:
        prefix, x, y, z = self.sw_revision
        body = (
            struct.pack(">H", self.vendor_id)
            + _visible(self.order_id, 20)
            + _visible(self.serial_number, 16)
            + struct.pack(">H", self.hw_revision)
            + struct.pack(">cBBB", prefix.encode(), x, y, z)
            + struct.pack(
                ">HHHBBH",
                self.revision_counter,
                self.profile_id,
                self.profile_specific_type,
                1,
                1,
                0x001E,
            )
        )
        return block(IM0_BLOCK, body)

    def im(self, index: int) -> bytes:
        block_type, _size = IM_BLOCKS[index]
        if index == 0xAFF1:
            body = _visible(self.im1_tag_function, 32) + _visible(self.im1_tag_location, 22)
        elif index == 0xAFF2:
            body = _visible(self.im2_date, 16)
        elif index == 0xAFF3:
            body = _visible(self.im3_descriptor, 54)
        else:
            body = self.im4_signature.ljust(54, b"\x00")[:54]
        return block(block_type, body)

    def write_im(self, index: int, data: bytes) -> None:
        """Apply a written I&M1–4 record; PnioError when malformed.

        The record is the block (header + content) as IEC 61158-6-10 and Wireshark read it.
        Two variants seen in other stacks are accepted too: the content alone (what p-net
        parses) and header + 2 padding bytes + content (what profinet-py 0.6 writes)."""
        block_type, size = IM_BLOCKS[index]
        if len(data) == size:
            body = data
        elif len(data) in (BLOCK_HEADER_LEN + size, BLOCK_HEADER_LEN + 2 + size):
            got_type, got_len = struct.unpack_from(">HH", data, 0)
            padded = len(data) - BLOCK_HEADER_LEN - size
            if got_type != block_type or got_len != size + 2 + padded:
                raise PnioError(rw(ErrorCode.WRITE, Rw.INVALID_TYPE), "wrong I&M block header")
            body = data[BLOCK_HEADER_LEN + padded :]
        else:
            raise PnioError(rw(ErrorCode.WRITE, Rw.WRITE_LENGTH), f"I&M record of {len(data)} B")
        text = body.decode("latin-1")
        if index != 0xAFF4 and any(not 0x20 <= b <= 0x7E for b in body):
            raise PnioError(rw(ErrorCode.WRITE, Rw.INVALID_PARAMETER), "I&M text not visible")
        if index == 0xAFF1:
            self.im1_tag_function, self.im1_tag_location = text[:32].rstrip(), text[32:].rstrip()
        elif index == 0xAFF2:
            self.im2_date = text.rstrip()
        elif index == 0xAFF3:
            self.im3_descriptor = text.rstrip()
        else:
            self.im4_signature = bytes(body)


def _visible(text: str, size: int) -> bytes:
    raw = text.encode("ascii", "replace")[:size]
    return raw.ljust(size, b" ")


def decode_im0(data: bytes) -> dict[str, object]:
    """I&M0 record → fields (for tests and the PLC simulator)."""
    if len(data) < 60 or struct.unpack_from(">H", data)[0] != IM0_BLOCK:
        raise ValueError("not an I&M0 block")
    b = data[6:]
    return {
        "vendor_id": struct.unpack_from(">H", b, 0)[0],
        "order_id": b[2:22].decode("ascii").rstrip(),
        "serial_number": b[22:38].decode("ascii").rstrip(),
        "hw_revision": struct.unpack_from(">H", b, 38)[0],
        "sw_revision": (chr(b[40]), b[41], b[42], b[43]),
        "im_version": (b[50], b[51]),
        "im_supported": struct.unpack_from(">H", b, 52)[0],
    }


def im0_filter_data(model: DeviceModel) -> bytes:
    """I&M0FilterData: which submodules carry I&M0 (only the DAP's first submodule, which
    stands for every module and the device)."""
    dap = model.modules[0]
    first = dap.submodules[0]
    entry = (
        struct.pack(">HIH", 1, 0, 1)
        + struct.pack(">HIH", dap.slot, dap.ident, 1)
        + struct.pack(">HI", first.subslot, first.ident)
    )
    return (
        block(IM0_FILTER_SUBMODULE, entry)
        + block(IM0_FILTER_MODULE, entry)
        + block(IM0_FILTER_DEVICE, entry)
    )


def real_identification(model: DeviceModel) -> bytes:
    """RealIdentificationData (block 0x0013, version 1.1: per API, slot, subslot)."""
    body = struct.pack(">HIH", 1, 0, len(model.modules))
    for m in model.modules:
        body += struct.pack(">HIH", m.slot, m.ident, len(m.submodules))
        for s in m.submodules:
            body += struct.pack(">HI", s.subslot, s.ident)
    return block(REAL_IDENTIFICATION_BLOCK, body, (1, 1))


def im_from_identity(identity: "DeviceIdentity", serial_number: str) -> ImData:
    """I&M0 from the device identity (ccy.profinet.dcp.identity.IDENTITY), so VendorID,
    DeviceID, OrderID and revisions equal what DCP and the GSDML say."""
    return ImData(
        vendor_id=identity.vendor_id,
        device_id=identity.device_id,
        order_id=identity.order_id,
        serial_number=serial_number,
        hw_revision=identity.hw_revision,
        sw_revision=identity.sw_revision,
        revision_counter=identity.revision_counter,
        profile_id=identity.profile_id,
        profile_specific_type=identity.profile_specific_type,
    )
