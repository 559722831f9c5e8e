# SPDX-License-Identifier: Apache-2.0
"""The compiled grammars in the form the decoder walks (decoder.Stream.complex).

Built once per grammar from compiled.DecodeState, so the hot loop unpacks what it needs in
one step instead of indexing: each state carries its code mask; a fused fixed-width element
its value mask, escape mask and how its value maps (n-bit offset, or a table of booleans or
enumeration values); a simple element whether it is an integer; a child of complex type its
own walked grammar, or, when it is shaped like RationalNumberType (ccy.v2g.exi.pairs), what
the decoder needs to read it in one step (:data:`OP_PAIR`).
"""

from typing import Any

from ccy.v2g.exi.compiled import FIX_BOOL, FIX_NBIT, OP_COMPLEX, OP_FIXED, OP_SIMPLE, DecodeState
from ccy.v2g.exi.pairs import INTEGER_KINDS, pair_of

#: A state as the decoder walks it: (code width, code mask, number of productions,
#: productions); production args as fixed_reader, pair_reader and prepare make them.
Prepared = list[tuple[int, int, int, tuple[tuple[Any, ...], ...]]]
_prepared: dict[int, tuple[list[DecodeState], Prepared]] = {}


def prepare(grammar: list[DecodeState]) -> Prepared:
    """The decoder's form of a compiled grammar, built once (with every grammar it reaches)
    and published whole, so a concurrent decode never sees one half-built."""
    found = _prepared.get(id(grammar))
    if found is not None and found[0] is grammar:
        return found[1]
    built: dict[int, tuple[list[DecodeState], Prepared]] = {}
    result = _build(grammar, built)
    _prepared.update(built)
    return result


def _build(
    grammar: list[DecodeState], built: dict[int, tuple[list[DecodeState], Prepared]]
) -> Prepared:
    for known in (_prepared, built):  # recursive types reach their own grammar again
        found = known.get(id(grammar))
        if found is not None and found[0] is grammar:
            return found[1]
    result: Prepared = []
    built[id(grammar)] = (grammar, result)
    for width, count, productions in grammar:
        steps = []
        for op, key, arg, step, many in productions:
            if op == OP_FIXED:
                arg = fixed_reader(arg)
            elif op == OP_COMPLEX:
                pair = pair_reader(arg[0])
                arg = _build(arg[0], built)
                if pair is not None:
                    op, arg = OP_PAIR, (*pair, arg)
            elif op == OP_SIMPLE:  # (1 signed, 0 unsigned, -1 other; min; max; descriptor)
                signed = INTEGER_KINDS.get(arg[0], -1)
                arg = (signed, arg[1], arg[2], arg) if signed >= 0 else (-1, None, None, arg)
            steps.append((op, key, arg, step, many))
        result.append((width, (1 << width) - 1, count, tuple(steps)))
    return result


#: Decoder-private operation: a RationalNumber-shaped child (ccy.v2g.exi.pairs).
OP_PAIR = 100


def pair_reader(grammar: list[DecodeState]) -> tuple[Any, ...] | None:
    """How to read a RationalNumber-shaped child at once (pairs.pair_of), or None.

    Its bits: code 0, CH 0 + fixed value + EE 0, code 0, CH 0, [sign], 7-bit groups,
    EE 0, code 0. Returns (first key, its reader, second key, signed, min, max, bits up to
    the first group, mask of the bits that must be 0, shift of the first value).
    """
    pair = pair_of(grammar)
    if pair is None:
        return None
    fixed_bits, signed = pair.fixed[1], pair.signed
    head = 1 + fixed_bits + 2 + signed + 8  # through the first 7-bit group
    zeros = (1 << (head - 1)) | (1 << (head - 2))  # SE code, CH of the first value
    zeros |= (1 << (head - 1 - fixed_bits)) | (1 << (head - 2 - fixed_bits))  # its EE, SE code
    zeros |= 1 << (8 + signed)  # CH of the integer
    reader = fixed_reader(pair.fixed)
    return (
        pair.first_key,
        reader,
        pair.second_key,
        signed,
        pair.low,
        pair.high,
        head,
        zeros,
        head - fixed_bits,
    )


def fixed_reader(arg: tuple[Any, ...]) -> tuple[Any, ...]:
    """(bits, mask, escape mask, low, high, values, arg) of a fused fixed-width element:
    n-bit integers are raw + low up to high; booleans and enumerations are values[raw] for
    raw < high (the number of values)."""
    kind, bits = arg[0], arg[1]
    mask, escape = (1 << bits) - 1, (1 << (bits - 1)) | 1
    if kind == FIX_NBIT:
        return (bits, mask, escape, arg[2], arg[3], None, arg)
    if kind == FIX_BOOL:
        return (bits, mask, escape, 0, 2, (False, True), arg)
    return (bits, mask, escape, 0, arg[3], arg[2], arg)
