# SPDX-License-Identifier: Apache-2.0
"""ccy.runtime.contract_xml: the annotation reader is strict, and add_enum_annotations gives a
live interface exactly the annotations its XML carries (no bus: introspection is pure)."""

import xml.etree.ElementTree as ET

import pytest
from dbus_fast import introspection as intr

from ccy.runtime.contract import ENUM_ANNOTATION, UnitContract, enum_text, unit_contracts
from ccy.runtime.contract_xml import (
    ContractXmlError,
    add_enum_annotations,
    interface_file,
    parse_enum_text,
    parse_interface,
    read_interface,
)

CONTRACTS = unit_contracts()
INTERFACES = [(c, name) for c in CONTRACTS for name in c.interfaces]


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (["A", "B0", "B"], "A B0 B"),
        (["", "chargeSOM", "CC Y", "Unknown"], "'' chargeSOM 'CC Y' Unknown"),
    ],
)
def test_enum_text_round_trips(values: list[str], text: str) -> None:
    assert enum_text(values) == text
    assert parse_enum_text(text) == values


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("A  B", "not canonical"),
        ("A B ", "not canonical"),
        ('"" A', "not canonical"),
        ("A 'B", "No closing quotation"),
        ("", "no value"),
        ("A B A", "repeats"),
    ],
)
def test_enum_text_refuses(text: str, why: str) -> None:
    with pytest.raises(ContractXmlError, match=why):
        parse_enum_text(text)


def _xml(members: str, interface_annotations: str = "") -> str:
    return f'<node><interface name="x.Y1">{interface_annotations}{members}</interface></node>'


@pytest.mark.parametrize(
    ("xml", "why"),
    [
        (
            _xml(
                '<property name="P" type="b" access="read">'
                '<annotation name="org.ccy.Enum" value="A"/></property>'
            ),
            "not 's'",
        ),
        (
            _xml(
                '<property name="P" type="s" access="read">'
                '<annotation name="org.ccy.Enums" value="A"/></property>'
            ),
            "unknown annotation",
        ),
        (
            _xml(
                '<property name="P" type="ad" access="read">'
                '<annotation name="org.ccy.Enum.status" value="A"/></property>'
            ),
            "struct-array",
        ),
        (_xml("", '<annotation name="org.ccy.Error.X" value="Severe StopsPower"/>'), "expected"),
        (_xml("", '<annotation name="org.ccy.Error.X" value="High"/>'), "expected"),
        (_xml("", '<annotation name="org.ccy.Thing" value="1"/>'), "unknown interface"),
        (
            _xml(
                '<signal name="S"><arg type="s">'
                '<annotation name="org.ccy.Enum" value="A"/></arg></signal>'
            ),
            "needs a name",
        ),
        ("<node>", "not well-formed"),
        ("<node/>", "defines no interface"),
    ],
)
def test_the_reader_refuses(xml: str, why: str) -> None:
    with pytest.raises(ContractXmlError, match=why):
        parse_interface(xml, "x.Y1")


def test_foreign_annotations_are_left_alone() -> None:
    xml = _xml(
        '<property name="P" type="s" access="read"><annotation '
        'name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"/></property>'
    )
    assert parse_interface(xml, "x.Y1").enums == {}


def _as_the_service_introspects(name: str) -> intr.Interface:
    """The XML's interface as dbus-fast's ServiceInterface.introspect() gives it: no org.ccy
    annotations and signal arguments without names."""
    text = interface_file(name).read_text()
    iface = next(i for i in intr.Node.parse(text).interfaces if i.name == name)

    def strip(annotations: dict[str, str]) -> None:
        for key in [k for k in annotations if k.startswith("org.ccy.")]:
            del annotations[key]

    strip(iface.annotations)
    for prop in iface.properties:
        strip(prop.annotations)
    for method in iface.methods:
        for arg in (*method.in_args, *method.out_args):
            strip(arg.annotations)
    for sig in iface.signals:
        for arg in sig.args:
            strip(arg.annotations)
            arg.name = None
    return iface


@pytest.mark.parametrize(
    ("contract", "name"), INTERFACES, ids=[f"{c.unit}:{n}" for c, n in INTERFACES]
)
def test_add_enum_annotations_reproduces_the_xml(contract: UnitContract, name: str) -> None:
    live = add_enum_annotations(_as_the_service_introspects(name), contract)
    text = ET.tostring(live.to_xml(), encoding="unicode")
    got, want = parse_interface(f"<node>{text}</node>", name), read_interface(name)
    assert (got.enums, got.errors, got.signal_args) == (want.enums, want.errors, want.signal_args)


def test_errors1_alone_gets_its_shared_annotations() -> None:
    live = add_enum_annotations(_as_the_service_introspects("org.ccy.Errors1"))
    raised = next(s for s in live.signals if s.name == "Raised")
    assert [a.name for a in raised.args] == ["type", "subtype", "severity", "message", "raised_us"]
    assert raised.args[2].annotations[ENUM_ANNOTATION] == "High Medium Low"


def test_a_key_naming_no_member_is_an_error() -> None:
    contract = CONTRACTS[0]
    iface = intr.Interface(contract.main_interface)
    with pytest.raises(ContractXmlError, match="no such property"):
        add_enum_annotations(iface, contract)


def test_a_signal_with_other_arity_is_an_error() -> None:
    iface = intr.Interface("org.ccy.Errors1", signals=[intr.Signal("Cleared", [intr.Arg("s")])])
    with pytest.raises(ContractXmlError, match="names 3 arguments"):
        add_enum_annotations(iface)
