# SPDX-License-Identifier: Apache-2.0
"""Names and retention of the session-log folders under /var/log/ccy/sessions.

A folder is ``<UTC start time>-<session id>``, the time as ``YYYYMMDDTHHMMSSZ`` (ISO 8601 basic,
no colons), so ``ls`` lists sessions in the order they started and the name alone tells when
and which. Retention (:func:`enforce_retention`) removes the oldest folders until at most
``max_count`` remain and together they hold at most ``max_bytes``; the folders of running
sessions are never removed.
"""

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ccy.runtime.paths import Paths

SESSIONS_SUBDIR = "sessions"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
SESSION_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""What a session id may be to name a folder (a UUID is): no slash, no leading dot."""
FOLDER_RE = re.compile(r"(?P<time>\d{8}T\d{6}Z)-(?P<session>[A-Za-z0-9][A-Za-z0-9._-]{0,127})")


class InvalidSessionId(ValueError):
    """A session id that cannot name a folder."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session id {session_id!r} cannot name a session-log folder "
            f"(allowed: {SESSION_ID_RE.pattern})"
        )


def sessions_dir(paths: Paths) -> Path:
    """``/var/log/ccy/sessions`` under the root of ``paths`` (2750 ccy-evse:ccy on the device)."""
    return paths.log / SESSIONS_SUBDIR


def check_session_id(session_id: str) -> str:
    if not SESSION_ID_RE.fullmatch(session_id):
        raise InvalidSessionId(session_id)
    return session_id


def folder_name(session_id: str, start_us: int) -> str:
    """``<UTC start>-<session id>``; InvalidSessionId for an id that cannot name a folder."""
    stamp = datetime.fromtimestamp(start_us / 1e6, UTC).strftime(TIME_FORMAT)
    return f"{stamp}-{check_session_id(session_id)}"


@dataclass(frozen=True)
class SessionFolder:
    name: str
    session_id: str
    started: datetime
    base: Path
    """The sessions folder holding it."""

    @property
    def path(self) -> Path:
        return self.base / self.name

    def size_bytes(self) -> int:
        """Bytes of the files in the folder (what retention counts)."""
        total = 0
        try:
            with os.scandir(os.path.join(self.base, self.name)) as entries:
                for entry in entries:
                    try:
                        if entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:
                        continue
        except FileNotFoundError:
            return 0
        return total


def list_folders(base: Path) -> list[SessionFolder]:
    """Every session-log folder under ``base``, oldest first; other entries are ignored.

    No pathlib object per folder here (``SessionFolder.path`` makes one when asked): pathlib
    interns every path component, and retention lists every folder at every session start,
    so the interpreter's table of interned strings churned through hundreds of unique folder
    names per session and grew in a step (a dict never shrinks) — about 0.5 MiB of the soak's
    ccy-evse RSS."""
    try:
        with os.scandir(base) as it:
            entries = sorted(((e.name, e.is_dir()) for e in it), key=lambda e: e[0])
    except FileNotFoundError:
        return []
    found = []
    for name, is_dir in entries:
        match = FOLDER_RE.fullmatch(name)
        if match is None or not is_dir:
            continue
        started = datetime.strptime(match["time"], TIME_FORMAT).replace(tzinfo=UTC)
        found.append(SessionFolder(name, match["session"], started, base))
    return found


def find_folder(base: Path, session_id: str) -> SessionFolder | None:
    """The (newest) folder of ``session_id``, or None."""
    matches = [f for f in list_folders(base) if f.session_id == session_id]
    return matches[-1] if matches else None


def enforce_retention(
    base: Path, max_count: int, max_bytes: int, keep: tuple[str, ...] = ()
) -> list[str]:
    """Remove the oldest folders (not those named in ``keep``) until at most ``max_count``
    remain and they hold at most ``max_bytes``; the names removed, oldest first.

    It walks every folder (a few stat calls each): the unit runs it in a thread
    (``asyncio.to_thread``) after starting a session's log.
    """
    folders = list_folders(base)
    sizes = {f.name: f.size_bytes() for f in folders}
    count = len(folders)
    total = sum(sizes.values())
    removed = []
    for folder in folders:
        if count <= max_count and total <= max_bytes:
            break
        if folder.name in keep:
            continue
        shutil.rmtree(os.path.join(base, folder.name), ignore_errors=True)
        count -= 1
        total -= sizes[folder.name]
        removed.append(folder.name)
    return removed
