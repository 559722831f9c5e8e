# SPDX-License-Identifier: Apache-2.0
"""The shape of one bus policy: who owns the name, who calls which member, who only reads.

Roles (contracts.md, "The policy is least privilege, per method"; ARCHITECTURE.md "Security
model"):

- the **owner**: the unit's own user (``UnitContract.unit``) is the only one that may own the
  bus name;
- **operators** (group ``ccy``: people and ``ccyctl``) may call every member;
- a **unit user** may call only the members its row grants, along the call arrows of
  contracts.md; like the readers it may read and receive signals;
- **readers** (group ``ccy-ro``) may introspect, Get, GetAll, Ping and receive signals;
- **everyone else** gets org.freedesktop.DBus.Error.AccessDenied for every call and receives
  no signal of the name.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ccy.runtime.contract import UnitContract

OPERATOR_GROUP = "ccy"
"""Operators and ccyctl: may call every member of every ccy unit."""
READER_GROUP = "ccy-ro"
"""Read-only observers: introspect, Get/GetAll, Peer and signals."""
UNIT_GROUP = "ccy-unit"
"""The five unit users and nobody else (file access to the shared redaction key; the bus
policy names unit users one by one, so membership grants nothing on the bus)."""

PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"


@dataclass(frozen=True, order=True)
class Member:
    """One method a caller may call: ``interface.name``."""

    interface: str
    name: str
    planned: bool = field(default=False, compare=False)
    """True for a member contracts.md names but the interface's XML does not declare yet
    (the rule is harmless until the service exports it; a test drops the mark when it does)."""

    def __str__(self) -> str:
        return f"{self.interface}.{self.name}"


READS: tuple[Member, ...] = (
    Member(INTROSPECTABLE, "Introspect"),
    Member(PROPERTIES, "Get"),
    Member(PROPERTIES, "GetAll"),
    Member(PEER, "Ping"),
    Member(PEER, "GetMachineId"),
)
"""What readers and unit users may call on every ccy name. Properties.Set is not here: only
operators may set a property."""


@dataclass(frozen=True)
class BusPolicy:
    """The policy of one bus name: its contract, and the members each unit user may call."""

    contract: UnitContract
    calls: Mapping[str, tuple[Member, ...]] = field(default_factory=dict)
    """Unit user → the members it may call beyond :data:`READS` (absent: reads only)."""
    also: tuple[UnitContract, ...] = ()
    """Further objects the same unit serves under the same bus name (ccy-profinet serves
    Profinet1 and PowerStage1); their interfaces may be granted too."""

    @property
    def interfaces(self) -> tuple[str, ...]:
        """Every interface the bus name serves, on any of its objects."""
        return tuple(i for c in (self.contract, *self.also) for i in c.interfaces)

    @property
    def bus_name(self) -> str:
        return self.contract.bus_name

    @property
    def owner(self) -> str:
        """The unit's own user, the only one that may own the name."""
        return self.contract.unit

    @property
    def file_name(self) -> str:
        return f"{self.bus_name}.conf"

    def problems(self, unit_users: Iterable[str], xml_dir: Path) -> list[str]:
        """Rows that cannot be right: unknown callers, interfaces or members (one line each)."""
        users = set(unit_users)
        found: list[str] = []
        if self.owner not in users:
            found.append(f"{self.bus_name}: owner {self.owner} is not a unit user")
        for caller, members in self.calls.items():
            if caller not in users:
                found.append(f"{self.bus_name}: caller {caller} is not a unit user")
            for member in members:
                found.extend(self._member_problems(caller, member, xml_dir))
        return found

    def _member_problems(self, caller: str, member: Member, xml_dir: Path) -> list[str]:
        where = f"{self.bus_name}: {caller} may call {member}"
        if member.interface not in self.interfaces:
            return [f"{where}, but {self.contract.unit} does not export {member.interface}"]
        declared = member.name in declared_methods(xml_dir / f"{member.interface}.xml")
        if member.planned and declared:
            return [f"{where}: the XML declares it now; drop planned=True"]
        if not member.planned and not declared:
            return [f"{where}, but dbus/{member.interface}.xml has no such method"]
        return []


def declared_methods(xml_file: Path) -> set[str]:
    """The method names an introspection XML file declares (empty when it does not exist)."""
    if not xml_file.is_file():
        return set()
    return {m.get("name", "") for m in ET.parse(xml_file).getroot().iter("method")}
