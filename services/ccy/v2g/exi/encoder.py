# SPDX-License-Identifier: Apache-2.0
"""EXI body encoder over the compiled grammars (W3C EXI 1.0 §6–§8, design/v2g.md).

Bits accumulate in a small integer ``acc`` (``n`` = bits written in all), passed along as
plain ints, and move to a bytearray in whole bytes whenever ``acc`` grows past
:data:`FLUSH_ABOVE` (:func:`flush`), so encoding is linear in the stream's length. Members of
a JSON object are placed in the object's own order when the grammar allows it (the common
case: objects decoded or built in schema order); otherwise the grammar's productions are
followed in event-code order, taking the first member still pending. Every value is checked
against its schema facets first; breaches raise :class:`FacetViolation`.
"""

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ccy.v2g.exi.compiled import (
    FIX_BOOL,
    FIX_NBIT,
    OP_COMPLEX,
    OP_FIXED,
    OP_SIMPLE,
    fixed,
)
from ccy.v2g.exi.errors import FacetViolation
from ccy.v2g.exi.pairs import Pair, pair_of

MAX_DEPTH = 48
Acc = tuple[int, int]
#: The writer flushes its integer to bytes beyond this (see :func:`flush`).
FLUSH_ABOVE = 1 << 1024


def uint(acc: int, n: int, value: int) -> Acc:
    """Append an unsigned integer in 7-bit groups, least significant first."""
    if value < 0x80:
        return (acc << 8) | value, n + 8
    while value >= 0x80:
        acc = (acc << 8) | 0x80 | (value & 0x7F)
        n += 8
        value >>= 7
    return (acc << 8) | value, n + 8


def fixed_index(arg: tuple[Any, ...], value: Any, name: str, n: int) -> int:
    """The n-bit field of a fixed-width value (offset integer, boolean, enumeration index)."""
    kind = arg[0]
    if kind == FIX_NBIT:
        if not isinstance(value, int) or isinstance(value, bool):
            raise FacetViolation(f"{name}: expected an integer, got {value!r}", n)
        if value < arg[2] or value > arg[3]:
            raise FacetViolation(f"{name}: {value} outside [{arg[2]}, {arg[3]}]", n)
        return value - int(arg[2])
    if kind == FIX_BOOL:
        if not isinstance(value, bool):
            raise FacetViolation(f"{name}: expected a boolean, got {value!r}", n)
        return int(value)
    try:
        index: int = arg[2].index(value)
    except ValueError:
        raise FacetViolation(f"{name}: {value!r} not one of {list(arg[2])}", n) from None
    return index


def value(acc: int, n: int, desc: tuple[Any, ...], item: Any, name: str) -> Acc:
    """Append one simple value of descriptor ``desc``."""
    kind = desc[0]
    if kind == "uint" or kind == "int":
        if type(item) is not int and (not isinstance(item, int) or isinstance(item, bool)):
            raise FacetViolation(f"{name}: expected an integer, got {item!r}", n)
        if (desc[1] is not None and item < desc[1]) or (desc[2] is not None and item > desc[2]):
            raise FacetViolation(f"{name}: {item} outside [{desc[1]}, {desc[2]}]", n)
        if kind == "uint":
            return uint(acc, n, item)
        if item < 0:
            return uint((acc << 1) | 1, n + 1, -item - 1)
        return uint(acc << 1, n + 1, item)
    if kind == "str":
        if not isinstance(item, str):
            raise FacetViolation(f"{name}: expected a string, got {item!r}", n)
        _check_length(len(item), desc, name, n)
        acc, n = uint(acc, n, len(item) + 2)
        if item.isascii():
            if item:
                acc = (acc << (8 * len(item))) | int.from_bytes(item.encode("ascii"), "big")
                n += 8 * len(item)
            return acc, n
        for char in item:
            point = ord(char)
            if 0xD800 <= point <= 0xDFFF:
                raise FacetViolation(f"{name}: lone surrogate in string", n)
            acc, n = uint(acc, n, point)
        return acc, n
    if kind == "hex" or kind == "b64":
        raw = _binary(kind, item, name, n)
        _check_length(len(raw), desc, name, n)
        acc, n = uint(acc, n, len(raw))
        if raw:
            acc = (acc << (8 * len(raw))) | int.from_bytes(raw, "big")
            n += 8 * len(raw)
        return acc, n
    fused = fixed(desc, 0, 0)
    if fused is None:
        raise FacetViolation(f"{name}: datatype {desc[1]} not supported", n)
    return (acc << fused[1]) | fixed_index(fused, item, name, n), n + fused[1]


def element(acc: int, n: int, op: int, arg: Any, item: Any, name: str, depth: int) -> Acc:
    """Append an element's content (after its SE code) up to and including its EE.

    ``acc`` holds the ``n`` bits written so far; the result is the whole stream again (built
    once from the writer's bytes, see :func:`flush`).
    """
    out = bytearray()
    acc, n = _member(out, acc, n, op, arg, item, name, depth)
    if out:
        acc |= int.from_bytes(out, "big") << (n - 8 * len(out))
    return acc, n


def flush(out: bytearray, acc: int, n: int) -> int:
    """Move the whole bytes of ``acc`` to ``out``; the bits left over (fewer than 8).

    The writer's state is ``out`` (bytes done), ``acc`` (the last ``n - 8 * len(out)`` bits)
    and ``n`` (bits written in all, the position errors report). Appending shifts ``acc``,
    so it is flushed whenever it grows past :data:`FLUSH_ABOVE`: each append then costs the
    same whatever the length of the stream, and encoding is linear in it (ccy issue 10).
    """
    held = n - 8 * len(out)
    rest = held & 7
    out += (acc >> rest).to_bytes(held >> 3, "big")
    return acc & ((1 << rest) - 1)


def complex_(
    out: bytearray, acc: int, n: int, grammar: Any, obj: Any, name: str, depth: int
) -> Acc:
    """Append the content of a complex-typed element, trying the object's own order first."""
    if type(obj) is not dict and not isinstance(obj, Mapping):
        raise FacetViolation(f"{name}: expected an object, got {type(obj).__name__}", n)
    if depth > MAX_DEPTH:
        raise FacetViolation(f"{name}: nesting too deep", n)
    start = (acc, n, len(out))
    state = 0
    for key, item in obj.items():
        ee, width, by_key, _ordered = grammar[state]
        entry = by_key.get(key)
        if entry is None:
            return _in_schema_order(out, start, grammar, obj, name, depth)
        code, op, arg, step, many = entry
        if not many:
            state += step
            acc = (acc << width) | code
            n += width
            if op == OP_FIXED:  # the common case inline: n-bit integer or boolean
                kind = arg[0]
                if kind == FIX_NBIT and type(item) is int and arg[2] <= item <= arg[3]:
                    index = item - arg[2]
                elif kind == FIX_BOOL and (item is True or item is False):
                    index = item
                else:
                    index = fixed_index(arg, item, key, n)
                acc = (acc << arg[1]) | (index << 1)
                n += arg[1]
            elif op == OP_COMPLEX:
                pair = pair_of(arg[0])
                written = None if pair is None else _pair(acc, n, pair, item, depth)
                if written is None:
                    acc, n = complex_(out, acc, n, arg[1], item, key, depth + 1)
                else:
                    acc, n = written
            elif op == OP_SIMPLE:
                kind = arg[0]
                if (
                    (kind == "int" or kind == "uint")
                    and type(item) is int
                    and (arg[1] is None or item >= arg[1])
                    and (arg[2] is None or item <= arg[2])
                ):  # a valid integer inline: CH, [sign], 7-bit groups, EE
                    if kind == "uint":
                        acc <<= 1
                        n += 1
                    elif item < 0:
                        acc = (acc << 2) | 1
                        n += 2
                        item = -item - 1
                    else:
                        acc <<= 2
                        n += 2
                    while item >= 0x80:
                        acc = (acc << 8) | 0x80 | (item & 0x7F)
                        n += 8
                        item >>= 7
                    acc = (acc << 9) | (item << 1)
                    n += 9
                else:
                    acc, n = value(acc << 1, n + 1, arg, item, key)
                    acc <<= 1
                    n += 1
            else:
                acc, n = value(acc, n, arg, item, key)
            if acc > FLUSH_ABOVE:
                acc = flush(out, acc, n)
            continue
        _check_list(item, many, name, key, n)
        for index, member in enumerate(item):
            if index:
                ee, width, by_key, _ordered = grammar[state]
                entry = by_key.get(key)
                if entry is None:
                    return _in_schema_order(out, start, grammar, obj, name, depth)
                code, op, arg, step, many = entry
            state += step
            acc = (acc << width) | code
            n += width
            acc, n = _member(out, acc, n, op, arg, member, key, depth)
            if acc > FLUSH_ABOVE:
                acc = flush(out, acc, n)
    ee, width, _by_key, _ordered = grammar[state]
    if ee < 0:
        return _in_schema_order(out, start, grammar, obj, name, depth)
    return (acc << width) | ee, n + width


def _pair(acc: int, n: int, pair: Pair, item: Any, depth: int) -> Acc | None:
    """A RationalNumber-shaped child (ccy.v2g.exi.pairs) in its plain form, written at
    once: two members in schema order, an n-bit first value and an integer, both within
    their facets. None otherwise, for complex_ to write it (or name what is wrong)."""
    fixed = pair.fixed
    if type(item) is not dict or len(item) != 2 or fixed[0] != FIX_NBIT or depth >= MAX_DEPTH:
        return None
    (first_key, first), (second_key, second) = item.items()
    if first_key != pair.first_key or second_key != pair.second_key:
        return None
    if type(first) is not int or not fixed[2] <= first <= fixed[3] or type(second) is not int:
        return None
    low, high = pair.low, pair.high
    if (low is not None and second < low) or (high is not None and second > high):
        return None
    bits = fixed[1]
    acc = (acc << (bits + 3)) | ((first - fixed[2]) << 3)  # code 0, CH 0 value EE 0, code 0, CH 0
    n += bits + 3
    if pair.signed:
        if second < 0:
            acc = (acc << 1) | 1
            second = -second - 1
        else:
            acc <<= 1
        n += 1
    while second >= 0x80:
        acc = (acc << 8) | 0x80 | (second & 0x7F)
        n += 8
        second >>= 7
    return (acc << 10) | (second << 2), n + 10  # last group, EE 0, EE code 0


def _member(
    out: bytearray, acc: int, n: int, op: int, arg: Any, item: Any, key: str, depth: int
) -> Acc:
    """Append a member: a child element (content up to its EE) or an attribute/CH value."""
    if op == OP_FIXED:
        return (acc << arg[1]) | (fixed_index(arg, item, key, n) << 1), n + arg[1]
    if op == OP_COMPLEX:
        return complex_(out, acc, n, arg[1], item, key, depth + 1)
    if op == OP_SIMPLE:
        acc, n = value(acc << 1, n + 1, arg, item, key)
        return acc << 1, n + 1
    return value(acc, n, arg, item, key)


def _in_schema_order(
    out: bytearray, start: tuple[int, int, int], grammar: Any, obj: Any, name: str, depth: int
) -> Acc:
    acc, n, written = start
    del out[written:]  # back to where the element's content began
    used: dict[str, int] = {}
    pending = 0
    for item in obj.values():
        pending += len(item) if isinstance(item, list) else 1
    state = 0
    while True:
        ee, width, _by_key, ordered = grammar[state]
        for key, (code, op, arg, nxt, many) in ordered:
            if key not in obj:
                continue
            count = used.get(key, 0)
            if many:
                items = obj[key]
                _check_list(items, many, name, key, n)
                if count >= len(items):
                    continue
                item = items[count]
            elif count:
                continue
            else:
                item = obj[key]
            used[key] = count + 1
            pending -= 1
            acc = (acc << width) | code
            n += width
            acc, n = _member(out, acc, n, op, arg, item, key, depth)
            if acc > FLUSH_ABOVE:
                acc = flush(out, acc, n)
            state += nxt
            break
        else:
            if ee >= 0 and pending == 0:
                return (acc << width) | ee, n + width
            left = [
                k for k in obj if used.get(k, 0) < (len(obj[k]) if isinstance(obj[k], list) else 1)
            ]
            expected = [k for k, _entry in ordered] + (["end"] if ee >= 0 else [])
            raise FacetViolation(f"{name}: cannot place {left} here (expected {expected})", n)


def _check_list(items: Any, bound: int, name: str, key: str, n: int) -> None:
    if not isinstance(items, list):
        raise FacetViolation(f"{name}.{key}: expected a list", n)
    if len(items) > bound:
        raise FacetViolation(f"{name}.{key}: {len(items)} items, at most {bound}", n)


def _check_length(length: int, desc: tuple[Any, ...], name: str, n: int) -> None:
    if length < desc[1] or (desc[2] is not None and length > desc[2]):
        raise FacetViolation(f"{name}: length {length} outside [{desc[1]}, {desc[2]}]", n)


def _binary(kind: str, item: Any, name: str, n: int) -> bytes:
    if not isinstance(item, str):
        raise FacetViolation(f"{name}: expected a {kind} string, got {item!r}", n)
    try:
        if kind == "hex":
            return bytes.fromhex(item)
        return base64.b64decode(item, validate=True)
    except (ValueError, binascii.Error):
        raise FacetViolation(f"{name}: invalid {kind} value {item!r}", n) from None
