# SPDX-License-Identifier: Apache-2.0
"""A probe process in a network namespace that reports what it sees as JSON lines.

The probe is a Python program given as source (``python -c CODE ARGS…``) run with
``ip netns exec``: it prints ``{"ready": true}`` once listening, then one JSON object per event,
and ends when its stdin closes. The firewall and networkd tests each bring their own probe code
and read its events through this class.
"""

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ccy.testing.netns import exec_in

READY_TIMEOUT_S = 30.0


class JsonProbe:
    """The probe's process and every event it reported (``seen``: those already taken)."""

    def __init__(self, namespace: str, code: str, args: Sequence[str]) -> None:
        self.proc = subprocess.Popen(
            exec_in(namespace, [sys.executable, "-c", code, *args]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        first = self.events.get(timeout=READY_TIMEOUT_S)
        assert first == {"ready": True}, first

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def take(self) -> None:
        """Move what has arrived into ``seen``."""
        try:
            while True:
                self.seen.append(self.events.get_nowait())
        except queue.Empty:
            pass

    def wait_for(self, wanted: Callable[[dict[str, Any]], bool], timeout_s: float) -> bool:
        """True once an event matching ``wanted`` arrived (now or before)."""
        deadline = time.monotonic() + timeout_s
        while not any(wanted(e) for e in self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self.seen.append(self.events.get(timeout=left))
            except queue.Empty:
                return False
        return True

    def forget(self) -> None:
        """Start a new round: what arrived before no longer counts."""
        self.take()
        self.seen.clear()

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
