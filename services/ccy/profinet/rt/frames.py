# SPDX-License-Identifier: Apache-2.0
"""Cyclic RT frames, pure: FrameID, C_SDU (IO data with IOPS, IOCS), CycleCounter (31.25 µs
ticks), DataStatus, TransferStatus; and the frame layout of an IOCR (where each submodule's
data, IOPS and IOCS sit), taken from the IOCR and expected-submodule blocks of the Connect.
"""

import struct
from dataclasses import dataclass

from ccy.profinet.rpc.connect_blocks import IOCR_INPUT, ExpectedSlot, IocrBlockReq

IOXS_GOOD = 0x80
IOXS_BAD = 0x00
DS_PRIMARY = 0x01
DS_VALID = 0x04
DS_RUN = 0x10
DS_STATION_OK = 0x20
DS_GOOD = DS_PRIMARY | DS_VALID | DS_RUN | DS_STATION_OK
"""DataStatus of a provider in data exchange: primary, data valid, run, no problem."""
APDU_STATUS_LEN = 4


class FrameError(ValueError):
    """A cyclic frame that does not fit the IOCR (wrong FrameID or length)."""


@dataclass(frozen=True)
class DataObject:
    slot: int
    subslot: int
    offset: int
    length: int


@dataclass(frozen=True)
class CrLayout:
    """Where things sit in one IOCR's C_SDU."""

    frame_id: int
    data_length: int
    data: tuple[DataObject, ...]
    iocs: tuple[tuple[int, int, int], ...]
    """(slot, subslot, offset) of each consumer status byte."""

    def find(self, slot: int, subslot: int) -> DataObject | None:
        return next((d for d in self.data if (d.slot, d.subslot) == (slot, subslot)), None)


def layout(cr: IocrBlockReq, expected: list[ExpectedSlot]) -> CrLayout:
    sizes = {}
    for slot in expected:
        for sub in slot.submodules:
            size = sub.input_length if cr.iocr_type == IOCR_INPUT else sub.output_length
            sizes[(slot.slot, sub.subslot)] = size
    data = []
    iocs = []
    for api in cr.apis:
        for obj in api.data:
            data.append(
                DataObject(
                    obj.slot, obj.subslot, obj.frame_offset, sizes.get((obj.slot, obj.subslot), 0)
                )
            )
        for obj in api.iocs:
            iocs.append((obj.slot, obj.subslot, obj.frame_offset))
    return CrLayout(cr.frame_id, cr.data_length, tuple(data), tuple(iocs))


def build_c_sdu(
    lay: CrLayout, data: dict[tuple[int, int], tuple[bytes, int]], iocs: dict[tuple[int, int], int]
) -> bytearray:
    """C_SDU with each data object's bytes and IOPS (``data[(slot, subslot)] = (bytes,
    iops)``; missing ones are zeros with IOPS bad) and each IOCS (missing → bad)."""
    sdu = bytearray(lay.data_length)
    for obj in lay.data:
        payload, iops = data.get((obj.slot, obj.subslot), (b"", IOXS_BAD))
        chunk = payload[: obj.length].ljust(obj.length, b"\x00")
        sdu[obj.offset : obj.offset + obj.length] = chunk
        sdu[obj.offset + obj.length] = iops
    for slot, subslot, offset in lay.iocs:
        sdu[offset] = iocs.get((slot, subslot), IOXS_BAD)
    return sdu


def encode_payload(frame_id: int, sdu: bytes, cycle: int, data_status: int) -> bytes:
    """What follows the Ethertype: FrameID, C_SDU, APDU status."""
    return struct.pack(">H", frame_id) + sdu + struct.pack(">HBB", cycle & 0xFFFF, data_status, 0)


@dataclass(frozen=True)
class CyclicFrame:
    frame_id: int
    sdu: bytes
    cycle: int
    data_status: int
    transfer_status: int


def decode_payload(payload: bytes, lay: CrLayout) -> CyclicFrame:
    """The Ethertype's payload of a cyclic frame for ``lay``; FrameError if it does not fit."""
    if len(payload) < 2:
        raise FrameError("no FrameID")
    (frame_id,) = struct.unpack_from(">H", payload)
    if frame_id != lay.frame_id:
        raise FrameError(f"FrameID 0x{frame_id:04X}, expected 0x{lay.frame_id:04X}")
    want = 2 + lay.data_length + APDU_STATUS_LEN
    if len(payload) != want:
        raise FrameError(f"{len(payload)} bytes after the Ethertype, expected {want}")
    sdu = payload[2 : 2 + lay.data_length]
    cycle, ds, ts = struct.unpack_from(">HBB", payload, 2 + lay.data_length)
    return CyclicFrame(frame_id, sdu, cycle, ds, ts)


def newer(cycle: int, last: int | None) -> bool:
    """A cycle counter later than ``last`` (modulo 2^16, within half the range)."""
    if last is None:
        return True
    return 0 < (cycle - last) & 0xFFFF < 0x8000
