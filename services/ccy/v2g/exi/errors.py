# SPDX-License-Identifier: Apache-2.0
"""Named errors of the EXI codec.

Every failure of :func:`ccy.v2g.exi.decode` / :func:`ccy.v2g.exi.encode` is a subclass of
:class:`ExiError` carrying ``bit_position``: the offset in bits from the start of the stream
(header included) at which the problem was found (for encode: bits written so far).
"""


class ExiError(Exception):
    """Base of all codec errors (W3C EXI 1.0 applied to ISO 15118-20, see design/v2g.md)."""

    def __init__(self, message: str, bit_position: int = 0) -> None:
        super().__init__(f"{message} (at bit {bit_position})")
        self.message = message
        self.bit_position = bit_position


class TruncatedStream(ExiError):
    """The stream ended before the document did (or a length points past the end)."""


class InvalidHeader(ExiError):
    """The EXI header is not the single byte 0x80 (EXI 1.0 §5; design/v2g.md)."""


class SecondLevelEvent(ExiError):
    """An event code escaped to the second level (xsi:type, xsi:nil, undeclared AT/SE/CH...).

    Non-strict grammars reserve these codes (EXI 1.0 §8.5.4.4.1); ISO 15118 encoders never
    emit them, so this codec rejects them.
    """


class StringTableHit(ExiError):
    """A string value referenced the string table (codes 0 and 1, EXI 1.0 §7.3.3); the
    reference encoders run with valuePartitionCapacity 0, so a hit is never valid here."""


class UnsupportedContent(ExiError):
    """Content the codec does not model: wildcard (xs:any) elements, mixed-content text."""


class ValueOutOfRange(ExiError):
    """A decoded value breaks a schema facet (enumeration index, length, range), or an event
    code names no production."""


class FacetViolation(ExiError):
    """A value to encode breaks its schema type: facet, type or missing/extra element."""


class OversizeStream(ExiError):
    """The input is larger than any ISO 15118-20 message may be (checked before decoding)."""


class TrailingData(ExiError):
    """Non-zero data after the end of the document (beyond byte padding)."""
