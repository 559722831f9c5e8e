# SPDX-License-Identifier: Apache-2.0
"""Fuzz the safety-link receive path: FrameParser.feed, then decode of every frame.

Nothing may escape ``feed``; only ProtocolError subclasses may escape ``decode``. The input is
cut into chunks at positions taken from its first bytes, so splitting is fuzzed too, and the
result is checked against a single feed of the whole stream. When the first byte is odd the
rest is read as 10-byte records (a noise byte, then COM + data) and turned into well-formed
frames with noise between them, so the decoders are reached despite the CRC.

    python tests/fuzz/fuzz_safety_frames.py -atheris_runs=100000
"""

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from ccy.bsp.protocol.crc import crc8_j1850
    from ccy.bsp.protocol.frame import FRAME_LEN, FrameParser
    from ccy.bsp.protocol.messages import ProtocolError, decode


def structured(data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data) - 9, 10):
        noise, body = data[i], data[i + 1 : i + 10]
        out += bytes((noise,)) * (noise % 3)
        out += b"\xa5" + body + bytes((crc8_j1850(body), 0x03))
    return bytes(out)


def test_one_input(data: bytes) -> None:
    cut_seed, stream = data[1:5], data[5:]
    if data[:1] and data[0] & 1:
        stream = structured(stream)
    whole = FrameParser()
    expected = whole.feed(stream)
    parser = FrameParser()
    got = []
    start = 0
    for seed in cut_seed:
        end = min(len(stream), start + seed % 32)
        got += parser.feed(stream[start:end])
        start = end
    got += parser.feed(stream[start:])
    if got != expected or parser.faults != whole.faults:
        raise AssertionError("chunking changed the parse result")
    if parser.buffered >= FRAME_LEN:
        raise AssertionError(f"parser holds {parser.buffered} bytes")
    for frame in got:
        with contextlib.suppress(ProtocolError):
            decode(frame)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
