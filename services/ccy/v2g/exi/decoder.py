# SPDX-License-Identifier: Apache-2.0
"""EXI body decoder over the compiled grammars (W3C EXI 1.0 §6–§8, design/v2g.md).

The stream is read by bit position through a bounded bit buffer (:class:`Stream`), so every
field costs the same whatever the stream's length and decoding is linear in it. Positions
are passed along as plain ints.
Datatypes (§7.1): n-bit integers, booleans and enumerations fixed width; unsigned integers in
7-bit groups (least significant first, high bit = more); signed = sign bit + magnitude
(negative v stored as -v-1); strings length+2 then code points (0 and 1 = string-table hits);
hexBinary/base64Binary length then bytes.
"""

import base64
from collections.abc import Sequence
from typing import Any, cast

from ccy.v2g.exi.compiled import (
    CH_KEY,
    FIX_BOOL,
    FIX_NBIT,
    OP_ANY,
    OP_COMPLEX,
    OP_EE,
    OP_FIXED,
    OP_SIMPLE,
    OP_VALUE,
    DecodeState,
    fixed,
)
from ccy.v2g.exi.errors import (
    SecondLevelEvent,
    StringTableHit,
    TruncatedStream,
    UnsupportedContent,
    ValueOutOfRange,
)
from ccy.v2g.exi.walk import OP_PAIR, prepare

MAX_UINT_BITS = 1120  # 160 groups: far above any ISO 15118 value, bounds hostile streams
MAX_DEPTH = 48
START_TAG_SECOND_LEVEL_BITS = 3  # see Stream.empty_content

#: What the reader indexes and slices: ``bytes`` in use; tests pass a counting subclass.
Buffer = Sequence[int]
#: The bit buffer: at most this many bytes of the stream as one integer at a time.
WINDOW_BYTES = 64
#: Reads wider than this go to the bytes directly instead of through the window.
WINDOW_READ_BITS = 8 * WINDOW_BYTES - 7


def read(data: Buffer, pos: int, end: int) -> int:
    """The bits ``pos`` to ``end`` (exclusive) of ``data`` as an unsigned integer.

    The caller has checked ``end <= 8 * len(data)``; only the bytes holding those bits are
    read.
    """
    first = pos >> 3
    last = (end - 1) >> 3
    if last < first:  # k = 0 at a byte boundary
        return 0
    value = int.from_bytes(cast(bytes, data[first : last + 1]), "big")
    return (value >> (-end & 7)) & ((1 << (end - pos)) - 1)


def read_bytes(data: Buffer, pos: int, length: int) -> bytes:
    """``length`` whole bytes from bit ``pos`` (caller checked they are inside the stream)."""
    first = pos >> 3
    offset = pos & 7
    if not offset:
        return bytes(cast(bytes, data[first : first + length]))
    value = int.from_bytes(cast(bytes, data[first : first + length + 1]), "big")
    return ((value >> (8 - offset)) & ((1 << (8 * length)) - 1)).to_bytes(length, "big")


class Stream:
    """A bit reader over the input bytes (``nbits`` = 8 × their length).

    It holds at most :data:`WINDOW_BYTES` of the stream as one integer ``win``: the bytes
    from bit ``wstart`` to bit ``wend``. A field of k bits ending at bit ``end`` inside it is
    ``(win >> (wend - end)) & (2**k - 1)``, a shift of a small integer; a field past ``wend``
    first refills the window from the byte holding the field's first bit. Every read costs
    the same whatever the length of the stream, so decoding is linear in it (ccy issue 10:
    shifting one integer of the whole stream per field made 64 KiB cost 8–16× more per KiB
    than 1 KiB). Fields are read in stream order, so positions never fall before ``wstart``.
    """

    __slots__ = ("data", "nbits", "wend", "win", "wstart")

    def __init__(self, data: bytes) -> None:
        self.data: Buffer = data
        self.nbits = len(data) * 8
        self.win = 0
        self.wstart = 0
        self.wend = 0

    def refill(self, pos: int) -> None:
        """Load the window from the byte holding bit ``pos`` (at most WINDOW_BYTES)."""
        first = pos >> 3
        last = min(first + WINDOW_BYTES, self.nbits >> 3)
        self.win = int.from_bytes(cast(bytes, self.data[first:last]), "big")
        self.wstart = first << 3
        self.wend = last << 3

    def bits(self, pos: int, k: int) -> int:
        end = pos + k
        if end > self.nbits:
            raise TruncatedStream(f"stream ends inside a {k}-bit field", pos)
        if k > WINDOW_READ_BITS:
            return read(self.data, pos, end)
        if end > self.wend or pos < self.wstart:
            self.refill(pos)
        return (self.win >> (self.wend - end)) & ((1 << k) - 1)

    def uint(self, pos: int) -> tuple[int, int]:
        """An unsigned integer in 7-bit groups from bit ``pos``; (value, position after it)."""
        win, wend, nbits = self.win, self.wend, self.nbits
        result = 0
        shift = 0
        while shift < MAX_UINT_BITS:
            end = pos + 8
            if end > wend:
                if end > nbits:
                    raise TruncatedStream("stream ends inside an unsigned integer", pos)
                self.refill(pos)
                win, wend = self.win, self.wend
            group = (win >> (wend - end)) & 0xFF
            pos = end
            result |= (group & 0x7F) << shift
            if group < 0x80:
                return result, pos
            shift += 7
        raise ValueOutOfRange("unsigned integer too long", pos)

    def integer(self, pos: int, desc: tuple[Any, ...]) -> tuple[int, int]:
        """An integer of descriptor ``("uint"|"int", min, max)`` at ``pos``, range-checked:
        unsigned in 7-bit groups; signed = sign bit, then the magnitude (-v-1 if negative)."""
        start = pos
        negative = 0
        if desc[0] == "int":
            end = pos + 1
            if end > self.wend:
                if end > self.nbits:
                    raise TruncatedStream("stream ends inside a 1-bit field", pos)
                self.refill(pos)
            negative = (self.win >> (self.wend - end)) & 1
            pos = end
        win, wend, nbits = self.win, self.wend, self.nbits
        result = 0
        shift = 0
        while True:
            if shift >= MAX_UINT_BITS:
                raise ValueOutOfRange("unsigned integer too long", pos)
            end = pos + 8
            if end > wend:
                if end > nbits:
                    raise TruncatedStream("stream ends inside an unsigned integer", pos)
                self.refill(pos)
                win, wend = self.win, self.wend
            group = (win >> (wend - end)) & 0xFF
            pos = end
            result |= (group & 0x7F) << shift
            if group < 0x80:
                break
            shift += 7
        if negative:
            result = -result - 1
        lo, hi = desc[1], desc[2]
        if (lo is not None and result < lo) or (hi is not None and result > hi):
            raise ValueOutOfRange(f"{result} outside [{lo}, {hi}]", start)
        return result, pos

    def value(self, pos: int, desc: tuple[Any, ...]) -> tuple[Any, int]:
        """Decode one simple value of descriptor ``desc`` at ``pos``."""
        kind = desc[0]
        if kind == "uint" or kind == "int":
            return self.integer(pos, desc)
        if kind == "str":
            return self.string(pos, desc)
        if kind == "hex" or kind == "b64":
            length, end = self.uint(pos)
            _check_length(length, desc, pos)
            if length * 8 > self.nbits - end:
                raise TruncatedStream(f"length {length} exceeds the remaining input", pos)
            raw = read_bytes(self.data, end, length)
            text = raw.hex().upper() if kind == "hex" else base64.b64encode(raw).decode("ascii")
            return text, end + length * 8
        fused = fixed(desc, 0, 0)
        if fused is None:
            raise ValueOutOfRange(f"datatype {desc[1]} not supported", pos)
        return _fixed_value(fused, self.bits(pos, fused[1]), pos), pos + fused[1]

    def string(self, pos: int, desc: tuple[Any, ...]) -> tuple[str, int]:
        code, end = self.uint(pos)
        if code < 2:
            raise StringTableHit("string table hit (string tables are off)", pos)
        length = code - 2
        _check_length(length, desc, pos)
        if length * 8 > self.nbits - end:
            raise TruncatedStream(f"string length {length} exceeds the remaining input", pos)
        if length == 0:
            return "", end
        raw = read_bytes(self.data, end, length)
        if raw.isascii():
            return raw.decode("ascii"), end + length * 8
        chars = []
        for _ in range(length):
            start = end
            point, end = self.uint(end)
            if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
                raise ValueOutOfRange(f"code point {point:#x} is not a character", start)
            chars.append(chr(point))
        return "".join(chars), end

    def empty_content(self, escape: int, pos: int, desc: tuple[Any, ...]) -> tuple[str, int]:
        """The one second-level event accepted: EE where typed character data may start.

        EXI 1.0 §8.5.4.4.1: in non-strict mode, with default fidelity options, the StartTag
        of a typed element has seven second-level productions (EE, AT(xsi:type), AT(xsi:nil),
        AT(*), AT(*) untyped, SE(*), CH untyped), and a later state up to the content has
        five (EE, AT(*), AT(*) untyped, SE(*), CH untyped): 3 bits either way, EE = 0.
        EXIficient (Josev) encodes empty character content that way, in a simple-typed
        element and in the simple content of SignatureValue, where libcbv2g and this codec
        write CH with length 0. Accepted only where the type allows an empty value; anything
        else stays an error at ``escape``, the position of the escape code; ``pos`` is after it.
        """
        code = self.bits(pos, START_TAG_SECOND_LEVEL_BITS)
        if code != 0 or desc[0] not in ("str", "hex", "b64") or desc[1] > 0:
            raise SecondLevelEvent("escape to a second-level event", escape)
        return "", pos + START_TAG_SECOND_LEVEL_BITS

    def pair(
        self, pos: int, arg: tuple[Any, ...], win: int, wend: int
    ) -> tuple[dict[str, Any], int] | None:
        """A RationalNumber-shaped child (see _pair_reader) read from the window at once, or
        None when it is not in its plain form (an escape, a value out of range, the window
        ending inside it), for the caller to read element by element with exact errors."""
        first_key, fixed, second_key, signed, low, high, head, zeros, shift = arg[:9]
        end = pos + head
        if end > wend:
            return None
        bits = (win >> (wend - end)) & ((1 << head) - 1)
        if bits & zeros:
            return None
        _bits, value_mask, _escape, fixed_low, fixed_high, values, _fused = fixed
        raw = (bits >> shift) & (value_mask >> 1)
        if values is None:
            first: Any = raw + fixed_low
            if first > fixed_high:
                return None
        elif raw < fixed_high:
            first = values[raw]
        else:
            return None
        group = bits & 0xFF
        second = group & 0x7F
        step = 7
        while group >= 0x80:
            if step >= MAX_UINT_BITS or end + 8 > wend:
                return None
            end += 8
            group = (win >> (wend - end)) & 0xFF
            second |= (group & 0x7F) << step
            step += 7
        if signed and bits & 0x100:
            second = -second - 1
        if (low is not None and second < low) or (high is not None and second > high):
            return None
        if end + 2 > wend or (win >> (wend - end - 2)) & 3:  # EE of the integer, EE code
            return None
        return {first_key: first, second_key: second}, end + 2

    def complex(self, pos: int, grammar: list[DecodeState], depth: int) -> tuple[Any, int]:
        """Decode the content of a complex-typed element; ``pos`` is after its SE.

        One loop for the whole subtree: a child of complex type pushes its parent's
        (object, grammar, state, key, list bound) on ``parents`` and its EE pops them, so
        nesting costs no call. Event codes, fused fixed-width values, integers and the CH/EE
        bits around simple values are read inline from the window (``win``/``wend``,
        reloaded after every method call, which may refill it).
        """
        if depth > MAX_DEPTH:
            raise UnsupportedContent("nesting too deep", pos)
        walk = prepare(grammar)
        nbits = self.nbits
        win, wend = self.win, self.wend
        parents: list[tuple[Any, ...]] = []
        out: dict[str, Any] = {}
        state = 0
        while True:
            width, mask, count, productions = walk[state]
            end = pos + width
            if end > wend:
                if end > nbits:
                    raise TruncatedStream("stream ends inside an event code", pos)
                self.refill(pos)
                win, wend = self.win, self.wend
            code = (win >> (wend - end)) & mask
            if code >= count:
                if code != count:
                    raise ValueOutOfRange(f"event code {code} undefined ({count} productions)", pos)
                desc = _character_data(productions)
                if desc is None:
                    raise SecondLevelEvent("escape to a second-level event", pos)
                out[CH_KEY], pos = self.empty_content(pos, end, desc)
                win, wend = self.win, self.wend
                op = OP_EE  # the second-level EE ends the element
            else:
                pos = end
                op, key, arg, step, many = productions[code]
                state += step
            if op == OP_FIXED:
                bits, value_mask, escape, low, high, values, fused = arg
                end = pos + bits
                if end > wend:
                    if end > nbits:
                        raise TruncatedStream("stream ends inside a value", pos)
                    self.refill(pos)
                    win, wend = self.win, self.wend
                raw = (win >> (wend - end)) & value_mask
                if raw & escape:  # the CH code (first bit) or the EE code (last bit) escapes
                    at = pos if raw >> (bits - 1) else end - 1
                    raise SecondLevelEvent("escape to a second-level event", at)
                raw >>= 1
                if values is None:
                    item: Any = raw + low
                    if item > high:
                        item = _fixed_value(fused, raw, pos + 1)  # raises ValueOutOfRange
                elif raw < high:
                    item = values[raw]
                else:
                    item = _fixed_value(fused, raw, pos + 1)  # raises ValueOutOfRange
                pos = end
            elif op == OP_PAIR:
                found = self.pair(pos, arg, win, wend)
                if found is None:  # not the plain form: element by element
                    op, arg = OP_COMPLEX, (arg[-1],)
                    if depth + len(parents) >= MAX_DEPTH:
                        raise UnsupportedContent("nesting too deep", pos)
                    parents.append((out, walk, state, key, many))
                    out = {}
                    walk = arg[0]
                    state = 0
                    continue
                item, pos = found
            elif op == OP_COMPLEX:
                if depth + len(parents) >= MAX_DEPTH:
                    raise UnsupportedContent("nesting too deep", pos)
                parents.append((out, walk, state, key, many))
                out = {}
                walk = arg
                state = 0
                continue
            elif op == OP_EE:
                if not parents:
                    return out, pos
                item = out
                out, walk, state, key, many = parents.pop()
            elif op == OP_SIMPLE:
                signed, low, high, desc = arg
                end = pos + 10
                if signed >= 0 and end <= wend and not (win >> (wend - end)) & 0x200:
                    # An integer, the window holding its start: CH code 0, [sign bit],
                    # first 7-bit group read at once (uint: one bit beyond it, unused).
                    head = (win >> (wend - end)) & 0x3FF
                    start = pos + 1
                    if signed:
                        negative = head & 0x100
                        group = head & 0xFF
                        pos = end
                    else:
                        negative = 0
                        group = head >> 1
                        pos = end - 1
                    item = group & 0x7F
                    shift = 7
                    while group >= 0x80:  # further groups, as Stream.integer
                        if shift >= MAX_UINT_BITS:
                            raise ValueOutOfRange("unsigned integer too long", pos)
                        end = pos + 8
                        if end > wend:
                            if end > nbits:
                                raise TruncatedStream("stream ends inside an unsigned integer", pos)
                            self.refill(pos)
                            win, wend = self.win, self.wend
                        group = (win >> (wend - end)) & 0xFF
                        pos = end
                        item |= (group & 0x7F) << shift
                        shift += 7
                    if negative:
                        item = -item - 1
                    if (low is not None and item < low) or (high is not None and item > high):
                        raise ValueOutOfRange(f"{item} outside [{low}, {high}]", start)
                else:  # field by field, with the exact error of each
                    end = pos + 1
                    if end > wend:
                        if end > nbits:
                            raise TruncatedStream("stream ends before character data", pos)
                        self.refill(pos)
                        win, wend = self.win, self.wend
                    if (win >> (wend - end)) & 1:
                        item, pos = self.empty_content(pos, end, desc)
                        win, wend = self.win, self.wend
                        if many:
                            _append(out, key, item, many, pos)
                        else:
                            out[key] = item
                        continue
                    item, pos = self.value(end, desc)
                    win, wend = self.win, self.wend
                end = pos + 1
                if end > wend:
                    if end > nbits:
                        raise TruncatedStream("stream ends inside a 1-bit field", pos)
                    self.refill(pos)
                    win, wend = self.win, self.wend
                if (win >> (wend - end)) & 1:
                    raise SecondLevelEvent("escape to a second-level event", pos)
                pos = end
            elif op == OP_VALUE:
                out[key], pos = self.value(pos, arg)
                win, wend = self.win, self.wend
                continue
            elif op == OP_ANY:
                raise UnsupportedContent("wildcard (xs:any) element content", pos)
            else:
                raise UnsupportedContent("character data in mixed content", pos)
            if many:
                _append(out, key, item, many, pos)
            else:
                out[key] = item


def _append(out: dict[str, Any], key: str, item: Any, many: int, pos: int) -> None:
    """Add an item to the list ``out[key]`` of at most ``many`` items."""
    items = out.get(key)
    if items is None:
        out[key] = [item]
    elif len(items) < many:
        items.append(item)
    else:
        raise ValueOutOfRange(f"more than {many} {key} items", pos)


def _character_data(productions: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The descriptor of the typed character data a state accepts (simple content), if any."""
    for op, key, arg, _step, _many in productions:
        if op == OP_VALUE and key == CH_KEY:
            return cast(tuple[Any, ...], arg)
    return None


def _fixed_value(arg: tuple[Any, ...], raw: int, pos: int) -> Any:
    kind = arg[0]
    if kind == FIX_NBIT:
        value = raw + arg[2]
        if value > arg[3]:
            raise ValueOutOfRange(f"{value} above maximum {arg[3]}", pos)
        return value
    if kind == FIX_BOOL:
        return raw == 1
    if raw >= arg[3]:
        raise ValueOutOfRange(f"enumeration index {raw} of {arg[3]}", pos)
    return arg[2][raw]


def _check_range(value: int, lo: int | None, hi: int | None, pos: int) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueOutOfRange(f"{value} outside [{lo}, {hi}]", pos)


def _check_length(length: int, desc: tuple[Any, ...], pos: int) -> None:
    if length < desc[1] or (desc[2] is not None and length > desc[2]):
        raise ValueOutOfRange(f"length {length} outside [{desc[1]}, {desc[2]}]", pos)
