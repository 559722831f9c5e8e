# SPDX-License-Identifier: Apache-2.0
"""Random identifiers without the ``uuid`` module.

``uuid`` imports ``platform`` (together 0.3 MiB in a unit) although a unit only ever needs
``str(uuid.uuid4())``: 122 random bits from ``os.urandom`` with the version (4) and variant
(RFC 4122) bits set, as RFC 4122 4.4 says. :func:`uuid4_text` gives that string, the same as
``str(uuid.uuid4())`` is.
"""

import os


def uuid4_text() -> str:
    """A random (version 4) UUID in its canonical text, e.g. ``'1b4e28ba-2fa1-4d2b-8ad3-…'``."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # variant RFC 4122 (10xx)
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
