# SPDX-License-Identifier: Apache-2.0
"""Compare a running service's introspection XML with the committed ``dbus/<interface>.xml``.

What counts (the rules of tests/bus/test_contract.py): methods with their argument names,
types, directions and annotations; signals with argument types and annotations, and names
where the service names them; properties with type, access and annotations (org.ccy.Enum
included); the interface's own annotations (the org.ccy.Error catalogue). Prose, order and
the standard org.freedesktop.DBus.* interfaces do not count.
"""

import xml.etree.ElementTree as ET

Member = tuple[str, str, tuple[tuple[str, ...], ...]]


def notes(element: ET.Element) -> tuple[tuple[str, str], ...]:
    """The element's own annotations (not its children's), sorted."""
    return tuple(
        sorted((a.get("name", ""), a.get("value", "")) for a in element.findall("annotation"))
    )


def members(iface: ET.Element, signal_names: bool) -> set[Member]:
    """The interface's methods, signals and properties as comparable tuples."""
    out: set[Member] = set()
    for m in iface:
        if m.tag == "method":
            args = tuple(
                (a.get("name", ""), a.get("type", ""), a.get("direction", "in"), str(notes(a)))
                for a in m.iter("arg")
            )
            out.add(("method", m.get("name", ""), args))
        elif m.tag == "signal":
            args = tuple(
                (a.get("name", "") if signal_names else "", a.get("type", ""), "out", str(notes(a)))
                for a in m.iter("arg")
            )
            out.add(("signal", m.get("name", ""), args))
        elif m.tag == "property":
            spec = ("", m.get("type", ""), m.get("access", ""))
            out.add(("property", m.get("name", ""), (spec, *notes(m))))
    return out


def interfaces(xml_text: str) -> dict[str, ET.Element]:
    """Interface name → element, of an introspection document."""
    return {i.get("name", ""): i for i in ET.fromstring(xml_text).iter("interface")}


def differences(live: ET.Element, contract: ET.Element) -> list[str]:
    """How the live interface differs from the contract's (empty when they agree)."""
    named = all(a.get("name") for s in live.iter("signal") for a in s.iter("arg"))
    ours, theirs = members(live, named), members(contract, named)
    out = [f"the service has {m}, the XML not" for m in sorted(ours - theirs)]
    out += [f"the XML has {m}, the service not" for m in sorted(theirs - ours)]
    if notes(live) != notes(contract):
        out.append(f"interface annotations: service {notes(live)}, XML {notes(contract)}")
    return out
