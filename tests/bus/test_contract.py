# SPDX-License-Identifier: Apache-2.0
"""The running services and the committed introspection XML in dbus/ must not drift.

For every interface the XML defines, busctl's introspection of the running service must
list exactly the same methods (argument names, types, directions), signals (argument types,
and names where the service names them), and properties (types, access, annotations).
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ccy.sim.stack import Stack

pytestmark = pytest.mark.root
TOP = Path(__file__).resolve().parents[2]

# service bus name, object path, interface XML files exported there
OBJECTS = [("org.ccy.Bsp", "/org/ccy/Bsp", ["org.ccy.Bsp1", "org.ccy.Errors1"])]

Member = tuple[str, str, tuple[tuple[str, str, str], ...]]


def members(iface: ET.Element, signal_names: bool) -> set[Member]:
    out: set[Member] = set()
    for m in iface:
        if m.tag == "method":
            args = tuple(
                (a.get("name", ""), a.get("type", ""), a.get("direction", "in"))
                for a in m.iter("arg")
            )
            out.add(("method", m.get("name", ""), args))
        elif m.tag == "signal":
            args = tuple(
                (a.get("name", "") if signal_names else "", a.get("type", ""), "out")
                for a in m.iter("arg")
            )
            out.add(("signal", m.get("name", ""), args))
        elif m.tag == "property":
            notes = tuple(
                (a.get("name", ""), a.get("value", ""), "annotation") for a in m.iter("annotation")
            )
            spec = ("", m.get("type", ""), m.get("access", ""))
            out.add(("property", m.get("name", ""), (spec, *sorted(notes))))
    return out


def interfaces(xml_text: str) -> dict[str, ET.Element]:
    return {i.get("name", ""): i for i in ET.fromstring(xml_text).iter("interface")}


def contract(name: str) -> ET.Element:
    return interfaces(Path(TOP / "dbus" / f"{name}.xml").read_text())[name]


@pytest.mark.parametrize(("service", "path", "names"), OBJECTS)
def test_running_service_matches_contract(
    stack: Stack, busctl: Any, service: str, path: str, names: list[str]
) -> None:
    r = busctl(stack.address(), "introspect", "--xml-interface", service, path)
    assert r.returncode == 0, r.stderr
    live = interfaces(r.stdout)
    for name in names:
        assert name in live, f"{service} does not export {name}"
        live_iface, xml_iface = live[name], contract(name)
        named = all(a.get("name") for s in live_iface.iter("signal") for a in s.iter("arg"))
        assert members(live_iface, named) == members(xml_iface, named), name
    ours = {n for n in live if n.startswith("org.ccy.")}
    assert ours == set(names), "the service exports interfaces the contract does not list"


def test_every_member_is_documented_in_place() -> None:
    """Each member of each dbus/*.xml is named in a comment of that file (its documentation)."""
    for xml in sorted((TOP / "dbus").glob("org.ccy.*.xml")):
        text = xml.read_text()
        comments = " ".join(re.findall(r"<!--(.*?)-->", text, flags=re.S))
        for iface in interfaces(text).values():
            for m in iface:
                if m.tag in ("method", "signal", "property"):
                    assert re.search(rf"\b{m.get('name')}\b", comments), (xml.name, m.get("name"))
