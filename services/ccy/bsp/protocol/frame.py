# SPDX-License-Identifier: Apache-2.0
"""12-byte safety-MCU frames and a resynchronising stream parser (safety-link.md, "Frame").

Wire layout::

    0xA5 (SOF) | COM (1) | DATA (8, big-endian 64-bit word) | CRC (1) | 0x03 (EOF)

The CRC is CRC-8/SAE-J1850 over COM and the eight DATA bytes.

Resynchronisation rule of :class:`FrameParser`: a candidate frame starts at every 0xA5. It is
judged only once all 12 of its bytes are present, so the result never depends on how the
stream was cut into chunks. A candidate with a wrong EOF byte or a wrong CRC is rejected and
the scan restarts at the byte after its SOF; a 0xA5 inside garbage therefore never swallows
the real frame that follows it. Bytes before an SOF are counted as skipped garbage. At most
11 bytes (an incomplete candidate) are kept between calls: memory is bounded whatever the input.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ccy.bsp.protocol.crc import crc8_j1850

SOF = 0xA5
EOF = 0x03
FRAME_LEN = 12
DATA_MASK = (1 << 64) - 1


class Com(IntEnum):
    """COM codes (safety-link.md, table "COM")."""

    PT1000_STATE = 0x08
    FW_VERSION = 0x0A
    GIT_HASH = 0x0B
    ERROR_MESSAGE = 0x0E
    CHARGE_STATE2 = 0x10
    CHARGE_CONTROL2 = 0x11
    INQUIRY = 0xFF


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame: the COM byte and the 64-bit big-endian data word."""

    com: int
    data: int

    def __post_init__(self) -> None:
        if not 0 <= self.com <= 0xFF:
            raise ValueError(f"COM 0x{self.com:X} does not fit in one byte")
        if not 0 <= self.data <= DATA_MASK:
            raise ValueError(f"data 0x{self.data:X} does not fit in 64 bits")


def encode_frame(frame: Frame) -> bytes:
    """The 12 wire bytes of ``frame``."""
    body = bytes((frame.com,)) + frame.data.to_bytes(8, "big")
    return bytes((SOF,)) + body + bytes((crc8_j1850(body), EOF))


class FrameFault(StrEnum):
    """Why bytes were dropped. The values double as counter names (``stats[fault]``)."""

    GARBAGE = "garbage_bytes"  # bytes before an SOF that were not part of any frame
    BAD_CRC = "crc_errors"  # a candidate with the right EOF but a wrong CRC
    MISSING_EOF = "eof_errors"  # a candidate whose 12th byte is not 0x03


FaultCallback = Callable[[FrameFault, int], None]


class FrameParser:
    """Cut a byte stream into :class:`Frame` objects, recovering from any corruption.

    ``feed`` never raises for any input. Faults are counted in :attr:`faults` (totals since
    creation) and in a pending counter that :meth:`take_faults` returns and clears (for
    rate-limited logging). ``on_fault``, if given, is called once per fault event with its
    reason and its size (bytes skipped for GARBAGE, 1 for a rejected candidate).
    """

    __slots__ = ("_buf", "_pending", "faults", "frames", "on_fault")

    def __init__(self, on_fault: FaultCallback | None = None) -> None:
        self._buf = bytearray()
        self._pending: Counter[FrameFault] = Counter()
        self.faults: Counter[FrameFault] = Counter()
        self.frames = 0
        self.on_fault = on_fault

    @property
    def buffered(self) -> int:
        """Bytes held back as the start of an incomplete frame (always < 12)."""
        return len(self._buf)

    def take_faults(self) -> dict[FrameFault, int]:
        """Faults counted since the previous call (non-zero entries only), then forget them."""
        pending = {fault: n for fault, n in self._pending.items() if n}
        self._pending.clear()
        return pending

    def _fault(self, fault: FrameFault, count: int) -> None:
        self.faults[fault] += count
        self._pending[fault] += count
        if self.on_fault is not None:
            self.on_fault(fault, count)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Frame]:
        """Append ``chunk`` and return every complete, valid frame now available."""
        buf = self._buf
        buf += chunk
        frames: list[Frame] = []
        pos = 0
        end = len(buf)
        while pos < end:
            sof = buf.find(SOF, pos)
            if sof < 0:
                self._fault(FrameFault.GARBAGE, end - pos)
                pos = end
                break
            if sof > pos:
                self._fault(FrameFault.GARBAGE, sof - pos)
                pos = sof
            if end - sof < FRAME_LEN:
                break
            if buf[sof + 11] != EOF:
                self._fault(FrameFault.MISSING_EOF, 1)
                pos = sof + 1
                continue
            body = buf[sof + 1 : sof + 10]
            if crc8_j1850(body) != buf[sof + 10]:
                self._fault(FrameFault.BAD_CRC, 1)
                pos = sof + 1
                continue
            frames.append(Frame(body[0], int.from_bytes(body[1:], "big")))
            pos = sof + FRAME_LEN
        del buf[:pos]
        self.frames += len(frames)
        return frames
