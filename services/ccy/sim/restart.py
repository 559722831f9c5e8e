# SPDX-License-Identifier: Apache-2.0
"""When to restart a stack process: systemd's ``Restart=on-failure`` rules, pure.

systemd.service(5): ``on-failure`` restarts after an unclean exit code (not 0) or death by a
signal (SIGTERM from the stack's own stop excepted: the supervisor stops restarting first);
``RestartSec=`` is the pause; more than ``StartLimitBurst`` starts within
``StartLimitIntervalSec`` puts the unit in the failed state, where it stays.
"""

import os
import signal
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from ccy.sim.stack_table import RestartPolicy, RestartRule


class Outcome(StrEnum):
    RESTART = "restart"
    STAYS_DOWN = "exited"
    """A clean exit under on-failure, or any exit under Restart=no."""
    FAILED = "failed"
    """The start limit was hit: systemd's ``start-limit-hit``; no more restarts."""


def describe_status(status: int) -> str:
    """A wait status in systemd's words: ``code=exited, status=1``, ``code=killed, signal=KILL``."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name.removeprefix("SIG")
        except ValueError:
            name = str(sig)
        return f"code=killed, signal={name}"
    return f"code=exited, status={os.WEXITSTATUS(status)}"


def is_failure(status: int) -> bool:
    return os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0


@dataclass
class RestartTracker:
    """The restart bookkeeping of one process; ``now`` values come from a monotonic clock."""

    rule: RestartRule
    restarts: int = 0
    _starts: deque[float] = field(default_factory=deque)

    def decide(self, status: int, now: float) -> Outcome:
        """What to do after the process ended with wait status ``status`` at ``now``."""
        if self.rule.policy is RestartPolicy.NO or not is_failure(status):
            return Outcome.STAYS_DOWN
        while self._starts and now - self._starts[0] > self.rule.interval_s:
            self._starts.popleft()
        if len(self._starts) >= self.rule.burst:
            return Outcome.FAILED
        return Outcome.RESTART

    def restarted(self, now: float) -> None:
        """Record a restart (counted in DIR/stack.json as ``restarts``)."""
        self.restarts += 1
        self._starts.append(now)
