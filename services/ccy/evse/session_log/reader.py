# SPDX-License-Identifier: Apache-2.0
"""Reading a session-log folder (``ccyctl evse session show``): tolerant of a last line cut
by a power loss, which is skipped and counted, never a traceback."""

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccy.evse.session_log.writer import EVENTS_FILE, SESSION_FILE, TIMING_FILE, V2G_FILE


@dataclass
class FolderContents:
    events: list[dict[str, Any]] = field(default_factory=list)
    v2g: list[dict[str, Any]] = field(default_factory=list)
    timing: str | None = None
    session: dict[str, Any] | None = None
    unreadable_lines: int = 0
    """Lines that are not a JSON object (cut by a power loss or a full disk)."""


def _read_lines(path: Path, into: list[dict[str, Any]]) -> int:
    """Append the JSON objects of ``path`` to ``into``; the count of bad lines."""
    bad = 0
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            bad += 1
            continue
        if isinstance(value, dict):
            into.append(value)
        else:
            bad += 1
    return bad


def read_folder(folder: Path) -> FolderContents:
    """Everything in one session's folder (missing files are empty)."""
    contents = FolderContents()
    contents.unreadable_lines += _read_lines(folder / EVENTS_FILE, contents.events)
    contents.unreadable_lines += _read_lines(folder / V2G_FILE, contents.v2g)
    with contextlib.suppress(FileNotFoundError):
        contents.timing = (folder / TIMING_FILE).read_text(errors="replace")
    sessions: list[dict[str, Any]] = []
    contents.unreadable_lines += _read_lines(folder / SESSION_FILE, sessions)
    contents.session = sessions[0] if sessions else None
    return contents
