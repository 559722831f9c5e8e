# SPDX-License-Identifier: Apache-2.0
"""Which units a config change concerns: sections that differ, and the units that bind them.

A unit reads its configuration once, at start, so a change takes effect when the units whose
sections changed restart, and only those. The units are discovered, not listed here: every
``ccy.<package>.contract`` module with a ``CONTRACT`` is a unit (``ccy.runtime.contract``), and
it binds the section its contract names (``UnitContract.section``: ``config_section``, else
the unit's name without ``ccy-``, so ccy-bsp → ``bsp`` → config/manifests/bsp.yaml).
Pure: no bus, no systemd.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from ccy.runtime.config import Config
from ccy.runtime.contract import unit_contracts


def section_units() -> dict[str, tuple[str, ...]]:
    """Config section → the systemd units that bind it, from every unit's contract module."""
    found: dict[str, list[str]] = {}
    for contract in unit_contracts():
        found.setdefault(contract.section, []).append(contract.unit)
    return {section: tuple(sorted(units)) for section, units in sorted(found.items())}


def changed_sections(old: Config, new: Config) -> list[str]:
    """The sections whose effective values (defaults applied) differ between old and new."""
    changed = []
    for name in sorted(set(old.sections) | set(new.sections)):
        before, after = old.sections.get(name), new.sections.get(name)
        if before is None or after is None or dict(before) != dict(after):
            changed.append(name)
    return changed


@dataclass(frozen=True)
class ConfigChange:
    """What an apply changed: its sections, the units to restart, sections no unit reads."""

    sections: tuple[str, ...]
    units: tuple[str, ...]
    unbound: tuple[str, ...]


def units_to_restart(sections: list[str], bound: Mapping[str, tuple[str, ...]]) -> ConfigChange:
    """The units that bind any of ``sections`` (``bound``: see :func:`section_units`)."""
    units = sorted({unit for section in sections for unit in bound.get(section, ())})
    unbound = tuple(section for section in sections if section not in bound)
    return ConfigChange(tuple(sections), tuple(units), unbound)
