# SPDX-License-Identifier: Apache-2.0
"""Fuzz the RFID line parser: any bytes, cut anywhere, give events, never an exception.

The stream is fed once whole and once in chunks cut at positions taken from the first bytes;
both must give the same events, the parser must never hold more than MAX_LINE + 1 bytes, and
every Card must carry 8, 14 or 20 upper-case hex digits. When the first byte is odd the rest
is turned into protocol-like lines (UID/HELLO/ERR words with fuzzed tails) so the word
branches are reached.

    python tests/fuzz/fuzz_rfid_line.py -atheris_runs=100000
"""

import sys

import atheris

with atheris.instrument_imports():
    from ccy.auth.providers.rfid_protocol import MAX_LINE, UID_LENGTHS, Card, LineParser

WORDS = (b"UID ", b"HELLO ", b"ERR ", b"", b"UID")
HEX = set("0123456789ABCDEF")


def structured(data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data) - 1, 12):
        word = WORDS[data[i] % len(WORDS)]
        out += word + data[i + 1 : i + 12] + (b"\r\n" if data[i] & 8 else b"\n")
    return bytes(out)


def test_one_input(data: bytes) -> None:
    cuts, stream = data[1:5], data[5:]
    if data[:1] and data[0] & 1:
        stream = structured(stream)
    whole = LineParser().feed(stream)
    parser = LineParser()
    got = []
    start = 0
    for seed in cuts:
        end = min(len(stream), start + seed % 40)
        got += parser.feed(stream[start:end])
        start = end
        if parser.buffered > MAX_LINE + 1:
            raise AssertionError(f"parser holds {parser.buffered} bytes")
    got += parser.feed(stream[start:])
    if got != whole:
        raise AssertionError("chunking changed the events")
    for event in got:
        if isinstance(event, Card) and (len(event.uid) not in UID_LENGTHS or set(event.uid) - HEX):
            raise AssertionError(f"bad card uid {event.uid!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
