# SPDX-License-Identifier: Apache-2.0
"""The simulator's own frame codec, written from safety-link.md ("Frame") alone.

Deliberately independent of ccy-bsp (no import from ``ccy.bsp``): a mistake in one codec is
then caught by the other in the bus tests, instead of passing both. Wire layout::

    0xA5 (SOF) | COM (1) | DATA (8 bytes, the 64-bit word big-endian) | CRC (1) | 0x03 (EOF)

CRC-8 SAE J1850 over the nine bytes COM+DATA: polynomial 0x1D, initial value 0xFF, final XOR
0xFF, no reflection. Computed here bit by bit (the host uses a table), so the two
implementations share nothing but the parameters.

:class:`FrameReader` resynchronises the way the note asks: every 0xA5 may start a frame; a
candidate is judged when all 12 bytes are there; a wrong EOF or CRC discards only that SOF byte
and the search goes on from the next byte, so a 0xA5 inside garbage never hides a good frame.
"""

from collections import Counter
from dataclasses import dataclass

SOF = 0xA5
EOF = 0x03
FRAME_LEN = 12  # SOF + COM + 8 DATA + CRC + EOF
_CRC_POLY = 0x1D
_CRC_INIT = 0xFF
_CRC_XOROUT = 0xFF
WORD_MASK = (1 << 64) - 1


def crc8_sae_j1850(data: bytes | bytearray | memoryview) -> int:
    """CRC-8 SAE J1850 (poly 0x1D, init 0xFF, xorout 0xFF, not reflected), bit by bit."""
    crc = _CRC_INIT
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1) ^ _CRC_POLY if crc & 0x80 else crc << 1
            crc &= 0xFF
    return crc ^ _CRC_XOROUT


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One frame as numbers: the COM byte and the 64-bit data word."""

    com: int
    data: int

    def __post_init__(self) -> None:
        if not 0 <= self.com <= 0xFF:
            raise ValueError(f"COM {self.com:#x} does not fit one byte (0..0xFF)")
        if not 0 <= self.data <= WORD_MASK:
            raise ValueError(f"data {self.data:#x} does not fit 64 bits")

    def to_bytes(self) -> bytes:
        """The 12 bytes on the wire."""
        body = bytes((self.com,)) + self.data.to_bytes(8, "big")
        return bytes((SOF,)) + body + bytes((crc8_sae_j1850(body), EOF))


class FrameReader:
    """Cut a byte stream into :class:`RawFrame` objects; never raises for any input.

    ``counts`` totals what was dropped: ``garbage_bytes`` (bytes outside any frame),
    ``bad_crc`` and ``missing_eof`` (rejected candidates). Fewer than 12 bytes are kept
    between calls.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.counts: Counter[str] = Counter()

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[RawFrame]:
        buf = self._buf
        buf += chunk
        frames: list[RawFrame] = []
        start = 0
        while True:
            sof = buf.find(SOF, start)
            if sof < 0:
                self.counts["garbage_bytes"] += len(buf) - start
                start = len(buf)
                break
            self.counts["garbage_bytes"] += sof - start
            start = sof
            if len(buf) - sof < FRAME_LEN:
                break  # wait for the rest of this candidate
            candidate = bytes(buf[sof : sof + FRAME_LEN])
            if candidate[11] != EOF:
                self.counts["missing_eof"] += 1
                start = sof + 1
            elif crc8_sae_j1850(candidate[1:10]) != candidate[10]:
                self.counts["bad_crc"] += 1
                start = sof + 1
            else:
                frames.append(RawFrame(candidate[1], int.from_bytes(candidate[2:10], "big")))
                start = sof + FRAME_LEN
        del buf[:start]
        return frames
