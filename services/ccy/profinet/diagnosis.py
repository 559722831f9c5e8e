# SPDX-License-Identifier: Apache-2.0
"""Diagnosis alarms toward the PLC for the stopping errors of ccy-evse and ccy-bsp (pure).

contracts.md ("Faults, end to end"): ccy-profinet sets the fault bits in the PLC's input data
and raises a diagnosis alarm. One diagnosis per active error that stops power (the error's
catalogue entry in its unit's contract module, ``stops_power``; an error type no catalogue
names counts as stopping when its severity is High), on slot 1 / subslot 1, channel 0x8000
(the submodule as a whole), with a manufacturer-specific ChannelErrorType per error type
(:func:`channel_error_type`, listed in the GSDML's ChannelDiagList). A diagnosis appears when
the error is raised and disappears when it clears or its unit vanishes.

The seed's journal line for a ccy-evse error, "Error raised EVSEManager: connector", comes
from :func:`journal_line`.
"""

from dataclasses import dataclass

from ccy.bsp.contract import CONTRACT as BSP_CONTRACT
from ccy.evse.contract import CONTRACT as EVSE_CONTRACT
from ccy.profinet.peers import PeerView
from ccy.runtime.contract import UnitContract
from ccy.runtime.errors import Severity

SOURCES = ("ccy-evse", "ccy-bsp")
"""The watched units, in channel-error-type order."""
CHANNEL = 0x8000
"""Channel number of a diagnosis that concerns the whole submodule."""
TYPE_BASE = {"ccy-evse": 0x0100, "ccy-bsp": 0x0200}
"""Manufacturer-specific ChannelErrorTypes (0x0100..0x7FFF): base + the error's index in its
unit's catalogue; base + 0xFF for an error type the catalogue does not list."""
UNLISTED = 0xFF
SEED_NAMES = {"ccy-evse": "EVSEManager: connector", "ccy-bsp": "BSP: bsp"}
"""How the seed's journal names the sources (EVerest module: implementation id)."""


@dataclass(frozen=True, order=True)
class Diagnosis:
    source: str
    type: str
    subtype: str
    message: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.type, self.subtype)


CONTRACTS: dict[str, UnitContract] = {c.unit: c for c in (EVSE_CONTRACT, BSP_CONTRACT)}
"""The catalogues of the watched units, imported with this module (before READY): the first
error of a peer must not import anything on its way to the PLC."""


def _contracts() -> dict[str, UnitContract]:
    return CONTRACTS


def catalogue(unit: str) -> tuple[str, ...]:
    """The error types of ``unit``'s catalogue, in order (empty when it has no contract)."""
    contract = _contracts().get(unit)
    return tuple(e.name for e in contract.errors) if contract else ()


def stops_power(unit: str, type_: str, severity: str) -> bool:
    contract = _contracts().get(unit)
    if contract is not None:
        for spec in contract.errors:
            if spec.name == type_:
                return spec.stops_power
    return severity == Severity.HIGH.value


def channel_error_type(unit: str, type_: str) -> int:
    names = catalogue(unit)
    index = names.index(type_) if type_ in names else UNLISTED
    return TYPE_BASE.get(unit, 0x0300) + index


def active(views: tuple[PeerView, ...]) -> tuple[Diagnosis, ...]:
    """The diagnoses in force for what the peers show now (sorted)."""
    found = [
        Diagnosis(v.unit, e.type, e.subtype, e.message)
        for v in views
        for e in v.errors
        if stops_power(v.unit, e.type, e.severity)
    ]
    return tuple(sorted(found))


@dataclass(frozen=True)
class AlarmChange:
    appears: bool
    diagnosis: Diagnosis

    @property
    def error_type(self) -> int:
        return channel_error_type(self.diagnosis.source, self.diagnosis.type)

    def line(self) -> str:
        d = self.diagnosis
        name = f"{d.type}/{d.subtype}" if d.subtype else d.type
        verb = "appears" if self.appears else "disappears"
        return f"{verb} {d.source} {name}" + (
            f": {d.message}" if self.appears and d.message else ""
        )


def changes(before: tuple[Diagnosis, ...], after: tuple[Diagnosis, ...]) -> list[AlarmChange]:
    """Disappearing diagnoses first, then appearing ones (keys compared, not messages)."""
    old = {d.key: d for d in before}
    new = {d.key: d for d in after}
    gone = [AlarmChange(False, old[k]) for k in sorted(old.keys() - new.keys())]
    come = [AlarmChange(True, new[k]) for k in sorted(new.keys() - old.keys())]
    return gone + come


def journal_line(change: AlarmChange) -> str:
    """The seed's wording: ``Error raised EVSEManager: connector`` (+ what, for the reader)."""
    d = change.diagnosis
    verb = "raised" if change.appears else "cleared"
    what = f"{d.type}/{d.subtype}" if d.subtype else d.type
    return f"Error {verb} {SEED_NAMES.get(d.source, d.source)} ({what})"
