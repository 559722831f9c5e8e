# SPDX-License-Identifier: Apache-2.0
"""EXI body encoder over the compiled grammars (W3C EXI 1.0 §6–§8, design/v2g.md).

Bits accumulate in one integer ``acc`` of ``n`` bits, passed along as plain ints. Members of
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

MAX_DEPTH = 48
Acc = tuple[int, int]


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
        if not isinstance(item, int) or isinstance(item, bool):
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
    """Append an element's content (after its SE code) up to and including its EE."""
    if op == OP_FIXED:
        return (acc << arg[1]) | (fixed_index(arg, item, name, n) << 1), n + arg[1]
    if op == OP_COMPLEX:
        return complex_(acc, n, arg[1], item, name, depth + 1)
    acc, n = value(acc << 1, n + 1, arg, item, name)
    return acc << 1, n + 1


def complex_(acc: int, n: int, grammar: Any, obj: Any, name: str, depth: int) -> Acc:
    """Append the content of a complex-typed element, trying the object's own order first."""
    if not isinstance(obj, Mapping):
        raise FacetViolation(f"{name}: expected an object, got {type(obj).__name__}", n)
    if depth > MAX_DEPTH:
        raise FacetViolation(f"{name}: nesting too deep", n)
    start = (acc, n)
    state = 0
    for key, item in obj.items():
        ee, width, by_key, _ordered = grammar[state]
        entry = by_key.get(key)
        if entry is None:
            return _in_schema_order(*start, grammar, obj, name, depth)
        code, op, arg, step, many = entry
        if not many:
            state += step
            acc = (acc << width) | code
            n += width
            acc, n = _member(acc, n, op, arg, item, key, depth)
            continue
        _check_list(item, many, name, key, n)
        for index, member in enumerate(item):
            if index:
                ee, width, by_key, _ordered = grammar[state]
                entry = by_key.get(key)
                if entry is None:
                    return _in_schema_order(*start, grammar, obj, name, depth)
                code, op, arg, step, many = entry
            state += step
            acc = (acc << width) | code
            n += width
            acc, n = _member(acc, n, op, arg, member, key, depth)
    ee, width, _by_key, _ordered = grammar[state]
    if ee < 0:
        return _in_schema_order(*start, grammar, obj, name, depth)
    return (acc << width) | ee, n + width


def _member(acc: int, n: int, op: int, arg: Any, item: Any, key: str, depth: int) -> Acc:
    if op in (OP_FIXED, OP_COMPLEX, OP_SIMPLE):
        return element(acc, n, op, arg, item, key, depth)
    return value(acc, n, arg, item, key)


def _in_schema_order(acc: int, n: int, grammar: Any, obj: Any, name: str, depth: int) -> Acc:
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
            acc, n = _member(acc, n, op, arg, item, key, depth)
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
