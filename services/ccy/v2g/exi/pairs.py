# SPDX-License-Identifier: Apache-2.0
"""Children of complex type shaped like RationalNumberType, for the codec's fast paths.

ISO 15118-20 gives every physical value as a RationalNumberType (V2G_CI_CommonTypes.xsd):
a sequence of Exponent (xs:byte) and Value (xs:short), both required. Its compiled grammar is
three states of one production each (1-bit event codes, 1 = escape to the second level):
SE(Exponent) with a fused fixed-width value, SE(Value) with an integer, EE. On the wire:
code 0, CH 0 + 8-bit value + EE 0, code 0, CH 0, sign, 7-bit groups, EE 0, code 0. The
decoder and encoder read and write such a child in one step when it is in this plain form
and fall back to the general grammar walk otherwise (so errors are unchanged).
"""

from typing import Any, NamedTuple

from ccy.v2g.exi.compiled import OP_EE, OP_FIXED, OP_SIMPLE, DecodeState

#: Integer descriptors: kind → sign bit or not.
INTEGER_KINDS = {"uint": 0, "int": 1}


class Pair(NamedTuple):
    first_key: str
    fixed: tuple[Any, ...]  # the fused (kind, bits, a, b) of the first element
    second_key: str
    signed: int  # 1 for "int" (a sign bit before the groups), 0 for "uint"
    low: int | None
    high: int | None


_pairs: dict[int, tuple[list[DecodeState], Pair | None]] = {}


def pair_of(grammar: list[DecodeState]) -> Pair | None:
    """The Pair a compiled decode grammar is, or None (memoised by identity)."""
    found = _pairs.get(id(grammar))
    if found is not None and found[0] is grammar:
        return found[1]
    pair = _shape(grammar)
    _pairs[id(grammar)] = (grammar, pair)
    return pair


def _shape(grammar: list[DecodeState]) -> Pair | None:
    if len(grammar) != 3 or any(width != 1 or count != 1 for width, count, _ in grammar):
        return None
    (first,), (second,), (last,) = (productions for _width, _count, productions in grammar)
    if first[0] != OP_FIXED or second[0] != OP_SIMPLE or last[0] != OP_EE:
        return None
    if first[3] != 1 or second[3] != 1 or first[4] or second[4]:
        return None
    signed = INTEGER_KINDS.get(second[2][0])
    if signed is None:
        return None
    return Pair(first[1], first[2], second[1], signed, second[2][1], second[2][2])
