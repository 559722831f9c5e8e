# SPDX-License-Identifier: Apache-2.0
"""EXI body decoder over the compiled grammars (W3C EXI 1.0 §6–§8, design/v2g.md).

The stream is held as one integer ``v`` of ``nbits`` bits; a field of k bits ending at bit
``end`` is ``(v >> (nbits - end)) & (2**k - 1)``. Positions are passed along as plain ints.
Datatypes (§7.1): n-bit integers, booleans and enumerations fixed width; unsigned integers in
7-bit groups (least significant first, high bit = more); signed = sign bit + magnitude
(negative v stored as -v-1); strings length+2 then code points (0 and 1 = string-table hits);
hexBinary/base64Binary length then bytes.
"""

import base64
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

MAX_UINT_BITS = 1120  # 160 groups: far above any ISO 15118 value, bounds hostile streams
MAX_DEPTH = 48
START_TAG_SECOND_LEVEL_BITS = 3  # see Stream.empty_content


class Stream:
    """The input as one integer; ``nbits`` = 8 × its length."""

    __slots__ = ("nbits", "v")

    def __init__(self, data: bytes) -> None:
        self.v = int.from_bytes(data, "big")
        self.nbits = len(data) * 8

    def bits(self, pos: int, k: int) -> int:
        end = pos + k
        if end > self.nbits:
            raise TruncatedStream(f"stream ends inside a {k}-bit field", pos)
        return (self.v >> (self.nbits - end)) & ((1 << k) - 1)

    def uint(self, pos: int) -> tuple[int, int]:
        v, nbits = self.v, self.nbits
        result = 0
        shift = 0
        while shift < MAX_UINT_BITS:
            end = pos + 8
            if end > nbits:
                raise TruncatedStream("stream ends inside an unsigned integer", pos)
            group = (v >> (nbits - end)) & 0xFF
            pos = end
            result |= (group & 0x7F) << shift
            if group < 0x80:
                return result, pos
            shift += 7
        raise ValueOutOfRange("unsigned integer too long", pos)

    def value(self, pos: int, desc: tuple[Any, ...]) -> tuple[Any, int]:
        """Decode one simple value of descriptor ``desc`` at ``pos``."""
        kind = desc[0]
        if kind == "uint":
            result, end = self.uint(pos)
            _check_range(result, desc[1], desc[2], pos)
            return result, end
        if kind == "int":
            negative = self.bits(pos, 1)
            result, end = self.uint(pos + 1)
            if negative:
                result = -result - 1
            _check_range(result, desc[1], desc[2], pos)
            return result, end
        if kind == "str":
            return self.string(pos, desc)
        if kind == "hex" or kind == "b64":
            length, end = self.uint(pos)
            _check_length(length, desc, pos)
            if length * 8 > self.nbits - end:
                raise TruncatedStream(f"length {length} exceeds the remaining input", pos)
            raw = self.bits(end, length * 8).to_bytes(length, "big")
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
        raw = self.bits(end, length * 8).to_bytes(length, "big")
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

    def complex(self, pos: int, grammar: list[DecodeState], depth: int) -> tuple[Any, int]:
        """Decode the content of a complex-typed element; ``pos`` is after its SE."""
        if depth > MAX_DEPTH:
            raise UnsupportedContent("nesting too deep", pos)
        v, nbits = self.v, self.nbits
        out: dict[str, Any] = {}
        state = 0
        while True:
            width, count, productions = grammar[state]
            end = pos + width
            if end > nbits:
                raise TruncatedStream("stream ends inside an event code", pos)
            code = (v >> (nbits - end)) & ((1 << width) - 1)
            if code >= count:
                if code == count:
                    desc = _character_data(productions)
                    if desc is None:
                        raise SecondLevelEvent("escape to a second-level event", pos)
                    out[CH_KEY], end = self.empty_content(pos, end, desc)
                    return out, end  # the EE ends the element
                raise ValueOutOfRange(f"event code {code} undefined ({count} productions)", pos)
            pos = end
            op, key, arg, step, many = productions[code]
            state += step
            if op == OP_FIXED:
                bits = arg[1]
                end = pos + bits
                if end > nbits:
                    raise TruncatedStream("stream ends inside a value", pos)
                raw = (v >> (nbits - end)) & ((1 << bits) - 1)
                if raw >> (bits - 1) or raw & 1:
                    at = pos if raw >> (bits - 1) else end - 1
                    raise SecondLevelEvent("escape to a second-level event", at)
                item: Any = _fixed_value(arg, raw >> 1, pos + 1)
                pos = end
            elif op == OP_COMPLEX:
                item, pos = self.complex(pos, arg[0], depth + 1)
            elif op == OP_SIMPLE:
                if pos >= nbits:
                    raise TruncatedStream("stream ends before character data", pos)
                if (v >> (nbits - pos - 1)) & 1:
                    item, pos = self.empty_content(pos, pos + 1, arg)
                else:
                    item, pos = self.value(pos + 1, arg)
                    if self.bits(pos, 1):
                        raise SecondLevelEvent("escape to a second-level event", pos)
                    pos += 1
            elif op == OP_EE:
                return out, pos
            elif op == OP_VALUE:
                out[key], pos = self.value(pos, arg)
                continue
            elif op == OP_ANY:
                raise UnsupportedContent("wildcard (xs:any) element content", pos)
            else:
                raise UnsupportedContent("character data in mixed content", pos)
            if many:
                items = out.get(key)
                if items is None:
                    out[key] = [item]
                elif len(items) < many:
                    items.append(item)
                else:
                    raise ValueOutOfRange(f"more than {many} {key} items", pos)
            else:
                out[key] = item


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
