# SPDX-License-Identifier: Apache-2.0
"""Named errors of the safety-MCU protocol core. Every one is a :class:`ProtocolError`."""


class ProtocolError(Exception):
    """A frame could not be turned into a message, or a message into a frame."""


class UnknownCom(ProtocolError):
    """The frame's COM byte is not one of the codes in safety-link.md."""

    def __init__(self, com: int) -> None:
        super().__init__(f"unknown COM code 0x{com:02X}")
        self.com = com


class UnknownCode(ProtocolError):
    """A field of a known message holds a code the protocol does not define (e.g. CE 9)."""

    def __init__(self, message: str, field: str, raw: int) -> None:
        super().__init__(f"{message}: unknown {field} code 0x{raw:X}")
        self.message = message
        self.field = field
        self.raw = raw


class ValueOutOfRange(ProtocolError):
    """A message field cannot be encoded: the value does not fit its bit field."""

    def __init__(self, message: str, field: str, value: object, limits: str) -> None:
        super().__init__(f"{message}: {field} = {value!r} is out of range ({limits})")
        self.message = message
        self.field = field
        self.value = value
