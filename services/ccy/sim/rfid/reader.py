# SPDX-License-Identifier: Apache-2.0
"""The simulated reader behind a pty pair: lines out (HELLO, UID, ERR, raw bytes), the
host's answer lines (OK, NOK <status>) in.

The simulator owns both ends (os.openpty, raw mode); the host (ccy-auth, pyserial) opens the
slave through the link. It keeps its own slave descriptor open, so the master never sees a
hang-up while no host is attached; lines written meanwhile wait in the pty.
"""

import asyncio
import contextlib
import os
import re
import termios
import tty
from pathlib import Path

UID = re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20}")
MAX_ANSWERS = 1000
READ_SIZE = 1024


class ScenarioError(ValueError):
    """A scenario command with a bad argument."""


class RfidSimulator:
    def __init__(self) -> None:
        self.slave_path: Path | None = None
        self.answers: list[str] = []
        """The host's answer lines, oldest first (at most MAX_ANSWERS kept)."""
        self._master = -1
        self._slave = -1
        self._link: Path | None = None
        self._partial = b""

    def open(self) -> Path:
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_path = Path(os.ttyname(slave))
        return self.slave_path

    def link(self, path: Path) -> None:
        if self.slave_path is None:
            raise RuntimeError("open() the pty first")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(self.slave_path)
        self._link = path

    def start(self) -> None:
        if self._master < 0:
            self.open()
        asyncio.get_running_loop().add_reader(self._master, self._readable)

    def stop(self) -> None:
        if self._master >= 0:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            os.close(self._slave)
            self._master = self._slave = -1
        if self._link is not None and self._link.is_symlink():
            self._link.unlink()
            self._link = None

    def _readable(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except (BlockingIOError, OSError):
            return
        self._partial += data
        *lines, self._partial = self._partial.split(b"\n")
        for line in lines:
            self.answers.append(line.rstrip(b"\r").decode("ascii", "replace"))
        del self.answers[:-MAX_ANSWERS]
        self._partial = self._partial[-256:]

    def send(self, data: bytes) -> None:
        if self._master < 0:
            raise RuntimeError("the simulator is not running")
        os.write(self._master, data)

    # scenario
    def card(self, uid: str) -> None:
        if not UID.fullmatch(uid):
            raise ScenarioError("uid must be 8, 14 or 20 hex digits")
        self.send(f"UID {uid}\n".encode())

    def hello(self, text: str = "ccy-sim RFID reader 1.0") -> None:
        self.send(f"HELLO {text}\n".encode("ascii", "replace"))

    def error(self, text: str) -> None:
        self.send(f"ERR {text}\n".encode("ascii", "replace"))
