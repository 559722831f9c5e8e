# SPDX-License-Identifier: Apache-2.0
"""Framing and resynchronisation (safety-link.md, "Frame")."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ccy.bsp.protocol.crc import crc8_j1850
from ccy.bsp.protocol.frame import (
    FRAME_LEN,
    Com,
    Frame,
    FrameFault,
    FrameParser,
    encode_frame,
)

SEED_FW = Frame(Com.FW_VERSION, 0x0002038203000000)
SEED_FW_BYTES = bytes.fromhex("a50a000203820300000084 03".replace(" ", ""))

frames = st.builds(Frame, st.integers(0, 0xFF), st.integers(0, (1 << 64) - 1))


def contains_sof(data: bytes) -> bool:
    return 0xA5 in data


def test_encode_known_answer() -> None:
    assert encode_frame(SEED_FW) == SEED_FW_BYTES
    assert len(SEED_FW_BYTES) == FRAME_LEN


def test_frame_rejects_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="COM"):
        Frame(0x100, 0)
    with pytest.raises(ValueError, match="64 bits"):
        Frame(0x10, 1 << 64)


def test_one_frame_byte_by_byte() -> None:
    parser = FrameParser()
    got = []
    for byte in SEED_FW_BYTES:
        got += parser.feed(bytes((byte,)))
    assert got == [SEED_FW]
    assert parser.frames == 1
    assert not parser.faults


def test_garbage_before_a_frame_is_counted_and_skipped() -> None:
    parser = FrameParser()
    assert parser.feed(b"\x00\x11\x22" + SEED_FW_BYTES) == [SEED_FW]
    assert parser.faults == {FrameFault.GARBAGE: 3}


def test_sof_inside_garbage_does_not_eat_the_next_frame() -> None:
    parser = FrameParser()
    assert parser.feed(b"\xa5\x10\xa5" + SEED_FW_BYTES) == [SEED_FW]
    assert parser.faults[FrameFault.MISSING_EOF] == 2


def test_bad_crc_is_dropped_and_the_next_frame_kept() -> None:
    bad = bytearray(SEED_FW_BYTES)
    bad[10] ^= 0x01
    parser = FrameParser()
    assert parser.feed(bytes(bad) + SEED_FW_BYTES) == [SEED_FW]
    assert parser.faults[FrameFault.BAD_CRC] == 1


def test_missing_eof_is_dropped_and_the_next_frame_kept() -> None:
    bad = bytearray(SEED_FW_BYTES)
    bad[11] = 0x04
    parser = FrameParser()
    assert parser.feed(bytes(bad) + SEED_FW_BYTES) == [SEED_FW]
    assert parser.faults[FrameFault.MISSING_EOF] == 1


@pytest.mark.parametrize("cut", range(1, FRAME_LEN))
def test_truncated_frame_then_good_frame(cut: int) -> None:
    parser = FrameParser()
    assert parser.feed(SEED_FW_BYTES[:cut] + SEED_FW_BYTES) == [SEED_FW]


def test_take_faults_returns_and_clears_pending_counts() -> None:
    parser = FrameParser()
    parser.feed(b"\x00\x00" + SEED_FW_BYTES)
    assert parser.take_faults() == {FrameFault.GARBAGE: 2}
    assert parser.take_faults() == {}
    assert parser.faults[FrameFault.GARBAGE] == 2
    # Fault names double as counter names for the host's stats.
    assert isinstance(FrameFault.GARBAGE, str)
    assert FrameFault.GARBAGE.value == "garbage_bytes"


def test_on_fault_callback_names_each_fault() -> None:
    seen: list[tuple[FrameFault, int]] = []
    parser = FrameParser(on_fault=lambda fault, n: seen.append((fault, n)))
    bad = bytearray(SEED_FW_BYTES)
    bad[10] ^= 0xFF
    parser.feed(b"\x01\x02" + bytes(bad))
    assert seen[0] == (FrameFault.GARBAGE, 2)
    assert seen[1] == (FrameFault.BAD_CRC, 1)


def test_incomplete_frame_waits_for_more_bytes() -> None:
    parser = FrameParser()
    assert parser.feed(SEED_FW_BYTES[:7]) == []
    assert parser.buffered == 7
    assert parser.feed(SEED_FW_BYTES[7:]) == [SEED_FW]
    assert parser.buffered == 0


def test_memory_stays_bounded_under_a_flood_of_sof_bytes() -> None:
    parser = FrameParser()
    for _ in range(100):
        assert parser.feed(b"\xa5" * 1000) == []
        assert parser.buffered < FRAME_LEN


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes_never_raise_and_stay_bounded(data: bytes) -> None:
    parser = FrameParser()
    for frame in parser.feed(data):
        # Whatever comes out passed the CRC and EOF checks.
        assert encode_frame(frame) in data
    assert parser.buffered < FRAME_LEN


@settings(max_examples=300)
@given(st.binary(max_size=100), st.lists(frames, min_size=1, max_size=5))
def test_good_frames_after_garbage_are_never_lost(garbage: bytes, good: list[Frame]) -> None:
    # A valid frame hidden in the garbage (and overlapping the real ones) would be a real
    # frame on the wire too; such garbage is excluded, every other SOF in garbage is fair.
    stream = garbage + b"".join(encode_frame(f) for f in good)
    starts = [i for i in range(len(garbage)) if stream[i] == 0xA5]
    assume(
        not any(
            len(stream) - i >= FRAME_LEN
            and stream[i + 11] == 0x03
            and crc8_j1850(stream[i + 1 : i + 10]) == stream[i + 10]
            for i in starts
        )
    )
    assert FrameParser().feed(stream) == good


@settings(max_examples=200)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=10))
def test_chunking_does_not_change_the_result(data: bytes, cuts: list[int]) -> None:
    whole = FrameParser()
    expected = whole.feed(data)
    chunked = FrameParser()
    got: list[Frame] = []
    previous = 0
    for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
        got += chunked.feed(data[previous:cut])
        previous = cut
    assert got == expected
    assert chunked.faults == whole.faults
    assert chunked.buffered == whole.buffered


@settings(max_examples=100)
@given(st.lists(frames, max_size=8), st.data())
def test_frames_survive_interleaved_corruption(good: list[Frame], data: st.DataObject) -> None:
    stream = b""
    for frame in good:
        noise = data.draw(st.binary(max_size=20).filter(lambda b: not contains_sof(b)))
        stream += noise + encode_frame(frame)
    assert FrameParser().feed(stream) == good
