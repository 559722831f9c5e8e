# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet's two objects: CONTRACT (Profinet1) is found by discovery and checked by
tests/unit/test_contract_enums.py; POWER_STAGE is not discovered, so it is held to its XML here
with the same comparison, and the two share what one bus name must share."""

import dataclasses
import re

from ccy.profinet import contract as pn
from ccy.runtime.contract import unit_contracts
from ccy.runtime.contract_xml import differences, interface_file


def test_discovery_finds_the_profinet1_contract() -> None:
    found = [c for c in unit_contracts() if c.unit == "ccy-profinet"]
    assert found == [pn.CONTRACT]
    assert pn.CONTRACT.main_interface == pn.PROFINET_IFACE
    assert pn.CONTRACT.object_path == "/org/ccy/Profinet"


def test_the_power_stage_equals_its_xml() -> None:
    assert differences(pn.POWER_STAGE) == []


def test_a_drifted_power_stage_is_caught() -> None:
    enums = dict(pn.POWER_STAGE.enums)
    enums[f"{pn.IFACE}.Mode"] = pn.IsolationStatus
    assert differences(dataclasses.replace(pn.POWER_STAGE, enums=enums))


def test_both_objects_share_the_bus_name_and_unit() -> None:
    assert {c.bus_name for c in pn.CONTRACTS} == {"org.ccy.Profinet"}
    assert {c.unit for c in pn.CONTRACTS} == {"ccy-profinet"}
    assert len({c.object_path for c in pn.CONTRACTS}) == 2
    assert pn.CONTRACT.section == pn.POWER_STAGE.section == "profinet"


def test_discharge_is_a_mode_and_the_plc_errors_are_catalogued() -> None:
    assert pn.Mode.DISCHARGE.value == "Discharge"
    assert pn.POWER_STAGE.error("PlcLost").stops_power
    assert not pn.POWER_STAGE.error("PlcReconnecting").stops_power


def test_every_power_stage_error_is_documented() -> None:
    text = interface_file(pn.IFACE).read_text()
    comments = " ".join(re.findall(r"<!--(.*?)-->", text, flags=re.S))
    for spec in pn.POWER_STAGE.errors:
        assert re.search(rf"\b{spec.name}\b", comments), spec.name


def test_profinet1_members_are_the_contracts_names() -> None:
    text = interface_file(pn.PROFINET_IFACE).read_text()
    props = set(re.findall(r'<property name="(\w+)"', text))
    methods = set(re.findall(r'<method name="(\w+)"', text))
    assert props == {p.value for p in pn.ProfinetProp}
    assert methods == {m.value for m in pn.ProfinetMethod}
