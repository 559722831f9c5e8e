# SPDX-License-Identifier: Apache-2.0
"""DCP PDU parse/build (ccy.profinet.dcp.codec): layouts per PDU kind, named errors.

Requests are written here byte by byte (struct), not with the codec's own encoder, so a
wrong layout in the codec cannot agree with itself.
"""

import ipaddress
import struct

import pytest

from ccy.profinet.dcp.codec import (
    BlockError,
    DcpBadService,
    DcpBadValue,
    DcpBlockLengthError,
    DcpDataLengthError,
    DcpNotDcp,
    DcpTooShort,
    IpParameter,
    control_response,
    encode_block,
    encode_pdu,
    parse_pdu,
    response_delay_s,
)


def header(frame_id: int, service: int, stype: int, xid: int, delay: int, data: bytes) -> bytes:
    return struct.pack("!HBBIHH", frame_id, service, stype, xid, delay, len(data)) + data


def test_identify_filters_have_no_prefix_and_padding_is_skipped() -> None:
    data = b"\x02\x02\x00\x03abc\x00" + b"\xff\xff\x00\x00"
    pdu = parse_pdu(header(0xFEFE, 5, 0, 0x11223344, 128, data) + bytes(20))
    assert (pdu.service_id, pdu.xid, pdu.response_delay) == (5, 0x11223344, 128)
    assert [(b.option, b.suboption, b.value, b.prefix) for b in pdu.blocks] == [
        (2, 2, b"abc", None),
        (0xFF, 0xFF, b"", None),
    ]


def test_get_request_is_a_list_of_option_pairs() -> None:
    pdu = parse_pdu(header(0xFEFD, 3, 0, 7, 0, b"\x01\x02\x02\x02"))
    assert pdu.requested == ((1, 2), (2, 2)) and pdu.blocks == ()


def test_set_request_blocks_carry_the_block_qualifier() -> None:
    value = b"\x00\x01" + bytes((192, 0, 2, 9, 255, 255, 255, 0, 0, 0, 0, 0))
    pdu = parse_pdu(header(0xFEFD, 4, 0, 7, 0, b"\x01\x02\x00\x0e" + value))
    (block,) = pdu.blocks
    assert (block.key, block.prefix) == ((1, 2), 1)
    ip = IpParameter.decode(block.value)
    assert str(ip) == "IP 192.0.2.9 Netmask 255.255.255.0 Gateway 0.0.0.0"


def test_responses_carry_block_info_except_control_response() -> None:
    data = b"\x02\x02\x00\x05\x00\x00abc\x00" + b"\x05\x04\x00\x03\x02\x02\x03\x00"
    pdu = parse_pdu(header(0xFEFD, 3, 1, 7, 0, data))
    assert [(b.key, b.prefix, b.value) for b in pdu.blocks] == [
        ((2, 2), 0, b"abc"),
        ((5, 4), None, b"\x02\x02\x03"),
    ]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"\xfe\xfe\x05\x00\x00", DcpTooShort),
        (header(0x8000, 5, 0, 1, 0, b""), DcpNotDcp),
        (header(0xFEFE, 5, 0, 1, 0, b"\xff\xff\x00\x00")[:-2], DcpDataLengthError),
        (struct.pack("!HBBIHH", 0xFEFE, 5, 0, 1, 0, 2000) + bytes(2000), DcpDataLengthError),
        (header(0xFEFE, 5, 0, 1, 0, b"\x02\x02\x00\x09abc"), DcpBlockLengthError),
        (header(0xFEFE, 5, 0, 1, 0, b"\x02\x02\x00"), DcpBlockLengthError),
        (header(0xFEFD, 4, 0, 1, 0, b"\x02\x02\x00\x01a\x00"), DcpBlockLengthError),
        (header(0xFEFD, 3, 0, 1, 0, b"\x01\x02\x02"), DcpBlockLengthError),
        (header(0xFEFE, 3, 0, 1, 0, b"\xff\xff\x00\x00"), DcpBadService),
        (header(0xFEFE, 5, 1, 1, 0, b"\xff\xff\x00\x00"), DcpBadService),
        (header(0xFEFC, 5, 0, 1, 0, b""), DcpBadService),
    ],
    ids=[
        "short",
        "not-dcp",
        "data-cut",
        "data-huge",
        "block-overrun",
        "block-header-cut",
        "set-no-qualifier",
        "get-odd",
        "identify-wrong-service",
        "identify-response-id",
        "hello-wrong-service",
    ],
)
def test_malformed_pdus_raise_named_errors(payload: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_pdu(payload)


def test_encode_block_pads_to_even_and_counts_the_prefix() -> None:
    assert encode_block(2, 2, b"abc", 0) == b"\x02\x02\x00\x05\x00\x00abc\x00"
    assert encode_block(2, 2, b"ab") == b"\x02\x02\x00\x02ab"
    assert control_response(1, 2, BlockError.NOT_SET) == b"\x05\x04\x00\x03\x01\x02\x03\x00"
    pdu = encode_pdu(0xFEFF, 5, 1, 0xDEADBEEF, b"\x02\x02\x00\x02ab")
    assert pdu[:12] == bytes.fromhex("feff0501deadbeef00000006")


def test_ip_parameter_gateway_rules() -> None:
    own = IpParameter.from_strings("169.254.12.53", "255.255.0.0", "169.254.12.53")
    assert own.effective_gateway is None  # the seed's PLC: gateway = own address means none
    assert IpParameter.from_strings("10.0.0.5", "255.0.0.0").effective_gateway is None
    gw = IpParameter.from_strings("10.0.0.5", "255.0.0.0", "10.0.0.1")
    assert gw.effective_gateway == ipaddress.IPv4Address("10.0.0.1") and gw.prefix_len == 8
    assert not IpParameter.none().is_set and IpParameter.none().problem() is None
    with pytest.raises(DcpBadValue):
        IpParameter.decode(bytes(11))
    with pytest.raises(DcpBadValue):
        IpParameter.from_strings("10.0.0.300", "255.0.0.0")


@pytest.mark.parametrize(
    ("address", "mask", "gateway", "words"),
    [
        ("10.0.0.5", "255.0.255.0", "0.0.0.0", "contiguous"),
        ("10.0.0.5", "0.0.0.0", "0.0.0.0", "contiguous"),
        ("224.0.0.5", "255.255.255.0", "0.0.0.0", "host address"),
        ("127.0.0.5", "255.0.0.0", "0.0.0.0", "host address"),
        ("10.0.0.0", "255.255.255.0", "0.0.0.0", "network or broadcast"),
        ("10.0.0.255", "255.255.255.0", "0.0.0.0", "network or broadcast"),
        ("10.0.0.5", "255.255.255.0", "10.0.1.1", "outside the subnet"),
    ],
)
def test_ip_parameters_no_interface_can_take(
    address: str, mask: str, gateway: str, words: str
) -> None:
    problem = IpParameter.from_strings(address, mask, gateway).problem()
    assert problem is not None and words in problem


def test_response_delay_from_the_mac_and_factor() -> None:
    mac = bytes.fromhex("020000001234")  # (0x12 << 8 | 0x34) = 4660
    assert response_delay_s(mac, 0) == 0.0
    assert response_delay_s(mac, 1) == 0.0
    assert response_delay_s(mac, 1000) == pytest.approx(6.60 * 1)  # 4660 % 1000 = 660 → 6.6 s
    assert response_delay_s(mac, 6400) == pytest.approx(46.60)  # 4660 % 6400 = 4660
    assert response_delay_s(mac, 6401) == 0.0
