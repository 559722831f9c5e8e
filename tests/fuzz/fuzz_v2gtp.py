# SPDX-License-Identifier: Apache-2.0
"""Fuzz the V2GTP receive path: ``decode`` on bytes, and ``read_message`` on a stream.

Only :class:`ccy.v2g.v2gtp.V2gtpError` subclasses may escape. A decoded frame must re-encode
to the bytes it came from, its payload may not exceed the limit, and the stream reader (fed
in chunks cut at positions taken from the input) must agree with ``decode``. The first byte
chooses the limit (64 bytes .. 16 KiB); when it is odd, a valid header is put in front of the
rest, so payload handling is reached as well as header checks.

    python tests/fuzz/fuzz_v2gtp.py -atheris_runs=1000000
"""

import asyncio
import struct
import sys

import atheris

with atheris.instrument_imports():
    from ccy.v2g import v2gtp


async def _read(chunks: list[bytes], limit: int) -> v2gtp.Frame:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    return await v2gtp.read_message(
        reader, max_payload_bytes=limit, message_timeout_s=5, idle_timeout_s=5
    )


_LOOP = asyncio.new_event_loop()


def test_one_input(data: bytes) -> None:
    if not data:
        return
    limit = 64 << (data[0] % 9)
    stream = data[1:]
    if data[0] & 1 and len(stream) >= 2:
        types = sorted(v2gtp.TCP_PAYLOAD_TYPES)
        pt = types[stream[0] % len(types)]
        body = stream[2:]
        stream = struct.pack(">BBHI", 1, 0xFE, pt, max(0, len(body) + stream[1] % 5 - 2)) + body
    try:
        frame, rest = v2gtp.decode(stream, max_payload_bytes=limit)
    except v2gtp.V2gtpError as exc:
        expected: v2gtp.Frame | type[v2gtp.V2gtpError] = type(exc)
    else:
        if len(frame.payload) > limit:
            raise AssertionError("payload over the limit")
        if v2gtp.encode(frame.payload_type, frame.payload) + rest != stream:
            raise AssertionError("re-encoding differs")
        expected = frame
    cuts = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    try:
        got: v2gtp.Frame | type[v2gtp.V2gtpError] = _LOOP.run_until_complete(_read(cuts, limit))
    except v2gtp.V2gtpError as exc:
        got = type(exc)
    if got != expected and not (got is v2gtp.PeerClosed and expected is v2gtp.Truncated):
        raise AssertionError(f"stream reader says {got}, decode says {expected}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
