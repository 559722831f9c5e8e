# SPDX-License-Identifier: Apache-2.0
"""The machine-readable part of ``dbus/<interface>.xml``, and the same on a live interface.

The XML is the contract (STYLE.md, "NetworkManager introspection/"): beside the prose of each
member it carries the annotations that ``ccy.runtime.contract`` defines, which this module
reads (``read_interface``) so that a pure test can hold each unit's contract module to it,
and writes onto a running service's introspection (``add_enum_annotations``) so that the bus
test can hold the service to it as well. Reading is strict: an unknown ``org.ccy.*``
annotation, an enumeration annotation on a member that is not a string, a value list that is
not written canonically or an unknown severity is a ContractXmlError naming the file.
"""

import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from dbus_fast import introspection as intr

from ccy.runtime.contract import (
    ENUM_ANNOTATION,
    ERROR_ANNOTATION,
    ERRORS_ENUMS,
    ERRORS_SIGNAL_ARGS,
    KEEPS_POWER,
    STOPS_POWER,
    UnitContract,
    enum_text,
    error_text,
)
from ccy.runtime.errors import Severity
from ccy.runtime.paths import share_dir

_OURS = "org.ccy."
_POWER = {STOPS_POWER: True, KEEPS_POWER: False}


class ContractXmlError(ValueError):
    """An interface XML, or a live interface, does not fit the annotation conventions."""


@dataclass(frozen=True)
class CatalogueEntry:
    """One ``org.ccy.Error.<Type>`` annotation: the machine-readable part of an ErrorSpec."""

    name: str
    severity: Severity
    stops_power: bool


@dataclass(frozen=True)
class InterfaceXml:
    """What one interface XML declares machine-readably."""

    name: str
    file: str
    enums: dict[str, list[str]] = field(default_factory=dict)
    """Key as in ``UnitContract.enums`` → the values, in the XML's order."""
    errors: list[CatalogueEntry] = field(default_factory=list)
    """The ``org.ccy.Error.*`` annotations on the interface, in the XML's order."""
    signal_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """``Interface.Signal`` → its argument names."""


def parse_enum_text(text: str) -> list[str]:
    """The values of an ``org.ccy.Enum`` annotation; ContractXmlError unless canonical.

    Canonical means: what :func:`ccy.runtime.contract.enum_text` writes for these values (one
    space between values, quotes only where needed), with at least one value and no repeats.
    """
    try:
        values = shlex.split(text)
    except ValueError as exc:
        raise ContractXmlError(f"enum value list {text!r}: {exc}") from None
    if not values:
        raise ContractXmlError("an enum annotation lists no value")
    if len(set(values)) != len(values):
        raise ContractXmlError(f"enum value list {text!r} repeats a value")
    if enum_text(values) != text:
        raise ContractXmlError(
            f"enum value list {text!r} is not canonical: write {enum_text(values)!r}"
        )
    return values


def _annotations(element: ET.Element, where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in element.findall("annotation"):
        name, value = child.get("name", ""), child.get("value")
        if value is None:
            raise ContractXmlError(f"{where}: annotation {name!r} has no value")
        found[name] = value
    return found


def _member_enums(kind: str, element: ET.Element, key: str, type_: str) -> dict[str, list[str]]:
    """The enumeration annotations of one property or argument, by key."""
    out: dict[str, list[str]] = {}
    for name, value in _annotations(element, key).items():
        if not name.startswith(_OURS):
            continue
        if name == ENUM_ANNOTATION:
            if type_ != "s":
                raise ContractXmlError(f"{key}: {ENUM_ANNOTATION} on type {type_!r}, not 's'")
            out[key] = parse_enum_text(value)
        elif name.startswith(ENUM_ANNOTATION + "."):
            field_name = name[len(ENUM_ANNOTATION) + 1 :]
            struct = type_.startswith(("a(", "("))
            if not (struct and "s" in type_) or not field_name.isidentifier():
                raise ContractXmlError(
                    f"{key}: {name} needs a struct (or struct-array) {kind} with string fields "
                    f"and a field name (type {type_!r})"
                )
            out[f"{key}.{field_name}"] = parse_enum_text(value)
        else:
            raise ContractXmlError(f"{key}: unknown annotation {name!r}")
    return out


def _catalogue(element: ET.Element, where: str) -> list[CatalogueEntry]:
    entries: list[CatalogueEntry] = []
    for name, value in _annotations(element, where).items():
        if not name.startswith(_OURS):
            continue
        if not name.startswith(ERROR_ANNOTATION + "."):
            raise ContractXmlError(f"{where}: unknown interface annotation {name!r}")
        words = value.split(" ")
        severities = [s.value for s in Severity]
        if len(words) != 2 or words[0] not in severities or words[1] not in _POWER:
            raise ContractXmlError(
                f"{where}: {name} = {value!r}: expected '<{'|'.join(severities)}> "
                f"<{STOPS_POWER}|{KEEPS_POWER}>'"
            )
        entries.append(
            CatalogueEntry(name[len(ERROR_ANNOTATION) + 1 :], Severity(words[0]), _POWER[words[1]])
        )
    return entries


def parse_interface(text: str, name: str, file: str = "<xml>") -> InterfaceXml:
    """The annotations of interface ``name`` in the introspection XML ``text``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ContractXmlError(f"{file}: not well-formed XML: {exc}") from None
    element = next((i for i in root.iter("interface") if i.get("name") == name), None)
    if element is None:
        raise ContractXmlError(f"{file}: defines no interface {name}")
    parsed = InterfaceXml(name, file, errors=_catalogue(element, f"{file}: {name}"))
    for member in element:
        member_name = member.get("name", "")
        key = f"{name}.{member_name}"
        if member.tag == "property":
            parsed.enums.update(_member_enums("property", member, key, member.get("type", "")))
        elif member.tag in ("method", "signal"):
            args = member.findall("arg")
            if member.tag == "signal":
                parsed.signal_args[key] = tuple(a.get("name", "") for a in args)
            for arg in args:
                arg_key = f"{key}.{arg.get('name', '')}"
                if any(n.startswith(_OURS) for n in _annotations(arg, arg_key)) and not arg.get(
                    "name"
                ):
                    raise ContractXmlError(f"{file}: {key}: an annotated argument needs a name")
                parsed.enums.update(_member_enums("arg", arg, arg_key, arg.get("type", "")))
    return parsed


def interface_file(name: str, folder: Path | None = None) -> Path:
    """``dbus/<name>.xml`` in ``folder`` (default: the share folder's dbus/)."""
    return (folder if folder is not None else share_dir() / "dbus") / f"{name}.xml"


def read_interface(name: str, folder: Path | None = None) -> InterfaceXml:
    """The annotations of ``dbus/<name>.xml`` (see :func:`interface_file`)."""
    path = interface_file(name, folder)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractXmlError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return parse_interface(text, name, str(path))


def enum_annotations(name: str, folder: Path | None = None) -> dict[str, list[str]]:
    """``{key: [values]}`` for every enumeration annotation of ``dbus/<name>.xml``."""
    return read_interface(name, folder).enums


def _find_arg(iface: intr.Interface, member: str, arg_name: str) -> intr.Arg | None:
    for method in iface.methods:
        if method.name == member:
            return next(
                (a for a in (*method.in_args, *method.out_args) if a.name == arg_name), None
            )
    for sig in iface.signals:
        if sig.name == member:
            return next((a for a in sig.args if a.name == arg_name), None)
    return None


def _name_signal_args(iface: intr.Interface, signal_args: dict[str, tuple[str, ...]]) -> None:
    for sig in iface.signals:
        names = signal_args.get(f"{iface.name}.{sig.name}")
        if names is None:
            continue
        if len(names) != len(sig.args):
            raise ContractXmlError(
                f"{iface.name}.{sig.name}: the contract names {len(names)} arguments, "
                f"the service sends {len(sig.args)}"
            )
        for arg, arg_name in zip(sig.args, names, strict=True):
            if arg.name not in (None, arg_name):
                raise ContractXmlError(
                    f"{iface.name}.{sig.name}: the service names an argument {arg.name!r}, "
                    f"the contract {arg_name!r}"
                )
            arg.name = arg_name


def add_enum_annotations(
    introspection: intr.Interface, contract: UnitContract | None = None
) -> intr.Interface:
    """Give a live interface the annotations its XML carries, from the contract's code.

    Signal arguments get their names (``signal_args``), every enumeration of ``contract``
    (plus the org.ccy.Errors1 ones every unit shares; ``contract=None`` gives only those)
    its ``org.ccy.Enum`` annotation, and the contract's main interface its error catalogue.
    Call it from ``ServiceInterface.introspect()``. A key that names no member of the
    interface is a ContractXmlError: the contract and the service disagree.
    """
    name = introspection.name
    enums: dict[str, type[StrEnum]] = {**ERRORS_ENUMS}
    signal_args = {**ERRORS_SIGNAL_ARGS}
    if contract is not None:
        enums.update(contract.enums)
        signal_args.update(contract.signal_args)
    _name_signal_args(introspection, signal_args)
    for key, enum in enums.items():
        if not key.startswith(name + "."):
            continue
        parts = key[len(name) + 1 :].split(".")
        text = enum_text(member.value for member in enum)
        prop = next((p for p in introspection.properties if p.name == parts[0]), None)
        if prop is not None and len(parts) in (1, 2):
            suffix = "." + parts[1] if len(parts) == 2 else ""
            prop.annotations[ENUM_ANNOTATION + suffix] = text
            continue
        arg = _find_arg(introspection, parts[0], parts[1]) if len(parts) in (2, 3) else None
        if arg is None:
            raise ContractXmlError(f"{key}: no such property, argument or field on the service")
        suffix = "." + parts[2] if len(parts) == 3 else ""
        arg.annotations[ENUM_ANNOTATION + suffix] = text
    if contract is not None and name == contract.main_interface:
        for spec in contract.errors:
            introspection.annotations[f"{ERROR_ANNOTATION}.{spec.name}"] = error_text(spec)
    return introspection


def _enum_differences(contract: UnitContract, xml: InterfaceXml) -> list[str]:
    ours = {k: contract.enum_values(k) for k in contract.interface_enums(xml.name)}
    out: list[str] = []
    for key in sorted(set(ours) | set(xml.enums)):
        code, listed = ours.get(key), xml.enums.get(key)
        if listed is None:
            out.append(f"{key}: the contract has an enum, {xml.file} no {ENUM_ANNOTATION}")
        elif code is None:
            out.append(f"{key}: {xml.file} lists values, the contract has no enum")
        elif code != listed:
            extra = [v for v in code if v not in listed]
            missing = [v for v in listed if v not in code]
            out.append(
                f"{key}: the code can produce {extra} that {xml.file} does not list"
                if extra
                else f"{key}: {xml.file} lists {missing} that the enum lacks"
                if missing
                else f"{key}: the order differs: code {code}, XML {listed}"
            )
    return out


def _error_differences(contract: UnitContract, xml: InterfaceXml) -> list[str]:
    main = xml.name == contract.main_interface
    ours = [CatalogueEntry(e.name, e.severity, e.stops_power) for e in contract.errors]
    if xml.errors == (ours if main else []):
        return []
    if not main:
        return [f"{xml.file}: error catalogue annotations belong on {contract.main_interface}"]
    return [f"{xml.file}: error catalogue {xml.errors} differs from the contract's {ours}"]


def _signal_differences(contract: UnitContract, xml: InterfaceXml) -> list[str]:
    out: list[str] = []
    for key, names in contract.signal_args.items():
        if key.startswith(xml.name + ".") and xml.signal_args.get(key) != names:
            out.append(f"{key}: the contract names {names}, {xml.file} {xml.signal_args.get(key)}")
    for key in xml.enums:
        signal = key.rsplit(".", 1)[0]
        if signal in xml.signal_args and signal not in contract.signal_args:
            out.append(f"{signal}: has enum arguments, so the contract must name its arguments")
    return out


def differences(contract: UnitContract, folder: Path | None = None) -> list[str]:
    """Every way ``contract`` and its interfaces' XML files disagree (empty when they agree).

    Enumerations must list the same values in the same order (the XML documents the enum, so
    one order serves both), the main interface's error catalogue must equal the contract's,
    and signals with enumerated arguments must be named alike.
    """
    out: list[str] = []
    known = tuple(i + "." for i in contract.interfaces)
    out += [
        f"{k}: not a member of {contract.interfaces}"
        for k in contract.enums
        if not k.startswith(known)
    ]
    for name in contract.interfaces:
        xml = read_interface(name, folder)
        out += _enum_differences(contract, xml)
        out += _error_differences(contract, xml)
        out += _signal_differences(contract, xml)
    return out
