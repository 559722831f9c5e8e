# SPDX-License-Identifier: Apache-2.0
"""CRC-8/SAE-J1850 (safety-link.md, "Frame"): catalogue check value and a bitwise reference."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ccy.bsp.protocol.crc import CHECK_VALUE, crc8_j1850


def reference_crc(data: bytes) -> int:
    """Bit-at-a-time CRC-8: poly 0x1D, init 0xFF, no reflection, xorout 0xFF."""
    crc = 0xFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = (crc >> 7) ^ ((byte >> bit) & 1)
            crc = (crc << 1) & 0xFF
            if top:
                crc ^= 0x1D
    return crc ^ 0xFF


def test_catalogue_check_value() -> None:
    assert crc8_j1850(b"123456789") == 0x4B == CHECK_VALUE


def test_empty_input_is_init_xor_out() -> None:
    assert crc8_j1850(b"") == 0x00


def test_known_frame_bodies() -> None:
    # COM + data of the seed's FwVersion (0.2.3, CC Y, firmware) and of an Inquiry for it.
    assert crc8_j1850(bytes.fromhex("0a00020382030000 00".replace(" ", ""))) == 0x84
    assert crc8_j1850(bytes.fromhex("ff0a000000000000 00".replace(" ", ""))) == 0x83


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_table_matches_bitwise_reference(data: bytes) -> None:
    assert crc8_j1850(data) == reference_crc(data)


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=9), st.data())
def test_every_single_bit_error_is_detected(data: bytes, draw: st.DataObject) -> None:
    bit = draw.draw(st.integers(0, len(data) * 8 - 1))
    flipped = bytearray(data)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    assert crc8_j1850(bytes(flipped)) != crc8_j1850(data)
