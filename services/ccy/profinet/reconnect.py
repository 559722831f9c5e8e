# SPDX-License-Identifier: Apache-2.0
"""What a lost PLC means for the session: wait for it, or stop (pure, inputs with times).

The seed shows a second "PLC connect indication" during cable check: a PLC may drop its AR
and connect again in the middle of a session. The power stage is Off from the moment the data
is lost, whatever follows (the caller does that first). This module only decides what the
loss means (dbus/org.ccy.PowerStage1.xml, "A lost PLC"):

- lost while current flows (Mode Charge or Discharge, or the output current above
  ``current_threshold_a``) → :attr:`Verdict.STOP` at once: PlcLost, ccy-evse stops safely;
- lost before current flows → :attr:`Verdict.WAIT`: PlcReconnecting for up to ``grace_s``;
  data exchange back in time → :attr:`Verdict.RESUME` (the session goes on from a new cable
  check: the isolation measurement is forgotten); the grace time over →
  :attr:`Verdict.EXPIRED` (PlcReconnecting becomes PlcLost);
- a loss before the first data exchange means nothing (no session can have used the stage).
"""

from dataclasses import dataclass
from enum import StrEnum

from ccy.profinet.contract import Mode

FLOWING_MODES = (Mode.CHARGE, Mode.DISCHARGE)
"""Modes in which the EV's contactors are closed: current flows (or may) into the battery."""


class Phase(StrEnum):
    NEVER = "never connected"
    CONNECTED = "connected"
    WAITING = "waiting for the PLC"
    LOST = "lost"


class Verdict(StrEnum):
    NONE = "nothing to do"
    FIRST = "first data exchange"
    WAIT = "wait for the PLC (PlcReconnecting)"
    STOP = "stop (PlcLost)"
    RESUME = "resume with a new cable check"
    EXPIRED = "grace time over (PlcLost)"
    CLEAR = "the PLC is back after PlcLost"


@dataclass
class Reconnect:
    grace_s: float
    current_threshold_a: float
    phase: Phase = Phase.NEVER
    deadline: float = 0.0

    def flowing(self, mode: Mode, present_current_a: float) -> bool:
        """Whether current flows: Charge/Discharge, or more than the threshold (NaN counts)."""
        if mode in FLOWING_MODES:
            return True
        return not abs(present_current_a) <= self.current_threshold_a

    def lost(self, now: float, mode: Mode, present_current_a: float) -> Verdict:
        """The PLC's data stopped (AR aborted, DHT expired, released, IOPS bad)."""
        if self.phase is not Phase.CONNECTED:
            return Verdict.NONE
        if self.grace_s <= 0 or self.flowing(mode, present_current_a):
            self.phase = Phase.LOST
            return Verdict.STOP
        self.phase, self.deadline = Phase.WAITING, now + self.grace_s
        return Verdict.WAIT

    def back(self, now: float) -> Verdict:
        """Data exchange runs (again)."""
        before, self.phase = self.phase, Phase.CONNECTED
        return {
            Phase.NEVER: Verdict.FIRST,
            Phase.WAITING: Verdict.RESUME,
            Phase.LOST: Verdict.CLEAR,
            Phase.CONNECTED: Verdict.NONE,
        }[before]

    def tick(self, now: float) -> Verdict:
        if self.phase is Phase.WAITING and now >= self.deadline:
            self.phase = Phase.LOST
            return Verdict.EXPIRED
        return Verdict.NONE
