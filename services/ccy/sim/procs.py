# SPDX-License-Identifier: Apache-2.0
"""Processes of the simulated stack, named by PID *and* start time.

A PID alone is reused by the kernel; DIR/stack.json therefore records each process's start
time (field 22 of /proc/PID/stat, clock ticks since boot, proc(5)), and nothing is signalled
unless the PID still has that start time. A zombie (state Z: exited, not yet reaped by its
parent) counts as gone: it runs nothing and holds nothing but its table entry.
"""

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

TERM_TIMEOUT_S = 5.0
"""SIGTERM → SIGKILL escalation, as systemd's TimeoutStopSec (shorter: nothing here flushes)."""
POLL_S = 0.02


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3… of /proc/PID/stat (after the parenthesised command name), None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; None when no such process."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


@dataclass(frozen=True)
class Proc:
    """One process of the stack as DIR/stack.json records it."""

    pid: int
    start: int

    @classmethod
    def of(cls, pid: int) -> "Proc":
        """The record of a process just started (its start time read now)."""
        return cls(pid, start_time(pid) or 0)

    def is_ours(self) -> bool:
        """The PID is still this process (not reused) and it has not exited."""
        fields = _stat_fields(self.pid)
        return fields is not None and fields[0] != "Z" and int(fields[19]) == self.start

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "start": self.start}

    @classmethod
    def from_json(cls, data: object) -> "Proc | None":
        if isinstance(data, dict):
            pid, start = data.get("pid"), data.get("start")
            if isinstance(pid, int) and isinstance(start, int) and pid > 0:
                return cls(pid, start)
        return None


def reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our child (else the parent's job)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def terminate(proc: Proc, timeout_s: float = TERM_TIMEOUT_S) -> bool:
    """SIGTERM, then SIGKILL after ``timeout_s``; True if it was ours and running.

    The process group is signalled (every stack process leads its own session), so helpers a
    process started go with it."""
    if not proc.is_ours():
        reap(proc.pid)
        return False
    _signal(proc, signal.SIGTERM)
    killed = False
    deadline = time.monotonic() + timeout_s
    while True:
        reap(proc.pid)
        if not proc.is_ours():
            return True
        if time.monotonic() > deadline:
            if killed:  # uninterruptible sleep: nothing more a signal can do
                return True
            _signal(proc, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + timeout_s
        time.sleep(POLL_S)


def _signal(proc: Proc, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
