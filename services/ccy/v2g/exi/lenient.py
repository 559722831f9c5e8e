# SPDX-License-Identifier: Apache-2.0
"""Decoding the end of full lists as libcbv2g encodes it (a fallback, requests only).

EXI 1.0 unrolls a list with maxOccurs below its loop threshold (§8.5.4.1.7): after the last
allowed item the item production is gone, so the state that follows has fewer productions
and a narrower event code (e.g. 1 bit for EE alone). libcbv2g (EVerest's C codec, common in
EV test equipment) encodes many such lists as a loop instead: after the last item it still
writes the loop state's wider code for EE, one bit more than the standard (2 bits "01"
where the standard writes "0"). Checked on streams of libcbv2g commit 54fed4d (2025-04-28):
a CM ScheduleExchangeReq with 8 EVPriceRule (maxOccurs 8) and a ServiceDiscoveryReq with
16 SupportedServiceIDs (maxOccurs 16) fail the strict decode; 7 and 15 items decode.

:func:`decode` first decodes strictly (:func:`ccy.v2g.exi.decode`); only when that fails it
decodes again with grammars in which the state after the last item of every unrolled list
is replaced by the state after the item before it (the loop state libcbv2g writes: the item
production first, then the rest with the same codes). A further item there is still refused
(the list bound is checked when it is appended). The strict error is raised when the
lenient decode fails too, so a broken stream reports the standard's view of it. Nothing is
changed for encoding: ccy never sends a full list (ccy.v2g.session).
"""

from typing import Any

from ccy.v2g.exi import ExiError, Namespace
from ccy.v2g.exi import decode as strict_decode
from ccy.v2g.exi.codec import HEADER, MAX_STREAM_BYTES
from ccy.v2g.exi.compiled import OP_COMPLEX, DecodeState, Grammars, build
from ccy.v2g.exi.decoder import Stream
from ccy.v2g.exi.errors import (
    InvalidHeader,
    OversizeStream,
    TrailingData,
    TruncatedStream,
    UnsupportedContent,
    ValueOutOfRange,
)

LOOP_FROM = 1024
"""Lists bounded at this or more are loops already in the standard grammars (gen/grammar.py)."""

_lenient: dict[Namespace, Grammars] = {}


def decode(ns: Namespace, data: bytes) -> dict[str, Any]:
    """Decode ``data`` strictly; if that fails, accept libcbv2g's end of full lists."""
    try:
        return strict_decode(ns, data)
    except ExiError as strict:
        try:
            return decode_lenient(ns, data)
        except ExiError:
            raise strict from None


def decode_lenient(ns: Namespace, data: bytes) -> dict[str, Any]:
    """Decode with the lenient grammars only (see the module docstring)."""
    g = _lenient.get(ns)
    if g is None:
        g = _lenient[ns] = lenient_grammars(ns)
    if len(data) > MAX_STREAM_BYTES:
        raise OversizeStream(f"stream of {len(data)} bytes exceeds {MAX_STREAM_BYTES}", 0)
    stream = Stream(bytes(data))
    if stream.bits(0, 8) != HEADER:
        raise InvalidHeader("EXI header is not 0x80", 0)
    code = stream.bits(8, g.doc_width)
    pos = 8 + g.doc_width
    if code >= len(g.doc) or g.doc[code][1] is None:
        raise ValueOutOfRange(f"event code {code} has no schema-typed grammar", 8)
    name, (op, arg) = g.doc[code]
    if op != OP_COMPLEX:
        raise UnsupportedContent("a simple-typed document is never a request", 8)
    try:
        body, pos = stream.complex(pos, arg[0], 0)
    except RecursionError:
        raise UnsupportedContent("nesting too deep", pos) from None
    used = (pos + 7) // 8
    if used < len(data):
        raise TrailingData(f"{len(data) - used} bytes after the end of the document", pos)
    if used * 8 > stream.nbits:
        raise TruncatedStream("stream ends inside the document", pos)
    return {name: body}


def lenient_grammars(ns: Namespace) -> Grammars:
    """A fresh compile of ``ns``'s grammars with the end of every unrolled list relaxed."""
    g = build(ns.name)
    for grammar in g.decode:
        relax_full_lists(grammar)
    return g


def relax_full_lists(grammar: list[DecodeState]) -> int:
    """Replace, in place, the state after the last item of each unrolled list by the state
    after the item before it (steps moved to the new position). Returns how many."""
    edges: dict[tuple[str, int], dict[int, int]] = {}
    for index, (_width, _count, productions) in enumerate(grammar):
        for _op, key, _arg, step, many in productions:
            if 1 < many < LOOP_FROM:
                edges.setdefault((key, many), {})[index] = index + step
    relaxed = 0
    for (_key, bound), chain in edges.items():
        targets = set(chain.values())
        for start in (s for s in chain if s not in targets):
            positions = [start]
            while len(positions) <= bound and positions[-1] in chain:
                positions.append(chain[positions[-1]])
            if len(positions) != bound + 1:
                continue  # not a plain unrolled run of ``bound`` items
            last, before = positions[bound], positions[bound - 1]
            width, count, productions = grammar[before]
            shift = before - last
            moved = tuple((op, k, a, step + shift, m) for op, k, a, step, m in productions)
            grammar[last] = (width, count, moved)
            relaxed += 1
    return relaxed
