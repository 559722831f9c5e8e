# SPDX-License-Identifier: Apache-2.0
"""The codec's work is linear in the stream's length (ccy issue 10), counted, not timed.

Decoding reads the stream by byte offset through a bounded window (decoder.Stream): every
byte is read a bounded number of times, and the reader never holds more of the stream as one
integer than its window. Shifting one integer of the whole stream per field, as the decoder
did before, made a 64 KiB stream cost 8–16× more per KiB than a 1 KiB one. Encoding moves
whole bytes out of its accumulator as it grows (encoder.flush), so each append shifts a small
integer. benchmarks/bench_exi.py measures the time per KiB.
"""

from typing import Any

import pytest

from ccy.testing.vectors import schedule_stream
from ccy.v2g.exi import Namespace, decode, decoder, encode, encoder

SIZES_KIB = (1, 64)
#: The most of the stream the reader may hold as one integer (its window is 64 bytes).
MAX_HELD_BITS = 8 * 256


class CountingBytes(bytes):
    """The stream's bytes, counting those the reader indexes or slices."""

    touched = 0

    def __getitem__(self, index: Any) -> Any:
        got = super().__getitem__(index)
        self.touched += len(got) if isinstance(index, slice) else 1
        return got


class RecordingStream(decoder.Stream):
    """decoder.Stream over CountingBytes, noting the widest integer it ever holds."""

    made: list["RecordingStream"] = []  # noqa: RUF012  (one test at a time)
    widest = 0

    def __init__(self, data: bytes) -> None:
        self.buffer = CountingBytes(data)
        RecordingStream.made.append(self)
        super().__init__(self.buffer)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, int) and name != "nbits":
            object.__setattr__(self, "widest", max(self.widest, value.bit_length()))
        object.__setattr__(self, name, value)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> list[RecordingStream]:
    RecordingStream.made = []
    monkeypatch.setattr(decoder, "Stream", RecordingStream)
    return RecordingStream.made


@pytest.mark.parametrize("kib", SIZES_KIB)
def test_decoding_reads_each_byte_a_bounded_number_of_times(
    recording: list[RecordingStream], kib: int
) -> None:
    view, data = schedule_stream(kib * 1024)
    assert len(data) > (kib - 1) * 1024
    assert decode(Namespace.CM, data) == view
    (stream,) = recording
    # No integer of the whole (remaining) stream: at most one window's worth.
    assert stream.widest <= MAX_HELD_BITS, f"holds a {stream.widest}-bit integer"
    # Every byte is read (through the buffer, by offset), and each one a bounded number of
    # times: window refills overlap by the few bytes of the field that crossed the end.
    size, touched = len(data), stream.buffer.touched
    assert size <= touched <= 2 * size, f"{touched} bytes read of {size}"


def test_encoding_flushes_its_accumulator(monkeypatch: pytest.MonkeyPatch) -> None:
    held: list[int] = []
    flush = encoder.flush

    def recording_flush(out: bytearray, acc: int, n: int) -> int:
        held.append(acc.bit_length())
        return flush(out, acc, n)

    monkeypatch.setattr(encoder, "flush", recording_flush)
    view, data = schedule_stream(64 * 1024)
    assert encode(Namespace.CM, view) == data
    # One flush per ~1 Kibit written, each of an accumulator of about that size.
    assert len(held) >= len(data) * 8 // (2 * encoder.FLUSH_ABOVE.bit_length())
    assert max(held) <= 2 * encoder.FLUSH_ABOVE.bit_length(), max(held)
