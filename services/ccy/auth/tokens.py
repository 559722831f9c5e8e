# SPDX-License-Identifier: Apache-2.0
"""Tokens as ccy-auth holds them, and their syntax per type (pure).

A :class:`Token` keeps the clear value for the validators only; it never prints it (its repr
shows the hash), and everything that leaves the unit (bus, journal, reservation store) uses
``hash``, the runtime's redaction of the value. :func:`check_token` turns a provider's input
into a Token or a :class:`TokenProblem` naming what is wrong without quoting the value.

Syntax per type (``MAX_TOKEN_LENGTH`` for all, empty never):

- RFID: an ISO/IEC 14443 UID, 4, 7 or 10 bytes as 8, 14 or 20 hex digits (upper-cased);
- EIM, Operator: 1..36 printable ASCII characters without spaces (OCPP IdToken, CiString36);
- Autocharge: a MAC address (the ISO 15118-2 EVCCID): 12 hex digits, optionally in pairs
  separated by ":" or "-"; normalised to 12 upper-case digits;
- PnC: an EMAID (ISO 15118-20 / DIN SPEC 91286: 14 or 15 characters; "-" separators
  removed, upper-cased) with a non-empty certificate chain (checked by the pnc validator).

A parent id follows the EIM rule (or is empty).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ccy.auth.contract import TokenType
from ccy.pki.layout import normalize_emaid

MAX_TOKEN_LENGTH = 255
"""Longest value taken at all (ISO 15118-20 EVCCID and EMAID fields are shorter)."""
MAX_ID_LENGTH = 36
"""OCPP 2.0.1 IdToken.idToken: CiString36."""
MAX_CHAIN_BYTES = 64 * 1024
"""Longest certificate chain taken (three P-521 certificates in PEM are about 3 KiB)."""

_HEX = re.compile(r"[0-9A-Fa-f]+")
_RFID_LENGTHS = (8, 14, 20)
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_MAC = re.compile(r"[0-9A-Fa-f]{12}|[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}")


class TokenProblem(ValueError):
    """A malformed token; the message names the problem, never the value."""


@dataclass(frozen=True)
class Token:
    """A token as taken from a provider. ``value`` is clear; never log it."""

    value: str = field(repr=False)
    type: TokenType
    hash: str
    """``[redacted] hash: …`` of ``value``."""
    parent_hash: str = ""
    """The parent (group) id redacted; "" for none."""
    parent_value: str = field(default="", repr=False)
    connectors: tuple[int, ...] = ()
    """Connectors the token may use; () for any."""
    certificate_chain: str = field(default="", repr=False)
    source: str = ""
    """Which provider brought it (dummy, v2g, rfid, operator)."""


def normalize(value: str, token_type: TokenType) -> str:
    """The canonical form of a token of ``token_type``, or TokenProblem."""
    if value == "":
        raise TokenProblem("empty token")
    if len(value) > MAX_TOKEN_LENGTH:
        raise TokenProblem(f"over-long token ({len(value)} characters, at most {MAX_TOKEN_LENGTH})")
    if token_type is TokenType.RFID:
        if not _HEX.fullmatch(value):
            raise TokenProblem("bad characters for an RFID UID (hex digits only)")
        if len(value) not in _RFID_LENGTHS:
            raise TokenProblem(
                f"an RFID UID has 8, 14 or 20 hex digits (4, 7 or 10 bytes), not {len(value)}"
            )
        return value.upper()
    if token_type is TokenType.AUTOCHARGE:
        if not _MAC.fullmatch(value):
            raise TokenProblem("not a MAC address (12 hex digits, pairs separated by : or -)")
        return re.sub("[:-]", "", value).upper()
    if token_type is TokenType.PNC:
        try:
            return normalize_emaid(value)
        except ValueError as exc:
            raise TokenProblem(str(exc)) from None
    return check_id(value, "token")


def check_id(value: str, what: str) -> str:
    """An EIM/operator id or a parent id: 1..36 printable ASCII characters, no spaces."""
    if value == "":
        raise TokenProblem(f"empty {what}")
    if len(value) > MAX_ID_LENGTH:
        raise TokenProblem(f"over-long {what} ({len(value)} characters, at most {MAX_ID_LENGTH})")
    if not _PRINTABLE.fullmatch(value):
        raise TokenProblem(f"bad characters in the {what} (printable ASCII without spaces only)")
    return value


def make_token(
    value: str,
    token_type: TokenType,
    redact: Callable[[str], str],
    *,
    parent_id: str = "",
    connectors: tuple[int, ...] = (),
    certificate_chain: str = "",
    source: str = "",
) -> Token:
    """A checked Token (normalised value, hashes) or TokenProblem."""
    clear = normalize(value, token_type)
    parent = check_id(parent_id, "parent id") if parent_id else ""
    if len(certificate_chain) > MAX_CHAIN_BYTES:
        raise TokenProblem(f"over-long certificate chain (at most {MAX_CHAIN_BYTES} bytes)")
    if token_type is not TokenType.PNC and certificate_chain:
        raise TokenProblem("a certificate chain belongs to PnC tokens only")
    return Token(
        value=clear,
        type=token_type,
        hash=redact(clear),
        parent_hash=redact(parent) if parent else "",
        parent_value=parent,
        connectors=tuple(connectors),
        certificate_chain=certificate_chain,
        source=source,
    )
