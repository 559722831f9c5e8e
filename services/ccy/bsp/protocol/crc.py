# SPDX-License-Identifier: Apache-2.0
"""CRC-8/SAE-J1850 as used by the safety-MCU frames (safety-link.md, section "Frame").

Parameters: width 8, polynomial 0x1D, initial value 0xFF, no input or output reflection,
final XOR 0xFF. The catalogued check value (CRC of the ASCII bytes ``123456789``) is 0x4B.
"""

POLYNOMIAL = 0x1D
INIT = 0xFF
XOR_OUT = 0xFF
CHECK_VALUE = 0x4B  # crc8_j1850(b"123456789")


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ POLYNOMIAL) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc8_j1850(data: bytes | bytearray | memoryview) -> int:
    """Return the CRC-8/SAE-J1850 of ``data`` (an int 0..255)."""
    crc = INIT
    table = _TABLE
    for byte in data:
        crc = table[crc ^ byte]
    return crc ^ XOR_OUT
