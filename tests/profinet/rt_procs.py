# SPDX-License-Identifier: Apache-2.0
"""A process that prints one event per line (the device host, the PLC simulator, a peer
script): start it, wait for lines, write commands to it, stop it."""

import queue
import subprocess
import threading
import time
from pathlib import Path

EVENT_TIMEOUT_S = 15.0


class Proc:
    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> "Proc":
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        log.close()
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        return self

    def _read(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = EVENT_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {prefix!r} line from {self.argv[-3:]}; seen {self.seen[-10:]};"
                    f" log:\n{self.log()}"
                )
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def send(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""
