# SPDX-License-Identifier: Apache-2.0
"""NameOfStation rules (IEC 61158-6-10; profinet.md "Station names")."""

import pytest

from ccy.profinet.dcp.names import (
    InvalidStationName,
    check_station_name,
    decode_station_name,
    station_name_problem,
)

VALID = [
    "a",
    "ccy-charger",
    "fortescue-dev",
    "plc1.line-3.hall7",
    "1.2.3",  # three numeric labels are not an IPv4 address
    "1.2.3.4.5",
    "port-01",
    "port-0001",
    "xn--bcher-kva",
    "a" * 63,
    ".".join(["a" * 59] * 4),  # 239 characters
    "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 48,  # 240 characters
]
INVALID = {
    "": "empty",
    "192.168.0.1": "IPv4",
    "0.0.0.0": "IPv4",
    "300.1.1.1": "IPv4",  # looks like one, even out of range
    "port-001": "port-xyz",
    "port-123-45678": "port-xyz",
    "port-001.plc": "port-xyz",
    "Ccy": "'C'",
    "ccy_charger": "'_'",
    "ccy charger": "' '",
    "-ccy": "starts or ends",
    "ccy-": "starts or ends",
    "a.-b": "starts or ends",
    "a..b": "empty label",
    ".a": "empty label",
    "a.": "empty label",
    "a" * 64: "more than 63",
    "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 49: "more than 240",
    "caf\u00e9": "'\u00e9'",
}


@pytest.mark.parametrize("name", VALID)
def test_valid_names_pass(name: str) -> None:
    assert station_name_problem(name) is None
    assert check_station_name(name) == name


@pytest.mark.parametrize(("name", "words"), INVALID.items())
def test_invalid_names_are_refused_with_the_rule(name: str, words: str) -> None:
    problem = station_name_problem(name)
    assert problem is not None and words in problem
    with pytest.raises(InvalidStationName, match="invalid station name"):
        check_station_name(name)


def test_empty_name_only_where_a_set_clears_it() -> None:
    assert check_station_name("", allow_empty=True) == ""
    assert decode_station_name(b"", allow_empty=True) == ""
    with pytest.raises(InvalidStationName):
        decode_station_name(b"")


def test_wire_names_must_be_ascii() -> None:
    assert decode_station_name(b"ccy-charger") == "ccy-charger"
    with pytest.raises(InvalidStationName, match="non-ASCII"):
        decode_station_name(b"caf\xc3\xa9")
    with pytest.raises(InvalidStationName, match="'\\\\x00'"):
        decode_station_name(b"ccy\x00")
