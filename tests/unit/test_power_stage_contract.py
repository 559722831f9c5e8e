# SPDX-License-Identifier: Apache-2.0
"""org.ccy.PowerStage1: the XML and ccy.profinet.contract name the same members, enumeration
values and errors; the simulated stage produces only values the XML lists."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ccy.profinet.contract import IFACE, POWER_STAGE, Method, Mode, Prop
from ccy.runtime.contract import ENUM_ANNOTATION
from ccy.sim.power_stage.model import Fault, PowerStageModel, StageConfig

TOP = Path(__file__).resolve().parents[2]
XML = TOP / "dbus" / f"{IFACE}.xml"


def interface() -> ET.Element:
    (iface,) = [i for i in ET.parse(XML).getroot().iter("interface") if i.get("name") == IFACE]
    return iface


def xml_enums() -> dict[str, list[str]]:
    found = {}
    iface = interface()
    for member in iface:
        for note in member.findall("annotation"):
            if note.get("name") == ENUM_ANNOTATION:
                found[f"{IFACE}.{member.get('name')}"] = note.get("value", "").split(" ")
        for arg in member.findall("arg"):
            for note in arg.findall("annotation"):
                if note.get("name") == ENUM_ANNOTATION:
                    key = f"{IFACE}.{member.get('name')}.{arg.get('name')}"
                    found[key] = note.get("value", "").split(" ")
    return found


def test_every_enum_equals_its_xml_annotation() -> None:
    xml = xml_enums()
    assert set(xml) == set(POWER_STAGE.interface_enums(IFACE))
    for key in xml:
        assert xml[key] == POWER_STAGE.enum_values(key), key


def test_members_are_the_contracts() -> None:
    iface = interface()
    props = {p.get("name") for p in iface.findall("property")}
    methods = {m.get("name") for m in iface.findall("method")}
    assert props == {p.value for p in Prop}
    assert methods == {m.value for m in Method}
    assert all(p.get("access") == "read" for p in iface.findall("property"))
    types = {p.get("name"): p.get("type") for p in iface.findall("property")}
    assert types[Prop.SUPPLY_READY] == "b"
    assert {types[p] for p in Prop if p not in (Prop.SUPPLY_READY,)} <= {"d", "s"}


def test_error_list_of_the_xml_is_the_catalogue() -> None:
    text = XML.read_text()
    tail = text[text.rindex("Error types the power stage raises") :]
    listed = re.findall(r"^\s{4}(\w+) / - / (\w+)", tail, re.M)
    assert listed == [(e.name, e.severity.value) for e in POWER_STAGE.errors]
    assert POWER_STAGE.bus_name == "org.ccy.Profinet"
    assert POWER_STAGE.object_path in text and POWER_STAGE.bus_name in text


@pytest.mark.parametrize("fault", list(Fault))
def test_the_model_produces_only_listed_values(fault: Fault) -> None:
    """Drive the model through every mode and fault; every enum value it shows is listed."""
    listed = {key.rsplit(".", 1)[1]: set(values) for key, values in xml_enums().items()}
    stage = PowerStageModel(StageConfig())
    seen = [stage.snapshot()]
    seen.append(stage.start_self_test(0.0))
    stage.set_target(800.0, 10.0, 0.0)
    t = 0.0
    for mode in (Mode.CABLE_CHECK, Mode.PRE_CHARGE, Mode.CHARGE):
        seen.append(stage.set_mode(mode, t))
        for _ in range(10):
            t += 0.3
            seen.append(stage.set_target(800.0, 10.0, t))
    seen.append(stage.inject(fault, t + 0.1))
    seen.append(stage.advance(t + 5.0))
    for snap in seen:
        assert snap.mode.value in listed["Mode"]
        assert snap.isolation_status.value in listed["IsolationStatus"]
        assert snap.self_test.value in listed["SelfTest"]
        assert snap.errors <= {e.name for e in POWER_STAGE.errors}
    assert {s.mode for s in seen} >= {Mode.CABLE_CHECK, Mode.PRE_CHARGE, Mode.CHARGE, Mode.OFF}
