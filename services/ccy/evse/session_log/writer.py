# SPDX-License-Identifier: Apache-2.0
"""Writing one session's log: ``events.jsonl``, ``v2g.jsonl``, ``timing.txt``, ``session.json``.

Write policy (the event loop must never wait long): every call is one ``os.write`` of one
line to a file opened ``O_APPEND`` — it lands in the page cache, no fsync per line. The files
are fsynced once, by :meth:`SessionLog.close` at the session's end. A power loss can therefore
lose the last lines of a running session's log; what must survive one (transactions, the
session's start and end) is in the records database with ``synchronous=FULL``. A failed write
(ENOSPC on a full disk, EIO) never raises: the line is dropped, counted in ``lost_lines``, and
``on_error(folder, exc)`` is called once per run of failures.

Each line is a JSON object with ``us`` (µs since the epoch, UTC) and ``t`` (the same as ISO
8601 UTC with milliseconds, for a reader), then the record's fields:

    events.jsonl  {"us", "t", "event": kind, ...fields}
    v2g.jsonl     {"us", "t", "dir": "rx"|"tx", "name": message name, "body": JSON view|null,
                   "exi": EXI hex|null}
    session.json  {"session", "start_us", "end_us", "reason"} (replaced atomically at close)
    timing.txt    the "Timing statistics" block as ccy-evse logs it, replaced whole
"""

import json
import os
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

EVENTS_FILE = "events.jsonl"
V2G_FILE = "v2g.jsonl"
TIMING_FILE = "timing.txt"
SESSION_FILE = "session.json"
FILE_MODE = 0o640
FOLDER_MODE = 0o750
"""Files 0640 and folders 0750 (plus the set-group-id bit the sessions folder passes on), so
group ccy (operators) reads them and nobody else does."""

ErrorListener = Callable[[Path, OSError], None]


def iso_utc(at_us: int) -> str:
    return datetime.fromtimestamp(at_us / 1e6, UTC).isoformat(timespec="milliseconds")


def _json_default(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def json_line(record: Mapping[str, object]) -> bytes:
    """One JSON line; values JSON cannot carry become text (bytes become hex), never an error."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return (text + "\n").encode()


def make_folder(path: Path) -> None:
    """Create ``path`` 0750, keeping the set-group-id bit its parent passes on (group ccy)."""
    path.mkdir(mode=FOLDER_MODE)
    setgid = path.parent.stat().st_mode & stat.S_ISGID
    os.chmod(path, FOLDER_MODE | setgid)


class SessionLog:
    """The log folder of one session; use SessionLogs.start() to make one."""

    def __init__(
        self, folder: Path, session_id: str, start_us: int, on_error: ErrorListener | None
    ) -> None:
        self.folder = folder
        self.folder_name = folder.name
        self.session_id = session_id
        self.start_us = start_us
        self.lost_lines = 0
        self.closed = False
        self._fds: dict[str, int] = {}
        self._failing = False
        self._on_error = on_error
        self._write_session_file(None, None)

    def _fd(self, name: str) -> int:
        fd = self._fds.get(name)
        if fd is None:
            fd = os.open(
                self.folder / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE
            )
            os.fchmod(fd, FILE_MODE)
            self._fds[name] = fd
        return fd

    def _failed(self, exc: OSError) -> None:
        self.lost_lines += 1
        if not self._failing and self._on_error is not None:
            self._on_error(self.folder, exc)
        self._failing = True

    def _append(self, name: str, record: Mapping[str, object]) -> None:
        if self.closed:
            return
        try:
            os.write(self._fd(name), json_line(record))
        except OSError as exc:
            self._failed(exc)
            return
        self._failing = False

    def event(self, kind: str, at_us: int, **fields: object) -> None:
        """One line of events.jsonl: ``{"us", "t", "event": kind, **fields}``."""
        self._append(EVENTS_FILE, {"us": at_us, "t": iso_utc(at_us), "event": kind, **fields})

    def v2g(
        self,
        direction: str,
        name: str,
        at_us: int,
        body: Mapping[str, object] | None = None,
        exi_hex: str | None = None,
    ) -> None:
        """One V2G message as ccy-v2g reported it: direction ("rx" from the EV, "tx" to it),
        the message name, its JSON view and the EXI bytes as hex when given."""
        record = {
            "us": at_us,
            "t": iso_utc(at_us),
            "dir": direction,
            "name": name,
            "body": body,
            "exi": exi_hex,
        }
        self._append(V2G_FILE, record)

    def timing(self, text: str) -> None:
        """Replace timing.txt with the Timing statistics block."""
        if self.closed:
            return
        self._replace(TIMING_FILE, text if text.endswith("\n") else text + "\n")

    def _replace(self, name: str, text: str) -> None:
        tmp = self.folder / f".{name}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
            try:
                os.fchmod(fd, FILE_MODE)
                os.write(fd, text.encode())
            finally:
                os.close(fd)
            os.replace(tmp, self.folder / name)
        except OSError as exc:
            self._failed(exc)

    def _write_session_file(self, end_us: int | None, reason: str | None) -> None:
        record = {
            "session": self.session_id,
            "start_us": self.start_us,
            "end_us": end_us,
            "reason": reason,
        }
        self._replace(SESSION_FILE, json_line(record).decode())

    def close(self, end_us: int, reason: str) -> None:
        """Write the end into session.json, fsync every file and the folder, close. Idempotent."""
        if self.closed:
            return
        self._write_session_file(end_us, reason)
        self.closed = True
        for fd in self._fds.values():
            try:
                os.fsync(fd)
            except OSError as exc:
                self._failed(exc)
            finally:
                os.close(fd)
        self._fds.clear()
        try:
            for name in (TIMING_FILE, SESSION_FILE):
                if (self.folder / name).exists():
                    with open(self.folder / name, "rb") as f:
                        os.fsync(f.fileno())
            dir_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            self._failed(exc)
