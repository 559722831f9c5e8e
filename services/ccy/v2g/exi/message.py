# SPDX-License-Identifier: Apache-2.0
"""Typed face of the codec: a message object with attribute access over the JSON view.

``Message.decode(Namespace.DC, data).Header.SessionID`` reads a field; ``Message(ns, name,
body).encode()`` checks every value against the schema facets while encoding (raising
:class:`~ccy.v2g.exi.errors.FacetViolation`). Field names are the XSD element and attribute
local names, so the schema (``schemas/``) is the reference for what a message carries.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from ccy.v2g.exi import Namespace, decode, encode


class Node(Mapping[str, Any]):
    """A complex-typed element: children by attribute or item access, in document order."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = dict(fields)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._fields[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return _wrap(self._fields[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Node({self._fields!r})"

    def to_json(self) -> dict[str, Any]:
        """The JSON view of this element (design/v2g.md)."""
        return self._fields


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Node(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Message(Node):
    """One V2G message: its namespace, root element name and body."""

    __slots__ = ("name", "namespace")

    def __init__(self, namespace: Namespace, name: str, body: Mapping[str, Any]) -> None:
        super().__init__(body)
        self.namespace = namespace
        self.name = name

    @classmethod
    def decode(cls, namespace: Namespace, data: bytes) -> "Message":
        """Decode EXI bytes (raises an :class:`~ccy.v2g.exi.errors.ExiError` subclass)."""
        ((name, body),) = decode(namespace, data).items()
        return cls(namespace, name, body)

    def encode(self) -> bytes:
        """Encode, checking values against the schema facets."""
        return encode(self.namespace, {self.name: self.to_json()})

    def document(self) -> dict[str, Any]:
        """The JSON view with its root key, as :func:`ccy.v2g.exi.decode` returns it."""
        return {self.name: self.to_json()}

    def __repr__(self) -> str:
        return f"Message({self.namespace.name}, {self.name}, {self.to_json()!r})"
