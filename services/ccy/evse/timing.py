# SPDX-License-Identifier: Apache-2.0
"""Timing statistics of a session, in the seed's exact format.

    Timing statistics (Plugin to CurrentDemand)
    -------------------------------------------
    ConnSetup | HLC_PWM_5%_ON: 688 ms | Auth EIM Done: 12 ms | Total: 1448 ms
    CableCheck | <60V: 0 ms | Relay On: 100 ms | EVInfo: 0 ms | VRampUp: 287 ms | Self test: 0 ms
        | Measure: 591 ms | Total: 1112 ms   (one line in the journal)
    PrepareCharging | Charging started: 533 ms | Total: 533 ms
    Total duration all phases: 3095 ms

A phase starts when the previous one ends (ConnSetup at plug-in, CableCheck at the first
CableCheck call, PrepareCharging when the cable check finished) and each event's value is the
time since the previous event of its phase (or the phase start); Total is the phase's length.
HLC_PWM_5%_ON keeps the seed's label; for MCS, which has no PWM, it is plug-in until CE B with
HLC enabled (CcsReady Ready): the moment the vehicle may start high-level communication.
"""

from dataclasses import dataclass, field

from ccy.evse.wording import TIMING_RULE, TIMING_TITLE

CONN_SETUP = "ConnSetup"
CABLE_CHECK = "CableCheck"
PREPARE_CHARGING = "PrepareCharging"
HLC_ON = "HLC_PWM_5%_ON"
BELOW_60V = "<60V"
RELAY_ON = "Relay On"
EV_INFO = "EVInfo"
RAMP_UP = "VRampUp"
SELF_TEST = "Self test"
MEASURE = "Measure"
CHARGING_STARTED = "Charging started"
TOTAL = "Total"
ALL_PHASES = "Total duration all phases"


def auth_label(token_type: str) -> str:
    """ "Auth EIM Done" for external identification, "Auth PnC Done" for Plug & Charge."""
    return "Auth PnC Done" if token_type == "PnC" else "Auth EIM Done"


@dataclass
class Phase:
    name: str
    start: float
    events: list[tuple[str, float]] = field(default_factory=list)
    end: float | None = None
    last: float = 0.0


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


class Timing:
    """The phases of one session; ``lines()`` is the block, ``as_dict()`` the property."""

    def __init__(self, plugin: float) -> None:
        self.phases: list[Phase] = [Phase(CONN_SETUP, plugin, last=plugin)]
        self.done = False
        """True once the block was logged (the first charging cycle)."""

    @property
    def current(self) -> Phase:
        return self.phases[-1]

    def mark(self, event: str, now: float) -> None:
        """Record ``event`` of the open phase (once each; a repeat is ignored)."""
        phase = self.current
        if phase.end is not None or any(name == event for name, _ in phase.events):
            return
        phase.events.append((event, max(0.0, now - phase.last)))
        phase.last = max(phase.last, now)

    def begin(self, name: str, now: float) -> None:
        """End the open phase at ``now`` and open ``name`` (once)."""
        if any(p.name == name for p in self.phases):
            return
        self.current.end = now
        self.phases.append(Phase(name, now, last=now))

    def finish(self, now: float) -> None:
        if self.current.end is None:
            self.current.end = now

    def lines(self) -> list[str]:
        out = [TIMING_TITLE, TIMING_RULE]
        for p in self.phases:
            parts = [p.name, *(f"{name}: {_ms(sec)} ms" for name, sec in p.events)]
            parts.append(f"{TOTAL}: {_ms((p.end or p.last) - p.start)} ms")
            out.append(" | ".join(parts))
        out.append(f"{ALL_PHASES}: {_ms(self._end() - self.phases[0].start)} ms")
        return out

    def as_dict(self) -> dict[str, float]:
        """{"<phase>/<event>": s, "<phase>/Total": s, "Total": s} (Evse1.Timing)."""
        out: dict[str, float] = {}
        for p in self.phases:
            for name, sec in p.events:
                out[f"{p.name}/{name}"] = round(sec, 3)
            out[f"{p.name}/{TOTAL}"] = round((p.end or p.last) - p.start, 3)
        out[TOTAL] = round(self._end() - self.phases[0].start, 3)
        return out

    def _end(self) -> float:
        last = self.phases[-1]
        return last.end if last.end is not None else last.last
