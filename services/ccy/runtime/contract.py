# SPDX-License-Identifier: Apache-2.0
"""What every unit's contract module (``ccy/<unit>/contract.py``) declares, in one shape.

A contract module is the unit's vocabulary on the bus, apart from the code that implements
it (as EVerest keeps interfaces apart from modules): bus name, object path, the interfaces
exported there (each one XML file in ``dbus/``), a StrEnum for every string-enum property or
argument, and the catalogue of errors the unit raises on org.ccy.Errors1. ``main``, clients,
simulators and tests read names only from there.

The XML states the same facts machine-readably (see ``ccy.runtime.contract_xml``):

- ``<annotation name="org.ccy.Enum" value="…"/>`` on a <property> or <arg> lists its allowed
  string values (``ENUM_ANNOTATION``); on a property whose type is a struct array,
  ``org.ccy.Enum.<field>`` lists the values of the named string field of each struct.
- ``<annotation name="org.ccy.Error.<Type>" value="<Severity> StopsPower|KeepsPower"/>`` on
  the unit's main interface (the first of ``interfaces``) is one entry of its error catalogue.

``tests/unit/test_contract_enums.py`` compares every contract found by ``unit_contracts()``
with its XML; ``tests/bus/test_contract.py`` compares the running services with the same XML.
"""

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccy.runtime.errors import Severity

ENUM_ANNOTATION = "org.ccy.Enum"
"""Annotation on a <property> or <arg>: its allowed string values, separated by single spaces;
a value that is empty or holds a space is written in single quotes as a POSIX shell word
(``''`` is the empty value, ``'CC Y'`` a value with a space). ``org.ccy.Enum.<field>`` on a
struct-array property names the string field of each struct it applies to."""

ERROR_ANNOTATION = "org.ccy.Error"
"""Prefix of the error-catalogue annotations: ``org.ccy.Error.<Type>`` = ``<Severity> <power>``
with ``<power>`` one of ``STOPS_POWER`` / ``KEEPS_POWER``."""
STOPS_POWER = "StopsPower"
KEEPS_POWER = "KeepsPower"

ERRORS_IFACE = "org.ccy.Errors1"
"""Every unit exports org.ccy.Errors1 on its object (contracts.md)."""
ERRORS_ENUMS: Mapping[str, type[StrEnum]] = MappingProxyType(
    {
        f"{ERRORS_IFACE}.ActiveErrors.severity": Severity,
        f"{ERRORS_IFACE}.Raised.severity": Severity,
    }
)
"""The enumerations of org.ccy.Errors1; every unit's ``enums`` includes them."""
ERRORS_SIGNAL_ARGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        f"{ERRORS_IFACE}.Raised": ("type", "subtype", "severity", "message", "raised_us"),
        f"{ERRORS_IFACE}.Cleared": ("type", "subtype", "cleared_us"),
    }
)
"""The argument names of org.ccy.Errors1's signals; every unit's ``signal_args`` includes them."""


def enum_text(values: Iterable[str]) -> str:
    """The value of an ``org.ccy.Enum`` annotation listing ``values`` (see ENUM_ANNOTATION)."""
    return " ".join(shlex.quote(value) for value in values)


def error_text(spec: "ErrorSpec") -> str:
    """The value of the ``org.ccy.Error.<Type>`` annotation for ``spec``."""
    return f"{spec.severity} {STOPS_POWER if spec.stops_power else KEEPS_POWER}"


@dataclass(frozen=True)
class ErrorSpec:
    """One entry of a unit's error catalogue (an org.ccy.Errors1 error type)."""

    name: str
    severity: Severity
    description: str
    stops_power: bool
    """True when ccy-evse must withdraw power while this error is active."""
    source: str
    """Where the error comes from: the standard or vendor document and section."""
    subtype: str = ""
    """What the subtype names ("" when the error has none), e.g. "the PT1000 channel name"."""


@dataclass(frozen=True)
class UnitContract:
    unit: str
    """The systemd unit and process name, e.g. ``ccy-bsp``."""
    bus_name: str
    object_path: str
    interfaces: tuple[str, ...]
    """Interface names exported on ``object_path``; each is ``dbus/<name>.xml``. The first is
    the unit's main interface: its XML carries the error catalogue."""
    enums: Mapping[str, type[StrEnum]] = field(default_factory=dict)
    """``Interface.Property``, ``Interface.Member.arg`` or ``Interface.Property.field`` (a
    string field of a struct-array property) → the StrEnum of its values."""
    errors: tuple[ErrorSpec, ...] = ()
    signal_args: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``Interface.Signal`` → its argument names, as the XML names them. dbus-fast introspects
    signal arguments without names; ``add_enum_annotations`` names them from here."""
    config_section: str = ""
    """The section of /etc/ccy/config.yaml the unit binds; "" means the unit's name without
    ``ccy-`` (ccy-bsp → ``bsp``). ``ccyctl config apply`` restarts the units of a changed one."""

    @property
    def section(self) -> str:
        return self.config_section or self.unit.removeprefix("ccy-")

    @property
    def main_interface(self) -> str:
        return self.interfaces[0]

    def error(self, name: str) -> ErrorSpec:
        for spec in self.errors:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.unit} declares no error {name!r}")

    def enum_values(self, key: str) -> list[str]:
        return [member.value for member in self.enums[key]]

    def interface_enums(self, interface: str) -> dict[str, type[StrEnum]]:
        """The entries of ``enums`` that belong to ``interface``."""
        return {k: v for k, v in self.enums.items() if k.startswith(interface + ".")}


def unit_contracts() -> list[UnitContract]:
    """The CONTRACT of every ``ccy.<unit>.contract`` module installed, sorted by unit.

    Discovery keeps the contract tests covering a new unit as soon as its contract module
    exists; a contract module without CONTRACT (such as this one) is not a unit's.
    """
    import importlib  # discovery is for tests and tools; the units never call it
    import importlib.util
    import pkgutil

    import ccy

    found: list[UnitContract] = []
    for info in pkgutil.iter_modules(ccy.__path__):
        name = f"ccy.{info.name}.contract"
        if not info.ispkg or importlib.util.find_spec(name) is None:
            continue
        contract = getattr(importlib.import_module(name), "CONTRACT", None)
        if isinstance(contract, UnitContract):
            found.append(contract)
    return sorted(found, key=lambda c: c.unit)
