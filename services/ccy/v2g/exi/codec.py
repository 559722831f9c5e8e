# SPDX-License-Identifier: Apache-2.0
"""Document level of the EXI codec: header, DocContent, ED, padding (EXI 1.0 §5, §8.5.4.1.2).

Stream layout (design/v2g.md): header byte 0x80 (distinguishing bits 10, no options,
version 1), then DocContent — one SE of a global element, ``doc_width`` bits, codes sorted by
local name then namespace, the last code is SE(*) — the element, ED (no bits since DocEnd
has one production), zero padding to the byte.
"""

from collections.abc import Mapping
from typing import Any

from ccy.v2g.exi import compiled, decoder, encoder
from ccy.v2g.exi.errors import (
    FacetViolation,
    InvalidHeader,
    OversizeStream,
    SecondLevelEvent,
    TrailingData,
    TruncatedStream,
    UnsupportedContent,
    ValueOutOfRange,
)

HEADER = 0x80
FRAGMENT_GRAMMARS = "XMLDSIG"
MAX_STREAM_BYTES = 65536  # far above any ISO 15118-20 message; bounds hostile input
_grammars: dict[str, compiled.Grammars] = {}


def grammars(key: str) -> compiled.Grammars:
    """The compiled grammars of ``SAP|CM|DC|AC|XMLDSIG`` (built once)."""
    found = _grammars.get(key)
    if found is None:
        found = _grammars[key] = compiled.build(key)
    return found


def decode(key: str, data: bytes) -> dict[str, Any]:
    """EXI bytes → JSON view, with the grammars of namespace ``key``."""
    return _decode(key, data, fragment=False)


def decode_fragment(data: bytes, key: str = FRAGMENT_GRAMMARS) -> dict[str, Any]:
    """An EXI fragment (one element, e.g. SignedInfo) → JSON view (§8.5.3), with the fragment
    grammar of ``key`` (``XMLDSIG`` by default, or a namespace as for :func:`encode_fragment`)."""
    return _decode(key, data, fragment=True)


def _decode(key: str, data: bytes, fragment: bool) -> dict[str, Any]:
    g = grammars(key)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidHeader(f"input is {type(data).__name__}, not bytes", 0)
    if len(data) > MAX_STREAM_BYTES:
        raise OversizeStream(f"stream of {len(data)} bytes exceeds {MAX_STREAM_BYTES}", 0)
    stream = decoder.Stream(bytes(data))
    if stream.bits(0, 8) != HEADER:
        raise InvalidHeader("EXI header is not 0x80", 0)
    width, table = (g.fragment_width, g.fragment) if fragment else (g.doc_width, g.doc)
    code = stream.bits(8, width)
    pos = 8 + width
    if code > len(table):
        raise ValueOutOfRange(f"event code {code} undefined ({len(table) + 1} productions)", 8)
    if code == len(table) or table[code][1] is None:
        raise UnsupportedContent("element without a schema-typed grammar (SE(*), relaxed)", 8)
    name, (op, arg) = table[code]
    try:
        if op == compiled.OP_COMPLEX:
            body, pos = stream.complex(pos, arg[0], 0)
        else:
            if stream.bits(pos, 1):
                raise SecondLevelEvent("escape to a second-level event", pos)
            desc = arg if op == compiled.OP_SIMPLE else _desc_of_fixed(arg)
            body, pos = stream.value(pos + 1, desc)
            if stream.bits(pos, 1):
                raise SecondLevelEvent("escape to a second-level event", pos)
            pos += 1
    except RecursionError:
        raise UnsupportedContent("nesting too deep", pos) from None
    if fragment:  # FragmentContent again: ED is the code after SE(*)
        if stream.bits(pos, width) != len(table) + 1:
            raise UnsupportedContent("a fragment of more than one element", pos)
        pos += width
    used = (pos + 7) // 8
    if used < len(data):
        raise TrailingData(f"{len(data) - used} bytes after the end of the document", pos)
    if used * 8 > stream.nbits:
        raise TruncatedStream("stream ends inside the document", pos)
    return {name: body}


def _desc_of_fixed(arg: tuple[Any, ...]) -> tuple[Any, ...]:
    kind, bits = arg[0], arg[1] - 2
    if kind == compiled.FIX_NBIT:
        return ("nbit", bits, arg[2], arg[3])
    if kind == compiled.FIX_BOOL:
        return ("bool",)
    return ("enum", bits, arg[2])


def encode(key: str, doc: Mapping[str, Any]) -> bytes:
    """JSON view → EXI bytes with the grammars of namespace ``key``; facets are checked."""
    return _encode(key, doc, fragment=False)


def encode_fragment(doc: Mapping[str, Any], key: str = FRAGMENT_GRAMMARS) -> bytes:
    """One element (e.g. ``{"SignedInfo": {...}}``) → EXI fragment bytes (§8.5.3):
    header 0x80, FragmentContent SE code, the element, ED code — what gets signed.

    The fragment grammar (EXI 1.0 §8.5.2) of schema set ``key``: every element declaration,
    global and local, sorted by local name then namespace, then SE(*) and ED. ``XMLDSIG``
    (default) is the XMLDSig schema alone, as libcbv2g's ``xmldsigFragment`` coders use for
    SignedInfo; ``CM`` is the -20 CommonMessages set (with CommonTypes and xmldsig: 281
    qnames, 9-bit codes, as libcbv2g's ``iso20_exiFragment`` and EXIficient's fragment mode)
    for the signed elements of a -20 message (PnC_AReqAuthorizationMode)."""
    return _encode(key, doc, fragment=True)


def _encode(key: str, doc: Mapping[str, Any], fragment: bool) -> bytes:
    g = grammars(key)
    if not isinstance(doc, Mapping) or len(doc) != 1:
        raise FacetViolation("document must be an object with exactly one root element", 0)
    ((name, body),) = doc.items()
    width = g.fragment_width if fragment else g.doc_width
    found = (g.fragment_index if fragment else g.doc_index).get(name)
    if found is None:
        raise FacetViolation(f"{name!r} has no schema-typed grammar in this namespace", 0)
    code, op, arg = found
    acc, n = (HEADER << width) | code, 8 + width
    try:
        acc, n = encoder.element(acc, n, op, arg, body, name, 0)
    except RecursionError:
        raise FacetViolation("nesting too deep", n) from None
    if fragment:
        acc, n = (acc << width) | (len(g.fragment) + 1), n + width
    pad = -n % 8
    return (acc << pad).to_bytes((n + pad) // 8, "big")
