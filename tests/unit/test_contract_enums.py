# SPDX-License-Identifier: Apache-2.0
"""Every unit's contract module against its dbus/*.xml: enumerations and error catalogue.

Pure (no bus, no root): each ``ccy.<unit>.contract`` with a CONTRACT is found by discovery,
so a new unit is covered as soon as its contract module exists. Enumerations compare as
ordered lists (the XML documents the StrEnum, one order serves both); the main interface's
``org.ccy.Error.*`` annotations equal the contract's catalogue. The negative tests prove that
a drifted enum or catalogue is caught by the same comparison the positive tests use.
"""

import dataclasses
import re
from enum import StrEnum
from pathlib import Path

import pytest

from ccy.bsp import contract as bsp
from ccy.bsp.protocol.codes import FirmwareApplication
from ccy.runtime.contract import UnitContract, unit_contracts
from ccy.runtime.contract_xml import differences, interface_file, read_interface
from ccy.runtime.errors import Severity

CONTRACTS = unit_contracts()
IDS = [c.unit for c in CONTRACTS]


def test_discovery_finds_the_units() -> None:
    assert "ccy-bsp" in IDS
    assert all(c.interfaces and c.bus_name.startswith("org.ccy.") for c in CONTRACTS)


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_contract_equals_its_xml(contract: UnitContract) -> None:
    assert differences(contract) == []


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_every_enum_is_a_strenum_with_distinct_values(contract: UnitContract) -> None:
    for key, enum in contract.enums.items():
        assert issubclass(enum, StrEnum), key
        values = [m.value for m in enum]
        assert len(values) == len(set(values)), key


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_every_unit_exports_errors1_with_its_enums(contract: UnitContract) -> None:
    assert "org.ccy.Errors1" in contract.interfaces
    assert contract.enums["org.ccy.Errors1.Raised.severity"] is Severity


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_each_error_type_is_documented_in_the_main_xml(contract: UnitContract) -> None:
    text = interface_file(contract.main_interface).read_text()
    comments = " ".join(re.findall(r"<!--(.*?)-->", text, flags=re.S))
    for spec in contract.errors:
        assert re.search(rf"\b{spec.name}\b", comments), spec.name
        assert spec.description and spec.source, spec.name


# ---------------------------------------------------------------- what the code can produce
def test_firmware_platform_covers_every_code() -> None:
    produced = {bsp.firmware_platform(code) for code in range(256)} | {bsp.firmware_platform(None)}
    assert produced == set(bsp.FirmwarePlatform)
    assert bsp.firmware_platform(0x82) == "CC Y" and bsp.firmware_platform(0x83) == "Unknown"


def test_firmware_application_covers_the_protocol_enum() -> None:
    produced = {bsp.firmware_application(a) for a in FirmwareApplication}
    assert produced | {bsp.firmware_application(None)} == set(bsp.FirmwareApplicationValue)


# ---------------------------------------------------------------- drift is caught
class DriftedPlatform(StrEnum):
    """FirmwarePlatform as the code could produce it before: the raw code as a value."""

    NOT_KNOWN_YET = ""
    CHARGE_SOM = "chargeSOM"
    CC_Y = "CC Y"
    UNKNOWN = "Unknown"
    RAW = "0x83"


class ShortCe(StrEnum):
    UNKNOWN = "Unknown"
    A = "A"


def _with_enum(key: str, enum: type[StrEnum] | None) -> UnitContract:
    enums = dict(bsp.CONTRACT.enums)
    if enum is None:
        del enums[key]
    else:
        enums[key] = enum
    return dataclasses.replace(bsp.CONTRACT, enums=enums)


def test_a_value_the_xml_does_not_list_fails() -> None:
    found = differences(_with_enum("org.ccy.Bsp1.FirmwarePlatform", DriftedPlatform))
    assert len(found) == 1
    assert "org.ccy.Bsp1.FirmwarePlatform: the code can produce ['0x83']" in found[0]


def test_a_value_the_enum_lacks_fails() -> None:
    found = differences(_with_enum("org.ccy.Bsp1.CeChanged.new", ShortCe))
    assert found == [
        f"org.ccy.Bsp1.CeChanged.new: {interface_file('org.ccy.Bsp1')} lists "
        "['B0', 'B', 'C', 'E', 'EC', 'Invalid'] that the enum lacks"
    ]


def test_an_annotation_without_an_enum_fails() -> None:
    found = differences(_with_enum("org.ccy.Bsp1.Temperatures.status", None))
    assert found == [
        f"org.ccy.Bsp1.Temperatures.status: {interface_file('org.ccy.Bsp1')} lists values, "
        "the contract has no enum"
    ]


def test_an_enum_without_an_annotation_fails(tmp_path: Path) -> None:
    for name in bsp.CONTRACT.interfaces:
        text = interface_file(name).read_text()
        if name == bsp.IFACE:
            text = re.sub(
                r'>\s*<annotation name="org.ccy.Enum" value="[^"]*"/>\s*</arg>', "/>", text
            )
        (tmp_path / f"{name}.xml").write_text(text)
    found = differences(bsp.CONTRACT, tmp_path)
    assert {f.split(":")[0] for f in found} == {
        "org.ccy.Bsp1.SetCcsReady.state",
        "org.ccy.Bsp1.CeChanged.old",
        "org.ccy.Bsp1.CeChanged.new",
        "org.ccy.Bsp1.IdChanged.old",
        "org.ccy.Bsp1.IdChanged.new",
    }
    assert all("no org.ccy.Enum" in f for f in found)


def test_an_order_change_fails() -> None:
    reordered = StrEnum("Reordered", [(s.name, s.value) for s in reversed(Severity)])  # type: ignore[misc]
    found = differences(_with_enum("org.ccy.Errors1.Raised.severity", reordered))
    assert found == [
        "org.ccy.Errors1.Raised.severity: the order differs: code ['Low', 'Medium', 'High'], "
        "XML ['High', 'Medium', 'Low']"
    ]


def test_a_changed_error_catalogue_fails() -> None:
    softer = dataclasses.replace(bsp.LINK_LOST, stops_power=False)
    errors = tuple(softer if e is bsp.LINK_LOST else e for e in bsp.CONTRACT.errors)
    found = differences(dataclasses.replace(bsp.CONTRACT, errors=errors))
    assert len(found) == 1 and "error catalogue" in found[0]
    fewer = dataclasses.replace(bsp.CONTRACT, errors=bsp.CONTRACT.errors[:-1])
    assert len(differences(fewer)) == 1


def test_a_key_outside_the_interfaces_fails() -> None:
    found = differences(_with_enum("org.ccy.Bsp2.CeState", ShortCe))
    assert found == ["org.ccy.Bsp2.CeState: not a member of ('org.ccy.Bsp1', 'org.ccy.Errors1')"]


def test_signal_argument_names_are_compared() -> None:
    args = {**bsp.CONTRACT.signal_args, "org.ccy.Bsp1.CeChanged": ("before", "after")}
    found = differences(dataclasses.replace(bsp.CONTRACT, signal_args=args))
    assert len(found) == 1 and found[0].startswith("org.ccy.Bsp1.CeChanged: the contract names")


def test_the_xml_reader_sees_quoted_values() -> None:
    xml = read_interface("org.ccy.Bsp1")
    assert xml.enums["org.ccy.Bsp1.FirmwarePlatform"] == ["", "chargeSOM", "CC Y", "Unknown"]
    assert xml.enums["org.ccy.Bsp1.Temperatures.status"][0] == "Ok"
    assert xml.errors[0].name == "LinkLost" and xml.errors[0].severity is Severity.HIGH
