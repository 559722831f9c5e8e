# SPDX-License-Identifier: Apache-2.0
"""The RFID reader's line protocol (pure): what a reader on the serial port sends and gets.

ccy's own simple protocol, for a reader module with a UART (or a USB-serial bridge) and for
the simulator ``ccy.sim.rfid``. ASCII lines, ended by LF (a CR before it is ignored), at most
MAX_LINE characters before the end::

    reader → host
      HELLO <text>     the reader started; <text> names it (firmware, serial number)
      UID <hex>        a card is presented: its ISO/IEC 14443 UID, 8, 14 or 20 hex digits
      ERR <text>       the reader reports a fault (antenna, card read error …)
    host → reader
      OK               the card's token was accepted (the reader may beep or light green)
      NOK <status>     it was refused (Blocked, Expired, Invalid, Unknown …)

Anything else (an unknown word, a malformed UID, a line over MAX_LINE, bytes that are not
printable ASCII) is a :class:`Garbage` event naming the problem, never an exception; the line
is dropped and the next line parsed as usual. The problem never quotes the line (it may hold
a card's UID).
"""

from dataclasses import dataclass

MAX_LINE = 64
OVER_LONG = f"over-long line (more than {MAX_LINE} characters)"
"""One reason whether the line ended in the same read or not (chunking changes no event)."""
"""Characters of one line, without its end."""
_HEX = frozenset("0123456789ABCDEFabcdef")
UID_LENGTHS = (8, 14, 20)


@dataclass(frozen=True)
class Card:
    uid: str
    """Upper-case hex."""


@dataclass(frozen=True)
class Hello:
    text: str


@dataclass(frozen=True)
class ReaderError:
    text: str


@dataclass(frozen=True)
class Garbage:
    reason: str


Event = Card | Hello | ReaderError | Garbage


def parse_line(line: bytes) -> Event:
    """One line without its end (a trailing CR is removed)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > MAX_LINE:
        return Garbage(OVER_LONG)
    if any(b < 0x20 or b > 0x7E for b in line):
        return Garbage("not printable ASCII")
    text = line.decode("ascii")
    word, _, rest = text.partition(" ")
    if word == "UID":
        if not rest or not set(rest) <= _HEX:
            return Garbage("UID without hex digits")
        if len(rest) not in UID_LENGTHS:
            return Garbage(f"UID of {len(rest)} hex digits (8, 14 or 20)")
        return Card(rest.upper())
    if word == "HELLO":
        return Hello(rest)
    if word == "ERR":
        return ReaderError(rest)
    if not text:
        return Garbage("empty line")
    return Garbage(f"unknown line (starts with {word[:8]!r})" if word.isalpha() else "unknown line")


class LineParser:
    """Bytes in, events out; keeps at most MAX_LINE + 1 bytes of an unfinished line."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._discarding = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                self._keep(data[start:], events)
                return events
            piece = data[start:end]
            if self._discarding:
                self._discarding = False
                self._buffer.clear()
            else:
                self._buffer += piece
                events.append(parse_line(bytes(self._buffer)))
                self._buffer.clear()
            start = end + 1

    def _keep(self, rest: bytes, events: list[Event]) -> None:
        if self._discarding:
            return
        self._buffer += rest
        if len(self._buffer) > MAX_LINE + 1:  # + 1: a CR may still come before the LF
            events.append(Garbage(OVER_LONG))
            self._buffer.clear()
            self._discarding = True


def answer(status: str) -> bytes:
    """The host's answer line for a card's validation status."""
    return b"OK\n" if status == "Accepted" else f"NOK {status}\n".encode("ascii")
