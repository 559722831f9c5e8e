# SPDX-License-Identifier: Apache-2.0
"""Profinet test helpers: sockets inside a network namespace, and the DCP device process.

- :func:`in_netns` runs a function on a short-lived thread that has joined a namespace
  (setns(2) changes only the calling thread); sockets it opens stay in that namespace, so a
  test drives a real RawSocket on a veth end from its own process and event loop.
- :class:`DcpDevice` runs ``python -m ccy.profinet.dcp`` (our responder, store, IP handling
  and LLDP) inside the charger namespace and follows its stdout event lines.

Namespaces come from ccy.testing.netns; each test file uses its own index (140..149 are the
DCP/LLDP tests') so files can run in parallel.
"""

import ctypes
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ccy.testing.netns import exec_in

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
EVENT_TIMEOUT_S = 10.0


def in_netns(namespace: str, fn: Callable[[], T]) -> T:
    """``fn()`` run inside ``namespace`` (on a thread of its own); its result or exception."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns {namespace}: {os.strerror(err)}")
            finally:
                os.close(fd)
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"netns-{namespace}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def run_in(namespace: str, script: str, *args: str, timeout: float = 60) -> str:
    """A Python ``script`` run in ``namespace``; its stdout (AssertionError with stderr on
    failure)."""
    done = subprocess.run(
        exec_in(namespace, [sys.executable, "-c", script, *args]),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"script failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


class DcpDevice:
    """``python -m ccy.profinet.dcp`` in a namespace; ``expect`` waits for an event line."""

    def __init__(
        self, namespace: str, interface: str, state_dir: Path, log_path: Path, *extra: str
    ) -> None:
        self.argv = exec_in(
            namespace,
            [sys.executable, "-m", "ccy.profinet.dcp", "--interface", interface,
             "--state-dir", str(state_dir), *extra],
        )  # fmt: skip
        self.log_path = log_path
        self.events: queue.Queue[str] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None
        self.mac = ""

    def start(self) -> "DcpDevice":
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        self.mac = self.expect("ready").split()[1]
        return self

    def _read(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.events.put(line.strip())

    def expect(self, prefix: str, timeout: float = EVENT_TIMEOUT_S) -> str:
        """The next event line starting with ``prefix`` (earlier other lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {prefix!r} event from the DCP device; log:\n{self.log()}")
            try:
                line = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        if self.proc is None:
            return 0
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def log(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""
