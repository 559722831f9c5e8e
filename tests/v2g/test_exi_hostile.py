# SPDX-License-Identifier: Apache-2.0
"""Hostile input: every failure is a named ExiError subclass with a bit position, nothing
else escapes (truncation, random bytes, wrong namespace, oversized lengths, string-table hits,
second-level events, values outside facets, bad JSON views on encode)."""

import contextlib
import copy
import random
from typing import Any

import pytest

from ccy.v2g.exi import (
    ExiError,
    FacetViolation,
    InvalidHeader,
    Namespace,
    OversizeStream,
    SecondLevelEvent,
    StringTableHit,
    TrailingData,
    TruncatedStream,
    UnsupportedContent,
    ValueOutOfRange,
    codec,
    decode,
    encode,
)

HEADER = {"SessionID": "3D4CBF93374ED89B", "TimeStamp": 1725456327}
CABLE_CHECK = bytes.fromhex("802c041ea65fc99ba76c4d8c7bfe1b6062")
SEEDS = [
    (Namespace.SAP, "8000f3ab9371d34b9b79d39ba321d34b9b79d189a98989c1d1699181d22218010000040040"),
    (Namespace.CM, "800004790c8adceeee09688d6cac3a606200"),
    (
        Namespace.CM,
        "808c0400000000000000000b29b92d80620b2ba6a4ab1899199a1a9b1b9c1c9820a121a222ac00",
    ),
    (Namespace.DC, "8034041ea65fc99ba76c4d8cdbfe1b6062810012006464000a02002400ca"),
    (Namespace.DC, CABLE_CHECK.hex()),
    (
        Namespace.AC,
        "8008041ea65fc99ba76c4d8cdbfe1b60628804005cb000400702e8040000807e0801901000000200"
        "00003f06807810000004000002003817404000000800000100000040000010000000",
    ),
]


def set_bits(data: bytes, pos: int, width: int, value: int) -> bytes:
    """``data`` with the ``width`` bits at bit ``pos`` replaced by ``value``."""
    n = len(data) * 8
    number = int.from_bytes(data, "big")
    shift = n - pos - width
    number &= ~(((1 << width) - 1) << shift)
    number |= value << shift
    return number.to_bytes(len(data), "big")


def first_difference(a: bytes, b: bytes) -> int:
    """Bit position of the first difference of two equally long streams."""
    x = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return len(a) * 8 - x.bit_length()


def session_setup(evccid: str) -> bytes:
    return encode(Namespace.CM, {"SessionSetupReq": {"Header": HEADER, "EVCCID": evccid}})


def evccid_length_position() -> int:
    """Bit position of the EVCCID length field (string "A" vs "B" differ in its last byte)."""
    char_bit = first_difference(session_setup("A"), session_setup("B"))
    return char_bit - 6 - 8  # 0x41 vs 0x42 differ at bit 6 of the character


@pytest.mark.parametrize(("ns", "hex_text"), SEEDS)
def test_every_prefix_is_truncated(ns: Namespace, hex_text: str) -> None:
    data = bytes.fromhex(hex_text)
    for cut in range(len(data)):
        with pytest.raises(TruncatedStream) as info:
            decode(ns, data[:cut])
        assert 0 <= info.value.bit_position <= cut * 8


def test_random_bytes_raise_only_exi_errors() -> None:
    rng = random.Random(15118)
    outcomes: dict[str, int] = {}
    for _ in range(4000):
        ns = rng.choice(list(Namespace))
        data = bytes([0x80]) + rng.randbytes(rng.randrange(0, 80))
        try:
            decode(ns, data)
            name = "decoded"
        except ExiError as exc:
            assert isinstance(exc.bit_position, int)
            assert 0 <= exc.bit_position <= len(data) * 8
            name = type(exc).__name__
        outcomes[name] = outcomes.get(name, 0) + 1
    assert outcomes.keys() - {"decoded"}  # random streams do fail, with named errors


def test_mutated_vectors_raise_only_exi_errors_and_decoded_ones_reencode() -> None:
    rng = random.Random(20)
    for _ in range(3000):
        ns, hex_text = rng.choice(SEEDS)
        data = bytearray(bytes.fromhex(hex_text))
        for _flip in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        try:
            view = decode(ns, bytes(data))
        except ExiError:
            continue
        assert decode(ns, encode(ns, view)) == view


@pytest.mark.parametrize(("ns", "hex_text"), SEEDS)
def test_wrong_namespace_never_escapes(ns: Namespace, hex_text: str) -> None:
    data = bytes.fromhex(hex_text)
    expected = decode(ns, data)
    for other in Namespace:
        if other is ns:
            continue
        with contextlib.suppress(ExiError):
            assert decode(other, data) != expected


def test_sap_grammar_rejects_a_dc_message() -> None:
    with pytest.raises(ExiError):
        decode(Namespace.SAP, CABLE_CHECK)


def test_header_must_be_0x80() -> None:
    with pytest.raises(InvalidHeader) as info:
        decode(Namespace.DC, b"\x81" + CABLE_CHECK[1:])
    assert info.value.bit_position == 0
    with pytest.raises(TruncatedStream):
        decode(Namespace.DC, b"")
    with pytest.raises(InvalidHeader):
        decode(Namespace.DC, "802c")  # type: ignore[arg-type]


def test_second_level_event_in_element_content() -> None:
    # bit 14: first-level code of DC_CableCheckReq's first state (1 bit: 0 = SE(Header))
    with pytest.raises(SecondLevelEvent) as info:
        decode(Namespace.DC, set_bits(CABLE_CHECK, 14, 1, 1))
    assert info.value.bit_position == 14
    # bit 16: the CH code of SessionID's simple type grammar
    with pytest.raises(SecondLevelEvent) as info:
        decode(Namespace.DC, set_bits(CABLE_CHECK, 16, 1, 1))
    assert info.value.bit_position == 16


def test_document_level_wildcard_and_undefined_codes() -> None:
    globals_count = len(codec.grammars("DC").doc)
    assert globals_count < 63
    # code == number of global elements: SE(*), an element the schema does not declare
    with pytest.raises(UnsupportedContent) as info:
        decode(Namespace.DC, set_bits(CABLE_CHECK, 8, 6, globals_count))
    assert info.value.bit_position == 8
    # codes above it name no production at all
    with pytest.raises(ValueOutOfRange):
        decode(Namespace.DC, set_bits(CABLE_CHECK, 8, 6, 63))


def test_undefined_event_code_in_element_content() -> None:
    # supportedAppProtocolRes after ResponseCode: SE(SchemaID) 0, EE 1, escape 2 in 2 bits,
    # so code 3 is undefined.
    data = bytes.fromhex("80400040")
    assert decode(Namespace.SAP, data) == {
        "supportedAppProtocolRes": {"ResponseCode": "OK_SuccessfulNegotiation", "SchemaID": 1}
    }
    # bits: 8 header, 2 doc code, 1 SE(ResponseCode), 1 CH, 2 enum, 1 EE = 15 → state 1 code
    with pytest.raises(ValueOutOfRange) as info:
        decode(Namespace.SAP, set_bits(data, 15, 2, 3))
    assert info.value.bit_position == 15
    with pytest.raises(SecondLevelEvent):
        decode(Namespace.SAP, set_bits(data, 15, 2, 2))


def test_oversize_input_is_rejected_before_decoding() -> None:
    with pytest.raises(OversizeStream) as info:
        decode(Namespace.DC, b"\x80" + b"\xff" * 70000)
    assert info.value.bit_position == 0


def test_string_length_larger_than_input() -> None:
    pos = evccid_length_position()
    data = session_setup("A")
    assert int.from_bytes(data, "big") >> (len(data) * 8 - pos - 8) & 0xFF == 3
    with pytest.raises(TruncatedStream) as info:
        decode(Namespace.CM, set_bits(data, pos, 8, 100 + 2))
    assert info.value.bit_position == pos


@pytest.mark.parametrize("code", [0, 1])
def test_string_table_hits_are_rejected(code: int) -> None:
    pos = evccid_length_position()
    with pytest.raises(StringTableHit) as info:
        decode(Namespace.CM, set_bits(session_setup("A"), pos, 8, code))
    assert info.value.bit_position == pos


def test_binary_length_larger_than_input() -> None:
    # SessionID length at bit 17: 8 → 9 breaks the facet (length 8), 0x7f the input size
    with pytest.raises(ValueOutOfRange):
        decode(Namespace.DC, set_bits(CABLE_CHECK, 17, 8, 9))
    big = encode(Namespace.CM, {"SessionSetupReq": {"Header": HEADER, "EVCCID": "A" * 100}})
    with pytest.raises(TruncatedStream):
        decode(Namespace.CM, big[:40])


def test_enumeration_index_outside_facet() -> None:
    def authorization_res(processing: str) -> bytes:
        body = {"Header": HEADER, "ResponseCode": "OK", "EVSEProcessing": processing}
        return encode(Namespace.CM, {"AuthorizationRes": body})

    # EVSEProcessing: 3 values in 2 bits; Finished (0) and Ongoing (1) differ in the last bit
    last = first_difference(authorization_res("Finished"), authorization_res("Ongoing"))
    with pytest.raises(ValueOutOfRange) as info:
        decode(Namespace.CM, set_bits(authorization_res("Finished"), last - 1, 2, 3))
    assert info.value.bit_position == last - 1


def price_levels(count: int) -> dict[str, Any]:
    """A ScheduleExchangeRes with ``count`` PriceLevelScheduleEntry items (maxOccurs 1024)."""
    schedule = {
        "TimeAnchor": 0,
        "PriceScheduleID": 1,
        "NumberOfPriceLevels": 0,
        "PriceLevelScheduleEntries": {
            "PriceLevelScheduleEntry": [{"Duration": i, "PriceLevel": 0} for i in range(count)]
        },
    }
    body = {
        "Header": HEADER,
        "ResponseCode": "OK",
        "EVSEProcessing": "Finished",
        "Dynamic_SEResControlMode": {"PriceLevelSchedule": schedule},
    }
    return {"ScheduleExchangeRes": body}


def test_lists_longer_than_max_occurs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1024 bound is looped in the grammar (gen/grammar.py LOOP_FROM), so only the
    codec's own count keeps a 1025th item out, on both sides."""
    assert decode(Namespace.CM, encode(Namespace.CM, price_levels(1024))) == price_levels(1024)
    with pytest.raises(FacetViolation, match="1025 items, at most 1024"):
        encode(Namespace.CM, price_levels(1025))
    from ccy.v2g.exi import encoder

    # A peer that ignores maxOccurs: the grammar carries a 1025th item, the bound does not.
    monkeypatch.setattr(encoder, "_check_list", lambda *args: None)
    hostile = encode(Namespace.CM, price_levels(1025))
    monkeypatch.undo()
    with pytest.raises(ValueOutOfRange, match="more than 1024 PriceLevelScheduleEntry") as info:
        decode(Namespace.CM, hostile)
    assert 0 < info.value.bit_position < len(hostile) * 8


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(TrailingData):
        decode(Namespace.DC, CABLE_CHECK + b"\x00")


def test_unsigned_integer_without_end() -> None:
    data = CABLE_CHECK[:10] + b"\xff" * 300
    with pytest.raises(ExiError):
        decode(Namespace.DC, data)


LOOP_REQ = {
    "DC_ChargeLoopReq": {
        "Header": HEADER,
        "DisplayParameters": {"PresentSOC": 50},
        "MeterInfoRequested": False,
        "EVPresentVoltage": {"Exponent": 0, "Value": 400},
        "Scheduled_DC_CLReqControlMode": {
            "EVTargetCurrent": {"Exponent": 0, "Value": 100},
            "EVTargetVoltage": {"Exponent": 0, "Value": 400},
        },
    }
}


def _with(path: list[str], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(LOOP_REQ)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


_DELETE = object()
BAD_VIEWS = [
    (["DC_ChargeLoopReq", "DisplayParameters", "PresentSOC"], 101),  # percent 0..100
    (["DC_ChargeLoopReq", "DisplayParameters", "PresentSOC"], -1),
    (["DC_ChargeLoopReq", "Header", "SessionID"], "3D4C"),  # length 8
    (["DC_ChargeLoopReq", "Header", "SessionID"], "not hex!"),
    (["DC_ChargeLoopReq", "Header", "TimeStamp"], -5),  # unsignedLong
    (["DC_ChargeLoopReq", "Header", "TimeStamp"], 2**64),
    (["DC_ChargeLoopReq", "Header", "TimeStamp"], "1725456327"),
    (["DC_ChargeLoopReq", "MeterInfoRequested"], 0),  # boolean, not int
    (["DC_ChargeLoopReq", "EVPresentVoltage", "Exponent"], 128),  # xs:byte
    (["DC_ChargeLoopReq", "EVPresentVoltage", "Value"], 40000),  # xs:short
    (["DC_ChargeLoopReq", "EVPresentVoltage", "Unit"], "V"),  # no such member
    (["DC_ChargeLoopReq", "EVPresentVoltage"], _DELETE),  # required element missing
    (["DC_ChargeLoopReq", "Header"], [HEADER]),  # not a list
    (["DC_ChargeLoopReq", "DisplayParameters"], "50%"),
]


@pytest.mark.parametrize(("path", "value"), BAD_VIEWS, ids=[f"{p[-1]}={v!r}" for p, v in BAD_VIEWS])
def test_encode_rejects_values_outside_facets(path: list[str], value: Any) -> None:
    encode(Namespace.DC, LOOP_REQ)  # the unmodified view is valid
    with pytest.raises(FacetViolation) as info:
        encode(Namespace.DC, _with(path, value))
    assert info.value.bit_position >= 14


def test_encode_rejects_bad_documents() -> None:
    with pytest.raises(FacetViolation):
        encode(Namespace.DC, {})
    with pytest.raises(FacetViolation):
        encode(Namespace.DC, {"SessionSetupReq": {}})  # a CM message in the DC grammar
    with pytest.raises(FacetViolation):
        encode(Namespace.DC, {**LOOP_REQ, **LOOP_REQ, "DC_CableCheckReq": {}})
    with pytest.raises(FacetViolation):
        encode(Namespace.SAP, {"supportedAppProtocolRes": {"ResponseCode": "Maybe"}})
    with pytest.raises(FacetViolation):
        encode(Namespace.CM, {"SessionSetupReq": {"Header": HEADER, "EVCCID": "x" * 256}})


def test_encode_places_members_in_schema_order() -> None:
    body = dict(reversed(list(LOOP_REQ["DC_ChargeLoopReq"].items())))
    assert encode(Namespace.DC, {"DC_ChargeLoopReq": body}) == encode(Namespace.DC, LOOP_REQ)


def test_non_ascii_strings_round_trip() -> None:
    data = session_setup("WMI-ÄÖ€")
    assert decode(Namespace.CM, data)["SessionSetupReq"]["EVCCID"] == "WMI-ÄÖ€"


ODD_VALUES: list[Any] = [None, 1.5, [], {}, [1], {"a": 1}, 2**70, -(2**70), "", "x" * 300]
ODD_VALUES += ["ÄÖ", True, False, 0, -1, "zz", "AAEC", [{}], "\ud800"]


def _leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in items:
        found += _leaf_paths(child, (*prefix, key))
    return found


def test_mangled_views_raise_only_facet_violations() -> None:
    """Random members replaced by values of any JSON type: FacetViolation or a valid stream."""
    rng = random.Random(118)
    docs = [(Namespace.DC, LOOP_REQ)]
    docs += [(ns, decode(ns, bytes.fromhex(hex_text))) for ns, hex_text in SEEDS]
    encoded = 0
    for _ in range(3000):
        ns, original = rng.choice(docs)
        doc = copy.deepcopy(original)
        path = rng.choice(_leaf_paths(doc)[1:])
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and rng.random() < 0.3:
            del node[path[-1]]
        else:
            node[path[-1]] = rng.choice(ODD_VALUES)
        try:
            data = encode(ns, doc)
        except FacetViolation as exc:
            assert exc.bit_position >= 0
            continue
        encoded += 1
        assert decode(ns, data) == doc
    assert 0 < encoded < 3000
