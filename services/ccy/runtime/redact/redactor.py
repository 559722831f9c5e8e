# SPDX-License-Identifier: Apache-2.0
"""The one redaction function: ``[redacted] hash: <15 upper-case hex>`` from a keyed hash.

The hash is HMAC-SHA256 (RFC 2104) under the device's redaction key (:mod:`.key`), cut to the
first 15 hex digits as the seed's journal shows (``[redacted] hash: 29F2679CA504908``). The
same value gives the same hash in every unit and after restarts and updates, so an operator
can follow one token through the journal, the bus and the session logs; without the key no one
can test a guessed token id against a hash (a plain hash of a short RFID UID could be
brute-forced). Certificates hash as the DER of the leaf whatever their encoding (PEM, DER,
base64 DER as in the -20 JSON view), so a contract seen by ccy-v2g and ccy-auth matches.
PEM is read here with the standard library (RFC 7468 text, the DER's outer structure
checked), not with ``cryptography``: every unit redacts, and that package's X.509 module costs
each unit about 3 MiB that ccy-bsp, ccy-evse and ccy-profinet need for nothing else.

Redaction never raises and is idempotent: an already redacted string passes unchanged, so a
value may cross several units that each redact it.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ccy.runtime.paths import Paths
from ccy.runtime.redact.fields import is_certificate_field, is_identity_field, is_kept_inside
from ccy.runtime.redact.key import key_file, load_or_create_key

PREFIX = "[redacted] hash: "
HASH_DIGITS = 15
"""Upper-case hex digits shown (60 bits): the seed's length."""

WATCH_LIMIT = 256
"""Clear values remembered for :meth:`Redactor.scrub` (newest kept)."""

WATCH_MIN_LENGTH = 6
"""Shorter clear values are not scrubbed from free text (they would match everywhere)."""

_PEM_MARK = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"
_DER_SEQUENCE = 0x30
_DER_BIT_STRING = 0x03


def is_redacted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def certificate_der(value: str | bytes) -> bytes | None:
    """The DER of the (first, leaf) certificate in PEM, DER or base64-DER ``value``, else None."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else bytes(value)
    if _PEM_MARK.encode() in raw:
        return _pem_certificate_der(raw)
    if isinstance(value, str):
        try:
            raw = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    if raw[:1] == bytes([_DER_SEQUENCE]):
        return raw
    return None


def _pem_certificate_der(raw: bytes) -> bytes | None:
    """The first ``CERTIFICATE`` block of PEM text (RFC 7468) as DER, if its base64 decodes to
    a DER Certificate's outline: SEQUENCE { SEQUENCE tbs, SEQUENCE algorithm, BIT STRING }
    exactly filling the block (RFC 5280 4.1); else None."""
    start = raw.index(_PEM_MARK.encode()) + len(_PEM_MARK)
    end = raw.find(_PEM_END.encode(), start)
    if end < 0:
        return None
    try:
        der = base64.b64decode(b"".join(raw[start:end].split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    outer = _der_tlv(der, 0)
    if outer is None or outer[0] != _DER_SEQUENCE or outer[2] != len(der):
        return None
    tags = []
    at = outer[1]
    while at < len(der):
        part = _der_tlv(der, at)
        if part is None:
            return None
        tags.append(part[0])
        at = part[2]
    if tags != [_DER_SEQUENCE, _DER_SEQUENCE, _DER_BIT_STRING]:
        return None
    return der


def _der_tlv(der: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, start of the contents, end) of the DER element at ``at``, None if malformed."""
    if at + 2 > len(der):
        return None
    tag, first = der[at], der[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(der):
            return None
        length = int.from_bytes(der[at : at + count], "big")
        at += count
    if at + length > len(der):
        return None
    return tag, at, at + length


class Redactor:
    """Redacts values under one key. Build it with :meth:`for_paths` at a unit's start."""

    __slots__ = ("_key", "_watched", "key_file")

    def __init__(self, key: bytes, key_file: Path | None = None) -> None:
        self._key = bytes(key)
        self.key_file = key_file
        self._watched: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def for_paths(cls, paths: Paths) -> "Redactor":
        """The redactor of this installation (creates the key at first start)."""
        path = key_file(paths)
        return cls(load_or_create_key(path), path)

    def __repr__(self) -> str:  # never show the key
        return f"Redactor(key_file={self.key_file})"

    def redact(self, value: object) -> str:
        """``[redacted] hash: …`` for ``value``; "" for None and "" (nothing to hide)."""
        if value is None or value == "" or value == b"":
            return ""
        if is_redacted(value):
            return str(value)
        if isinstance(value, str) and _PEM_MARK in value:
            der = certificate_der(value)
            return self._hashed(value, der if der is not None else value.encode())
        if isinstance(value, bytes | bytearray | memoryview):
            return self._hashed(None, bytes(value))
        text = str(value)
        return self._hashed(text, text.encode("utf-8", "surrogatepass"))

    def redact_certificate(self, value: object) -> str:
        """Like :meth:`redact`, but base64 DER hashes as its DER (the -20 JSON view)."""
        if isinstance(value, str | bytes) and not is_redacted(value) and value:
            der = certificate_der(value)
            if der is not None:
                return self._hashed(value if isinstance(value, str) else None, der)
        return self.redact(value)

    def redact_field(self, name: str, value: Any) -> Any:
        """``value`` redacted if ``name`` is an identity field, else redacted inside."""
        if is_identity_field(name):
            return self._redact_all(value, is_certificate_field(name))
        return self.redact_fields(value)

    def redact_fields(self, data: Any) -> Any:
        """A copy of ``data`` (JSON-like: mappings, lists, scalars) with identity fields redacted.

        Takes the -20 JSON view of a message, a bus property dictionary, a signal's argument
        or a session-log record.
        """
        if isinstance(data, Mapping):
            return {k: self.redact_field(str(k), v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.redact_fields(item) for item in data]
        return data

    def redact_json(self, text: str) -> str:
        """A JSON document with identity fields redacted (compact); non-JSON redacts whole."""
        try:
            data = json.loads(text)
        except ValueError:
            return self.redact(text)
        return json.dumps(self.redact_fields(data), separators=(",", ":"))

    def scrub(self, text: str) -> str:
        """``text`` with every clear value this redactor has hashed replaced by its hash.

        The safety net of the logging filter: a clear value that reaches a message through a
        format string by mistake is still replaced, once any unit code has redacted it.
        """
        for clear, hashed in reversed(list(self._watched.items())):  # a snapshot: threads log
            if clear in text:
                text = text.replace(clear, hashed)
        return text

    def _redact_all(self, value: Any, certificate: bool) -> Any:
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                if is_kept_inside(str(k)) and isinstance(v, str):
                    out[k] = v
                else:
                    out[k] = self._redact_all(v, certificate or is_certificate_field(str(k)))
            return out
        if isinstance(value, list | tuple):
            return [self._redact_all(item, certificate) for item in value]
        if value is None:
            return None
        return self.redact_certificate(value) if certificate else self.redact(value)

    def _hashed(self, clear: str | None, data: bytes) -> str:
        digest = hmac.new(self._key, data, hashlib.sha256).hexdigest()
        result = PREFIX + digest[:HASH_DIGITS].upper()
        if clear is not None and len(clear) >= WATCH_MIN_LENGTH:
            self._watched[clear] = result
            self._watched.move_to_end(clear)
            if len(self._watched) > WATCH_LIMIT:
                self._watched.popitem(last=False)
        return result
