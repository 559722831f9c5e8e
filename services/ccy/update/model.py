# SPDX-License-Identifier: Apache-2.0
"""Typed records of what RAUC reports over D-Bus (de.pengutronix.rauc.Installer).

Property ``Progress`` is ``(isi)``: percentage, message, nesting depth. ``GetSlotStatus``
returns ``a(sa{sv})``: slot name and a dict with keys such as ``class``, ``device``, ``type``,
``bootname``, ``state`` (booted/active/inactive), ``boot-status`` (good/bad), ``bundle.version``,
``bundle.compatible``, ``installed.timestamp``, ``activated.timestamp`` (RAUC manual, "D-Bus
API"). Values arrive already unwrapped from their variants.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

IDLE = "idle"
"""Value of the Operation property when RAUC is not installing."""


@dataclass(frozen=True)
class Progress:
    """One step of an installation: 0–100 %, RAUC's message, nesting depth (1 = top)."""

    percentage: int
    message: str
    depth: int

    @classmethod
    def from_dbus(cls, value: Sequence[Any]) -> "Progress":
        percentage, message, depth = value
        return cls(max(0, min(100, int(percentage))), str(message), int(depth))


@dataclass(frozen=True)
class InstallerState:
    """The Installer interface's properties."""

    operation: str
    last_error: str
    progress: Progress
    compatible: str
    variant: str
    boot_slot: str

    @classmethod
    def from_dbus(cls, props: Mapping[str, Any]) -> "InstallerState":
        return cls(
            operation=str(props.get("Operation", "")),
            last_error=str(props.get("LastError", "")),
            progress=Progress.from_dbus(props.get("Progress", (0, "", 0))),
            compatible=str(props.get("Compatible", "")),
            variant=str(props.get("Variant", "")),
            boot_slot=str(props.get("BootSlot", "")),
        )


@dataclass(frozen=True)
class SlotStatus:
    """One slot as GetSlotStatus reports it; ``fields`` keeps every key RAUC sent."""

    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> str:
        value = self.fields.get(key)
        return "" if value is None else str(value)

    @property
    def slot_class(self) -> str:
        return self.get("class")

    @property
    def bootname(self) -> str:
        return self.get("bootname")

    @property
    def state(self) -> str:
        return self.get("state")

    @property
    def boot_status(self) -> str:
        return self.get("boot-status")

    @property
    def bundle_version(self) -> str:
        return self.get("bundle.version")

    @property
    def installed(self) -> str:
        return self.get("installed.timestamp")


def slots_from_dbus(value: Sequence[Sequence[Any]]) -> list[SlotStatus]:
    """``a(sa{sv})`` (variants unwrapped) → slots sorted by name."""
    slots = [SlotStatus(str(name), dict(fields)) for name, fields in value]
    return sorted(slots, key=lambda s: s.name)
