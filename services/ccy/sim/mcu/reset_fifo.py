# SPDX-License-Identifier: Apache-2.0
"""The simulated reset line nSAFETY_RESET_INT: a FIFO read line by line.

ccy-bsp's "file" reset driver writes "0" (reset asserted, active low) and then "1" (released)
to a path, each with its own non-blocking open. The simulator creates a FIFO at that path and
keeps it open read-write, so a writer always finds a reader (no ENXIO) and the reader never
sees end-of-file; every line is handled, so even a 5 ms pulse is never missed. A line may
carry the writer's CLOCK_MONOTONIC time of the level ("0 12.345678", as ccy-bsp writes to a
FIFO): the loop reads the FIFO late under load, sometimes both levels at once, so the
writer's time stamps are the pulse width; a bare "0"/"1" is time-stamped when read
(run.reset_line_handler). The model refuses a pulse too short to reset the MCU.
"""

import asyncio
import logging
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

MAX_LINE = 64  # longer lines are garbage: dropped with a warning


class ResetFifoError(RuntimeError):
    """The FIFO could not be created or opened."""


class ResetFifo:
    """Calls ``on_level(False, at)`` for a "0" line (held in reset), ``on_level(True, at)`` for
    "1"; ``at`` is the writer's monotonic time stamp, or None when the line has none."""

    def __init__(
        self, path: Path, on_level: Callable[[bool, float | None], None], log: logging.Logger
    ) -> None:
        self.path = path
        self.on_level = on_level
        self.log = log
        self.bad_lines = 0
        self._fd = -1
        self._buf = b""
        self._created = False

    def open(self) -> None:
        try:
            mode = self.path.lstat().st_mode
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(self.path, 0o660)
            self._created = True
        else:
            if not stat.S_ISFIFO(mode):
                raise ResetFifoError(f"{self.path} exists and is not a FIFO")
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise ResetFifoError(f"cannot open reset FIFO {self.path}: {exc.strerror}") from exc
        asyncio.get_running_loop().add_reader(self._fd, self._on_readable)

    def close(self) -> None:
        if self._fd >= 0:
            asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
        if self._created:
            self.path.unlink(missing_ok=True)
            self._created = False

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        if len(self._buf) > MAX_LINE:
            lines.append(self._buf)
            self._buf = b""
        for line in lines:
            self.feed_line(line)

    def feed_line(self, line: bytes) -> None:
        words = line.split()
        if not words:
            return
        at = _stamp(words[1]) if len(words) == 2 else None
        if words[0] in (b"0", b"1") and (len(words) == 1 or at is not None):
            self.on_level(words[0] == b"1", at)
        else:
            value = line.strip()
            self.bad_lines += 1
            self.log.warning("reset FIFO: ignoring %r (expected 0 or 1)", value[:MAX_LINE])


def _stamp(word: bytes) -> float | None:
    """A writer's monotonic time stamp ("12.345678"), or None if the word is not one."""
    try:
        value = float(word)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
