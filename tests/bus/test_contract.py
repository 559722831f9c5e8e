# SPDX-License-Identifier: Apache-2.0
"""The running services and the committed introspection XML in dbus/ must not drift.

For every unit contract found (``ccy.<unit>.contract``), busctl's introspection of the
running service must list exactly the interfaces the contract names, and for each the same
methods (argument names, types, directions, annotations), signals (argument types and
annotations, and names where the service names them), properties (types, access,
annotations: org.ccy.Enum included) and interface annotations (the org.ccy.Error catalogue)
as the XML. Runs on the stack's private bus; tests/unit/test_contract_enums.py holds the XML
to the contract modules without a bus.
"""

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccy.runtime.contract import unit_contracts
from ccy.runtime.policy import POLICIES
from ccy.sim.stack import Stack
from ccy.sim.stack_table import STACK
from ccy.testing.folders import traversable_tmp
from ccy.testing.introspection import interfaces, members, notes

# No root mark: the stack grants the invoking user what ccy's users get (issue 10: the contract
# test runs without root).
TOP = Path(__file__).resolve().parents[2]

# service bus name, object path, interface XML files exported there: from the contracts
NOT_RUNNING_YET: dict[str, str] = {}
"""Contracts whose unit is not in the simulated stack yet, with the reason. A unit that joins
the stack must leave this table (test_every_contract_is_checked_on_the_bus)."""
RUNNING = {row.name for row in STACK}
# Every object of a running unit: its contract's, and the further objects its bus policy
# names under the same bus name (ccy-profinet's power stage on /org/ccy/PowerStage).
OBJECTS = [
    (c.bus_name, c.object_path, list(c.interfaces))
    for p in POLICIES
    for c in (p.contract, *p.also)
    if c.unit in RUNNING
]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The whole simulated stack: every unit the stack table runs."""
    directory = traversable_tmp("ccy-contract-")
    s = Stack(directory)
    s.up()
    try:
        yield s
    finally:
        s.down()
        shutil.rmtree(directory, ignore_errors=True)


def test_every_contract_is_checked_on_the_bus() -> None:
    units = {c.unit for c in unit_contracts()}
    assert units - RUNNING == set(NOT_RUNNING_YET)
    assert not RUNNING & set(NOT_RUNNING_YET)
    assert OBJECTS, "no running unit has a contract"


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
        assert notes(live_iface) == notes(xml_iface), name
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
