# SPDX-License-Identifier: Apache-2.0
"""Restarting units through systemctl, and the decision whether to do it now.

``systemctl try-restart`` restarts the units that run and leaves stopped ones stopped (they
read the new configuration when they start). The decision is pure (:func:`decide`): restart
when there is nothing to restart for, when ``--now`` is given, or when no charging session is
active; an unknown session state counts as active (a restart drops the session's unit).
"""

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from ccy.ctl.failure import CtlError, ExitCode

SYSTEMCTL = "systemctl"
RESTART_TIMEOUT_S = 90.0
"""systemd's default stop + start budget of a unit (DefaultTimeoutStopSec + …StartSec)."""


@dataclass(frozen=True)
class Decision:
    restart: bool
    reason: str


def decide(units: Sequence[str], session_active: bool | None, now: bool) -> Decision:
    """Whether to restart ``units`` given the charging-session state and ``--now``."""
    if not units:
        return Decision(False, "no unit reads the changed sections")
    if now:
        return Decision(True, "--now")
    if session_active is False:
        return Decision(True, "no charging session is active")
    return Decision(False, "a charging session may be active")


def restart_command(units: Sequence[str]) -> list[str]:
    return [SYSTEMCTL, "try-restart", *units]


def still_old(units: Sequence[str]) -> str:
    """``ccy-bsp still runs the old configuration`` (plural for several units)."""
    verb = "runs" if len(units) == 1 else "run"
    return f"{' '.join(units)} still {verb} the old configuration"


def manual_hint(units: Sequence[str], apply_now: str) -> str:
    """How the operator applies the change later: ``apply_now`` or a restart by hand."""
    return f"{apply_now}, or {SYSTEMCTL} restart {' '.join(units)}"


def restart_units(units: Sequence[str]) -> None:
    """Run ``systemctl try-restart UNITS``; CtlError (one line) when it cannot or fails."""
    program = shutil.which(SYSTEMCTL)
    old = still_old(units)
    if program is None:
        raise CtlError(
            f"{SYSTEMCTL} not found: {old}",
            f"restart them by hand: {SYSTEMCTL} restart {' '.join(units)}",
            ExitCode.UNAVAILABLE,
        )
    try:
        done = subprocess.run(
            [program, *restart_command(units)[1:]],
            capture_output=True,
            text=True,
            timeout=RESTART_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CtlError(
            f"{SYSTEMCTL} try-restart took longer than {RESTART_TIMEOUT_S:g} s",
            f"check: {SYSTEMCTL} status {' '.join(units)}",
            ExitCode.TEMPORARY,
        ) from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise CtlError(
            f"{SYSTEMCTL} try-restart failed: {said}; {old}",
            f"see {SYSTEMCTL} status {' '.join(units)}",
        )
