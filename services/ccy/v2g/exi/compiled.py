# SPDX-License-Identifier: Apache-2.0
"""Turns the generated tables into the operation tuples the hot paths walk.

Done once per namespace on first use: simple-typed elements whose value has a fixed width
(n-bit integer, boolean, enumeration) become one fused read/write of CH code + value + EE
code; every production carries what it needs so that decoding never looks anything up.
"""

import importlib
from dataclasses import dataclass
from typing import Any

# Production operations.
OP_COMPLEX = 0  # child element with a complex type: arg = compiled grammar
OP_FIXED = 1  # child element, fixed-width simple value: arg = (fix kind, bits, a, b)
OP_SIMPLE = 2  # child element, variable-width simple value: arg = descriptor
OP_EE = 3
OP_VALUE = 4  # attribute or typed character data: arg = descriptor
OP_ANY = 5  # SE(*)
OP_MIXED = 6  # untyped CH in mixed content
CH_KEY = "value"  # the JSON-view key of typed character data in simple content (gen/emit.py)
FIX_NBIT, FIX_BOOL, FIX_ENUM = 0, 1, 2

# A decode state: (code width, number of productions, productions); a production:
# (op, key, arg, step to the next state, list bound or 0). An encode state: (EE code or -1,
# code width, {key: (code, op, arg, step, list bound)}, productions in code order). States
# are shared between positions (steps are relative), see gen/emit.py.
DecodeState = tuple[int, int, tuple[tuple[Any, ...], ...]]


@dataclass
class Grammars:
    """One namespace's compiled grammars."""

    doc_width: int
    doc: tuple[tuple[str, Any], ...]  # (name, (op, arg)) per DocContent code
    doc_index: dict[str, tuple[int, int, Any]]  # name → (code, op, arg)
    decode: list[list[DecodeState]]
    encode: list[list[tuple[Any, ...]]]
    fragment_width: int
    fragment: tuple[tuple[str, Any], ...]  # (name, (op, arg) or None) per FragmentContent code
    fragment_index: dict[str, tuple[int, int, Any]]


def fixed(desc: tuple[Any, ...], ch: int, ee: int) -> tuple[Any, ...] | None:
    """The fused (kind, total bits, a, b) of a fixed-width simple element, else None."""
    if desc[0] == "nbit":
        return (FIX_NBIT, ch + desc[1] + ee, desc[2], desc[3])
    if desc[0] == "bool":
        return (FIX_BOOL, ch + 1 + ee, 0, 1)
    if desc[0] == "enum":
        return (FIX_ENUM, ch + desc[1] + ee, desc[2], len(desc[2]))
    return None


def build(key: str) -> Grammars:
    """Compile ``_tables_<key>.py`` (key: sap, cm, dc, ac)."""
    t = importlib.import_module(f"ccy.v2g.exi._tables_{key.lower()}")
    if t.CH_WIDTH != 1 or t.EE_WIDTH != 1:
        raise ValueError("fused simple elements assume 1-bit CH and EE codes")
    decode: list[list[DecodeState]] = [[] for _ in t.GRAMMARS]
    encode: list[list[tuple[Any, ...]]] = [[] for _ in t.GRAMMARS]

    def element(index: int) -> tuple[int, Any]:
        kind, ref = t.ELEMENTS[index]
        if kind == 1:
            return OP_COMPLEX, ref
        desc = t.SIMPLE[ref]
        fused = fixed(desc, 1, 1)
        return (OP_FIXED, fused) if fused is not None else (OP_SIMPLE, desc)

    pool_decode: list[DecodeState] = []
    pool_encode: list[tuple[Any, ...]] = []
    for width, productions in t.STATES:
        dec = []
        by_key: dict[str, tuple[Any, ...]] = {}
        ee = -1
        ordered = []
        for code, (kind, name, target, nxt, many) in enumerate(productions):
            if kind == 0:
                op, arg = element(target)
                if op == OP_COMPLEX:
                    arg = (decode[arg], encode[arg], arg)
            elif kind == 1 or kind == 3:
                if kind == 1 and name == CH_KEY:
                    raise ValueError(f"attribute {CH_KEY!r} would clash with character data")
                op, arg = OP_VALUE, t.SIMPLE[target]
            elif kind == 2:
                op, arg, ee = OP_EE, None, code
            else:
                op, arg = (OP_ANY if kind == 4 else OP_MIXED), None
            dec.append((op, name, arg, nxt, many))
            if op != OP_EE and op < OP_ANY:
                entry = (code, op, arg, nxt, many)
                by_key.setdefault(name, entry)
                ordered.append((name, entry))
        pool_decode.append((width, len(dec), tuple(dec)))
        pool_encode.append((ee, width, by_key, tuple(ordered)))
    for g, runs in enumerate(t.GRAMMARS):
        for sid, count in runs:
            decode[g].extend([pool_decode[sid]] * count)
            encode[g].extend([pool_encode[sid]] * count)

    def entries(table: Any) -> tuple[list[tuple[str, Any]], dict[str, tuple[int, int, Any]]]:
        found: list[tuple[str, Any]] = []
        index: dict[str, tuple[int, int, Any]] = {}
        for code, (name, element_index) in enumerate(table):
            if element_index < 0:
                found.append((name, None))
                continue
            op, arg = element(element_index)
            if op == OP_COMPLEX:
                arg = (decode[arg], encode[arg], arg)
            found.append((name, (op, arg)))
            index.setdefault(name, (code, op, arg))
        return found, index

    doc, doc_index = entries(t.DOC)
    fragment, fragment_index = entries(t.FRAGMENT)
    return Grammars(
        t.DOC_WIDTH,
        tuple(doc),
        doc_index,
        decode,
        encode,
        t.FRAGMENT_WIDTH,
        tuple(fragment),
        fragment_index,
    )
