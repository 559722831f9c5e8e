# SPDX-License-Identifier: Apache-2.0
"""Schema-informed EXI codec for ISO 15118-20 (W3C EXI 1.0; facts in shared/design/v2g.md).

Non-strict, bit-packed, default fidelity options, header 0x80, string tables never hit on
encode. The grammars are generated from the unmodified ISO XSDs in ``schemas/`` by
``python -m ccy.v2g.exi.gen`` into ``_tables_<ns>.py`` (checked in; a test regenerates them).

Public API (stable, also used by the oracle tests):

* :class:`Namespace` — SAP, CM, DC, AC; value = namespace URI; :meth:`Namespace.from_key`.
* :func:`decode` — EXI bytes → JSON view (``{"DC_ChargeLoopReq": {...}}``, one root key).
* :func:`encode` — JSON view → EXI bytes; values are checked against the schema facets.
* :func:`encode_fragment` / :func:`decode_fragment` — one element as an EXI fragment
  (XMLDSig SignedInfo, or with ``ns=Namespace.CM`` a signed -20 element such as
  PnC_AReqAuthorizationMode, for Plug & Charge signatures).
* :class:`Message` — typed, attribute-access view of one message (see ``message.py``).
* :class:`ExiError` and its named subclasses, each with ``bit_position``.

JSON view (design/v2g.md): element and attribute local names as keys, elements that may occur
more than once (maxOccurs > 1 in their content model) always as lists, hexBinary as upper-case
hex, base64Binary as base64, enumerations as their string, empty complex types as ``{}``; the
value of an element with simple content and attributes (XMLDSig ``SignatureValue``) under the
key ``"value"`` (as Josev's codec names it). Not modelled (decode raises
:class:`UnsupportedContent`): xs:any wildcard content and character data in mixed content
(XMLDSig extension points, unused by ISO 15118).
"""

import enum
from collections.abc import Mapping
from typing import Any

from ccy.v2g.exi.errors import (
    ExiError,
    FacetViolation,
    InvalidHeader,
    OversizeStream,
    SecondLevelEvent,
    StringTableHit,
    TrailingData,
    TruncatedStream,
    UnsupportedContent,
    ValueOutOfRange,
)


class Namespace(enum.Enum):
    """The four grammar sets (V2GTP payload types 0x8001..0x8004, design/v2g.md)."""

    SAP = "urn:iso:15118:2:2010:AppProtocol"
    CM = "urn:iso:std:iso:15118:-20:CommonMessages"
    DC = "urn:iso:std:iso:15118:-20:DC"
    AC = "urn:iso:std:iso:15118:-20:AC"

    @classmethod
    def from_key(cls, key: str) -> "Namespace":
        """``"sap"|"cm"|"dc"|"ac"`` in any case, or the namespace URI itself."""
        for member in cls:
            if key.upper() == member.name or key == member.value:
                return member
        raise ValueError(f"unknown EXI namespace {key!r} (sap, cm, dc, ac)")


def decode(ns: Namespace, data: bytes) -> dict[str, Any]:
    """Decode one EXI document with the grammars of ``ns`` into the JSON view."""
    from ccy.v2g.exi import codec

    return codec.decode(ns.name, data)


def encode(ns: Namespace, doc: Mapping[str, Any]) -> bytes:
    """Encode the JSON view ``doc`` (one root key) with the grammars of ``ns``."""
    from ccy.v2g.exi import codec

    return codec.encode(ns.name, doc)


def encode_fragment(doc: Mapping[str, Any], ns: Namespace | None = None) -> bytes:
    """Encode one element as an EXI fragment (EXI 1.0 §8.5.2/§8.5.3): the bytes a Plug &
    Charge signature is computed over.

    ``ns=None``: the XMLDSig fragment grammar (``{"SignedInfo": {...}}``, what SignatureValue
    signs). ``ns=Namespace.CM``: the -20 CommonMessages fragment grammar, for the elements a
    Reference points at (``{"PnC_AReqAuthorizationMode": {...}}``, whose SHA-512 is the
    DigestValue)."""
    from ccy.v2g.exi import codec

    return codec.encode_fragment(doc, codec.FRAGMENT_GRAMMARS if ns is None else ns.name)


def decode_fragment(data: bytes, ns: Namespace | None = None) -> dict[str, Any]:
    """Decode an EXI fragment (the inverse of :func:`encode_fragment`, same ``ns``)."""
    from ccy.v2g.exi import codec

    return codec.decode_fragment(data, codec.FRAGMENT_GRAMMARS if ns is None else ns.name)


from ccy.v2g.exi.message import Message  # noqa: E402  (needs Namespace)

__all__ = [
    "ExiError",
    "FacetViolation",
    "InvalidHeader",
    "Message",
    "Namespace",
    "OversizeStream",
    "SecondLevelEvent",
    "StringTableHit",
    "TrailingData",
    "TruncatedStream",
    "UnsupportedContent",
    "ValueOutOfRange",
    "decode",
    "decode_fragment",
    "encode",
    "encode_fragment",
]
