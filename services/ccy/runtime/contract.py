# SPDX-License-Identifier: Apache-2.0
"""What every unit's contract module (``ccy/<unit>/contract.py``) declares, in one shape.

A contract module is the unit's vocabulary on the bus, apart from the code that implements
it (as EVerest keeps interfaces apart from modules): bus name, object path, the interfaces
exported there (each one XML file in ``dbus/``), a StrEnum for every string-enum property or
argument, and the catalogue of errors the unit raises on org.ccy.Errors1. ``main``, clients,
simulators and tests read names only from there.

The XML lists each enumeration's values in an annotation (``ENUM_ANNOTATION``) on the
property or argument; a pure test compares every StrEnum named here with that annotation.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ccy.runtime.errors import Severity

ENUM_ANNOTATION = "org.ccy.Enum"
"""Annotation on a <property> or <arg>: its allowed string values, separated by single spaces
(an empty value, where allowed, is written as the word ``''``)."""


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
    """Interface names exported on ``object_path``; each is ``dbus/<name>.xml``."""
    enums: Mapping[str, type[StrEnum]] = field(default_factory=dict)
    """``Interface.Property`` or ``Interface.Member.arg`` → the StrEnum of its values."""
    errors: tuple[ErrorSpec, ...] = ()

    def error(self, name: str) -> ErrorSpec:
        for spec in self.errors:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.unit} declares no error {name!r}")

    def enum_values(self, key: str) -> list[str]:
        return [member.value for member in self.enums[key]]
