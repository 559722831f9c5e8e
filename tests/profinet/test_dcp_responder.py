# SPDX-License-Identifier: Apache-2.0
"""The DCP responder core (frame + time → effects) on a fake clock: Identify with every
filter in any order and its delay, Get, Set with temporary/permanent, Signal, resets, the
3 s lock, Hello, and malformed frames answered with silence and a named reason."""

import itertools
import struct

import pytest

from ccy.profinet.dcp.codec import IpParameter, parse_pdu
from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.dcp.responder import (
    DcpResponder,
    DcpState,
    Dropped,
    Effect,
    IpSet,
    NameSet,
    ResetMode,
    ResetRequested,
    Send,
    SignalRequested,
)
from ccy.profinet.ethernet import parse_frame

MAC = bytes.fromhex("020000001234")
PLC = bytes.fromhex("0200000000aa")
OTHER = bytes.fromhex("0200000000bb")
IDENT_MC = bytes.fromhex("010ecf000000")


def frame(dst: bytes, src: bytes, frame_id: int, service: int, xid: int, data: bytes,
          delay: int = 0, stype: int = 0) -> bytes:  # fmt: skip
    pdu = struct.pack("!HBBIHH", frame_id, service, stype, xid, delay, len(data)) + data
    return dst + src + b"\x88\x92" + pdu


def blk(option: int, sub: int, value: bytes) -> bytes:
    raw = struct.pack("!BBH", option, sub, len(value)) + value
    return raw + b"\x00" * (len(raw) & 1)


def setblk(option: int, sub: int, value: bytes, qualifier: int = 0) -> bytes:
    return blk(option, sub, struct.pack("!H", qualifier) + value)


def responder(name: str = "ccy-charger", alias: str | None = None) -> DcpResponder:
    ip = IpParameter.from_strings("192.0.2.2", "255.255.255.0")
    return DcpResponder(MAC, DcpState(station_name=name, ip=ip, alias=alias))


def handle(r: DcpResponder, raw: bytes, now: float = 0.0) -> list[Effect]:
    return r.handle(parse_frame(raw), now)


def identify(r: DcpResponder, filters: bytes, delay: int = 0, xid: int = 9) -> list[Effect]:
    return handle(r, frame(IDENT_MC, PLC, 0xFEFE, 5, xid, filters, delay))


def sends(effects: list[Effect]) -> list[Send]:
    return [e for e in effects if isinstance(e, Send)]


def response_blocks(send: Send) -> dict[tuple[int, int], tuple[int | None, bytes]]:
    eth = parse_frame(send.frame)
    return {b.key: (b.prefix, b.value) for b in parse_pdu(eth.payload).blocks}


IP_BLOCK = bytes((192, 0, 2, 2, 255, 255, 255, 0, 0, 0, 0, 0))
FILTERS = {
    "name": blk(2, 2, b"ccy-charger"),
    "alias": blk(2, 6, b"port-003.switch1"),
    "vendor": blk(2, 1, b"CCY"),
    "device-id": blk(2, 3, IDENTITY.device_id_bytes),
    "role": blk(2, 4, b"\x01\x00"),
    "instance": blk(2, 7, bytes(IDENTITY.device_instance)),
    "ip": blk(1, 2, IP_BLOCK),
    "mac": blk(1, 1, MAC),
    "all": blk(0xFF, 0xFF, b""),
}


def test_identify_all_answers_with_every_identity_block() -> None:
    r = responder()
    (send,) = identify(r, FILTERS["all"], xid=0x01020304)
    eth = parse_frame(send.frame)
    assert (eth.dst, eth.src, eth.ethertype) == (PLC, MAC, 0x8892)
    pdu = parse_pdu(eth.payload)
    assert (pdu.frame_id, pdu.service_id, pdu.service_type, pdu.xid) == (0xFEFF, 5, 1, 0x01020304)
    blocks = response_blocks(send)
    assert blocks[(1, 2)] == (1, IP_BLOCK)  # BlockInfo 1: IP set
    assert blocks[(2, 1)] == (0, b"CCY")
    assert blocks[(2, 2)] == (0, b"ccy-charger")
    assert blocks[(2, 3)] == (0, IDENTITY.device_id_bytes)
    assert blocks[(2, 4)] == (0, b"\x01\x00")
    assert blocks[(2, 7)] == (0, b"\x00\x01")
    options = blocks[(2, 5)][1]
    assert {(options[i], options[i + 1]) for i in range(0, len(options), 2)} >= {
        (1, 2), (2, 2), (2, 6), (5, 3), (5, 6)
    }  # fmt: skip
    assert (2, 6) not in blocks  # alias only when asked for by filter


@pytest.mark.parametrize(
    "keys",
    [p for n in (1, 2, 3) for p in itertools.permutations(
        ["name", "alias", "vendor", "device-id", "role", "instance", "ip", "mac"], n)
     if n < 3 or p[0] in ("alias", "ip")],
)  # fmt: skip
def test_identify_filters_match_in_any_order(keys: tuple[str, ...]) -> None:
    r = responder(alias="port-003.switch1")
    effects = identify(r, b"".join(FILTERS[k] for k in keys))
    (send,) = sends(effects)
    assert ((2, 6) in response_blocks(send)) == ("alias" in keys)


@pytest.mark.parametrize(
    "wrong",
    [
        blk(2, 2, b"other-name"),
        blk(2, 2, b"ccy-charger-2"),
        blk(2, 6, b"port-001.switch1"),
        blk(2, 1, b"ACME"),
        blk(2, 3, b"\x00\x2a\x00\x01"),
        blk(2, 4, b"\x02\x00"),  # IO controller only
        blk(1, 2, bytes(12)),
        blk(1, 1, OTHER),
        blk(3, 61, b"x"),  # DHCP: not ours
        blk(0x80, 1, b"vendor-specific"),
    ],
)
def test_one_wrong_filter_means_no_answer_wherever_it_stands(wrong: bytes) -> None:
    r = responder(alias="port-003.switch1")
    for filters in (wrong + FILTERS["name"], FILTERS["name"] + wrong):
        effects = identify(r, filters)
        assert sends(effects) == []
        assert [e.reason for e in effects if isinstance(e, Dropped)] == ["NoMatch"]


def test_unnamed_device_is_found_by_alias_not_by_empty_name() -> None:
    r = responder(name="", alias="port-003.switch1")
    assert sends(identify(r, blk(2, 2, b""))) == []
    (send,) = sends(identify(r, FILTERS["alias"]))
    assert response_blocks(send)[(2, 6)] == (0, b"port-003.switch1")
    assert sends(identify(responder(name="", alias=None), FILTERS["alias"])) == []


def test_identify_response_delay_follows_the_factor_and_our_mac() -> None:
    r = responder()
    spread = 0x12 << 8 | 0x34
    for factor, expect in ((0, 0.0), (1, 0.0), (100, (spread % 100) * 0.01),
                           (6400, spread * 0.01), (6401, 0.0)):  # fmt: skip
        (send,) = identify(r, FILTERS["all"], delay=factor)
        assert send.delay_s == pytest.approx(expect)


def test_identify_to_another_unicast_address_is_not_ours() -> None:
    r = responder()
    effects = handle(r, frame(OTHER, PLC, 0xFEFE, 5, 1, FILTERS["all"]))
    assert sends(effects) == [] and effects[0].reason == "NotForUs"  # type: ignore[union-attr]
    (send,) = sends(handle(r, frame(MAC, PLC, 0xFEFE, 5, 1, FILTERS["all"])))  # pnio-dcp's way
    assert parse_frame(send.frame).dst == PLC


def get(r: DcpResponder, pairs: bytes, src: bytes = PLC, now: float = 0.0) -> list[Effect]:
    return handle(r, frame(MAC, src, 0xFEFD, 3, 77, pairs), now)


def test_get_answers_each_option_or_names_the_error() -> None:
    r = responder()
    (send,) = get(r, bytes((1, 2, 2, 2, 1, 1, 2, 6, 3, 61, 5, 3, 0x80, 1, 2, 9, 6, 1, 1, 3)))
    pdu = parse_pdu(parse_frame(send.frame).payload)
    assert (pdu.frame_id, pdu.service_id, pdu.service_type, pdu.xid) == (0xFEFD, 3, 1, 77)
    got = [(b.key, b.prefix, b.value) for b in pdu.blocks]
    assert got == [
        ((1, 2), 1, IP_BLOCK),
        ((2, 2), 0, b"ccy-charger"),
        ((1, 1), 0, MAC),
        ((5, 4), None, b"\x02\x06\x03"),  # alias: no LLDP neighbour → not set
        ((5, 4), None, b"\x03\x3d\x01"),  # DHCP: option not supported
        ((5, 4), None, b"\x05\x03\x02"),  # Control cannot be read
        ((5, 4), None, b"\x80\x01\x01"),  # unknown option
        ((5, 4), None, b"\x02\x09\x02"),  # unknown suboption of Device
        ((6, 1), 0, b"\x00\x00"),  # DeviceInitiative: no Hello
        ((5, 4), None, b"\x01\x03\x02"),  # full IP suite: not supported
    ]


def set_(r: DcpResponder, blocks: bytes, src: bytes = PLC, now: float = 0.0) -> list[Effect]:
    return handle(r, frame(MAC, src, 0xFEFD, 4, 88, blocks), now)


def set_errors(effects: list[Effect]) -> list[tuple[int, int, int]]:
    send = effects[0]
    assert isinstance(send, Send)
    pdu = parse_pdu(parse_frame(send.frame).payload)
    assert (pdu.service_id, pdu.service_type, pdu.xid) == (4, 1, 88)
    return [(b.value[0], b.value[1], b.value[2]) for b in pdu.blocks if b.key == (5, 4)]


def test_set_name_temporary_and_permanent() -> None:
    r = responder()
    effects = set_(r, setblk(2, 2, b"line-7", 0))
    assert set_errors(effects) == [(2, 2, 0)]
    assert effects[1] == NameSet("line-7", permanent=False, changed=True, source=PLC)
    assert r.state.station_name == "line-7"
    effects = set_(r, setblk(2, 2, b"line-7", 1))
    assert effects[1] == NameSet("line-7", permanent=True, changed=False, source=PLC)
    (send,) = get(r, b"\x02\x02")
    assert response_blocks(send)[(2, 2)] == (0, b"line-7")


def test_set_odd_length_name_is_read_without_its_padding() -> None:
    r = responder()
    assert set_errors(set_(r, setblk(2, 2, b"abc", 1))) == [(2, 2, 0)]
    assert r.state.station_name == "abc"


@pytest.mark.parametrize("bad", [b"192.168.0.10", b"Upper", b"port-001", b"a..b", b"x" * 241,
                                 b"caf\xc3\xa9"])  # fmt: skip
def test_set_invalid_name_is_refused_and_the_old_name_stays(bad: bytes) -> None:
    r = responder()
    effects = set_(r, setblk(2, 2, bad, 1))
    assert set_errors(effects) == [(2, 2, 3)]  # BlockError 3: suboption not set
    assert r.state.station_name == "ccy-charger"
    assert not any(isinstance(e, NameSet) for e in effects)
    assert [e.reason for e in effects if isinstance(e, Dropped)] == ["InvalidStationName"]


def test_set_ip_with_own_address_as_gateway_and_bad_ips() -> None:
    r = responder()
    value = bytes((169, 254, 12, 53, 255, 255, 0, 0, 169, 254, 12, 53))
    effects = set_(r, setblk(1, 2, value, 0))
    assert set_errors(effects) == [(1, 2, 0)]
    (ip_set,) = [e for e in effects if isinstance(e, IpSet)]
    assert not ip_set.permanent and ip_set.changed and ip_set.ip.effective_gateway is None
    bad_mask = bytes((10, 0, 0, 1, 255, 0, 255, 0, 0, 0, 0, 0))
    assert set_errors(set_(r, setblk(1, 2, bad_mask, 1))) == [(1, 2, 3)]
    assert set_errors(set_(r, setblk(1, 2, bytes(10), 1))) == [(1, 2, 3)]
    assert r.state.ip.encode() == value


def test_set_of_read_only_and_unknown_options() -> None:
    r = responder()
    blocks = (setblk(2, 6, b"port-001.x") + setblk(2, 1, b"ACME") + setblk(1, 1, OTHER)
              + setblk(3, 12, b"host") + setblk(0x80, 1, b"") + setblk(5, 4, b"")
              + setblk(6, 1, b"\x00\x01"))  # fmt: skip
    assert set_errors(set_(r, blocks)) == [
        (2, 6, 2), (2, 1, 2), (1, 1, 2), (3, 12, 1), (0x80, 1, 1), (5, 4, 2), (6, 1, 2)
    ]  # fmt: skip


def test_signal_start_stop_and_several_blocks_in_one_set() -> None:
    r = responder()
    blocks = (setblk(5, 1, b"") + setblk(5, 3, b"\x01\x00") + setblk(2, 2, b"blink-me", 1)
              + setblk(5, 2, b""))  # fmt: skip
    effects = set_(r, blocks)
    assert set_errors(effects) == [(5, 1, 0), (5, 3, 0), (2, 2, 0), (5, 2, 0)]
    assert SignalRequested(PLC) in effects and isinstance(effects[0], Send)
    assert set_errors(set_(r, setblk(5, 3, b"\x02\x00"))) == [(5, 3, 3)]


@pytest.mark.parametrize(
    ("block", "mode"),
    [
        (setblk(5, 5, b""), ResetMode.COMMUNICATION),
        (setblk(5, 6, b"", 2 << 1), ResetMode.COMMUNICATION),
        (setblk(5, 6, b"", 4 << 1), ResetMode.ALL_DATA),
        (setblk(5, 6, b"", 8 << 1), ResetMode.DEVICE),
    ],
)
def test_factory_resets_clear_name_and_ip_permanently(block: bytes, mode: ResetMode) -> None:
    r = responder()
    effects = set_(r, block)
    assert set_errors(effects)[0][2] == 0
    assert NameSet("", True, True, PLC) in effects
    assert IpSet(IpParameter.none(), True, True, PLC) in effects
    assert effects[-1] == ResetRequested(mode, PLC)
    assert r.state.station_name == "" and not r.state.ip.is_set
    (send,) = identify(r, FILTERS["all"])
    assert response_blocks(send)[(1, 2)] == (0, bytes(12))  # BlockInfo 0: no IP


def test_reset_application_keeps_name_and_unsupported_modes_are_refused() -> None:
    r = responder()
    effects = set_(r, setblk(5, 6, b"", 1 << 1))
    assert effects[1:] == [ResetRequested(ResetMode.APPLICATION, PLC)]
    assert r.state.station_name == "ccy-charger"
    for mode in (3, 9, 15):
        assert set_errors(set_(r, setblk(5, 6, b"", mode << 1))) == [(5, 6, 2)]


def test_lock_after_set_keeps_other_controllers_out_for_three_seconds() -> None:
    r = responder()
    set_(r, setblk(2, 2, b"first", 0), src=PLC, now=100.0)
    for now in (100.5, 102.9):
        effects = set_(r, setblk(2, 2, b"second", 0), src=OTHER, now=now)
        assert effects == [Dropped("Locked", "another controller holds the 3 s DCP lock")]
        assert get(r, b"\x02\x02", src=OTHER, now=now)[0] == effects[0]
        assert sends(identify(r, FILTERS["all"]))  # Identify is never locked
    assert r.state.station_name == "first"
    set_(r, setblk(2, 2, b"again", 0), src=PLC, now=102.0)  # the holder restarts the lock
    assert isinstance(set_(r, setblk(2, 2, b"x", 0), src=OTHER, now=104.9)[0], Dropped)
    effects = set_(r, setblk(2, 2, b"second", 0), src=OTHER, now=105.0)
    assert set_errors(effects) == [(2, 2, 0)] and r.state.station_name == "second"
    assert r.locked_by(105.0) == OTHER


def test_hello_announces_name_ip_and_ids() -> None:
    r = responder()
    r.state.hello_enabled = True
    eth = parse_frame(r.hello())
    assert eth.dst == bytes.fromhex("010ecf000001") and eth.src == MAC
    pdu = parse_pdu(eth.payload)
    assert (pdu.frame_id, pdu.service_id, pdu.service_type) == (0xFEFC, 6, 0)
    keys = {b.key: b.value for b in pdu.blocks}
    assert keys[(2, 2)] == b"ccy-charger" and keys[(1, 2)] == IP_BLOCK
    assert keys[(2, 3)] == IDENTITY.device_id_bytes and keys[(6, 1)] == b"\x00\x01"
    assert parse_pdu(parse_frame(r.hello()).payload).xid == pdu.xid + 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (frame(IDENT_MC, PLC, 0xFEFE, 5, 1, b"\x02\x02\x00\x20ab"), "DcpBlockLengthError"),
        (frame(IDENT_MC, PLC, 0xFEFE, 5, 1, b"")[:-2], "DcpTooShort"),
        (frame(IDENT_MC, PLC, 0xFEFE, 5, 1, b""), "NoFilter"),
        (frame(IDENT_MC, PLC, 0xFEFE, 3, 1, FILTERS["all"]), "DcpBadService"),
        (frame(MAC, PLC, 0xFEFD, 4, 1, b"\x02\x02\x00\x01a\x00"), "DcpBlockLengthError"),
        (frame(OTHER, PLC, 0xFEFD, 3, 1, b"\x02\x02"), "NotForUs"),
        (frame(IDENT_MC, PLC, 0xFEFD, 3, 1, b"\x02\x02"), "NotForUs"),
        (MAC + PLC + b"\x88\x92\xfe\xfe\x05\x00\x00\x00\x00\x01\x00\x00\xff\xff",
         "DcpDataLengthError"),
    ],
)  # fmt: skip
def test_malformed_frames_get_no_answer_and_a_named_reason(raw: bytes, reason: str) -> None:
    r = responder()
    effects = handle(r, raw)
    assert sends(effects) == [] and [e.reason for e in effects if isinstance(e, Dropped)] == [
        reason
    ]
    (send,) = identify(r, FILTERS["all"])  # and the next good Identify is answered
    assert send.delay_s == 0.0


def test_other_frames_are_left_alone() -> None:
    r = responder()
    assert handle(r, frame(IDENT_MC, PLC, 0xFEFF, 5, 1, FILTERS["all"], stype=1)) == []
    assert handle(r, frame(MAC, PLC, 0xFEFD, 4, 1, b"", stype=1)) == []  # a Set response
    assert handle(r, MAC + PLC + b"\x88\x92\xc0\x00" + bytes(44)) == []  # cyclic data


def test_unknown_service_on_get_set_is_answered_not_supported() -> None:
    r = responder()
    (send,) = handle(r, frame(MAC, PLC, 0xFEFD, 9, 5, b""))
    pdu = parse_pdu(parse_frame(send.frame).payload)
    assert (pdu.service_id, pdu.service_type, pdu.xid, pdu.blocks) == (9, 5, 5, ())


def test_answers_that_do_not_fit_one_frame_are_cut_at_a_block_boundary() -> None:
    r = responder()
    (send,) = get(r, bytes((2, 2)) * 700)  # 700 NameOfStation blocks of 4+2+11+1 bytes
    pdu = parse_pdu(parse_frame(send.frame).payload)
    assert len(pdu.blocks) == 1432 // 18 and all(b.value == b"ccy-charger" for b in pdu.blocks)
    assert r.stats["answers_truncated"] == 1
    (send,) = [e for e in set_(r, setblk(5, 1, b"") * 230) if isinstance(e, Send)]
    assert len(parse_pdu(parse_frame(send.frame).payload).blocks) == 1432 // 8
