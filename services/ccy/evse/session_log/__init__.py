# SPDX-License-Identifier: Apache-2.0
"""Session logs: ``/var/log/ccy/sessions/<UTC start>-<session id>/`` per charging session.

Each folder holds ``events.jsonl`` (ccy-evse's events), ``v2g.jsonl`` (the V2G messages ccy-v2g
reports: direction, name, JSON view, EXI hex), ``timing.txt`` (the Timing statistics block) and
``session.json`` (id, start, end, reason). The index ``ccyctl evse sessions`` lists is the
records database's sessions table (each row names its folder); the folder names alone also
say when and which session. Retention keeps at most ``session_log_max_count`` folders holding
at most ``session_log_max_bytes`` (config section evse). Write policy: :mod:`.writer`.

Pure Python, no bus. ccy-evse::

    logs = SessionLogs(sessions_dir(paths), settings.session_log_max_count,
                       settings.session_log_max_bytes)
    log = logs.start(session_id, now_us)           # then store.session_started(…, log.folder_name)
    await asyncio.to_thread(logs.enforce_retention, (log.folder_name,))
    log.event("StateChanged", now_us, old="Idle", new="WaitingForAuthentication")
    log.v2g("rx", "DC_ChargeLoopReq", now_us, body={...}, exi_hex="8098…")
    log.timing(block); log.close(now_us, "EVDisconnected")
"""

from pathlib import Path

from ccy.evse.session_log.folders import (
    SESSIONS_SUBDIR,
    InvalidSessionId,
    SessionFolder,
    enforce_retention,
    find_folder,
    folder_name,
    list_folders,
    sessions_dir,
)
from ccy.evse.session_log.reader import FolderContents, read_folder
from ccy.evse.session_log.writer import (
    EVENTS_FILE,
    SESSION_FILE,
    TIMING_FILE,
    V2G_FILE,
    ErrorListener,
    SessionLog,
    make_folder,
)

__all__ = [
    "EVENTS_FILE",
    "SESSIONS_SUBDIR",
    "SESSION_FILE",
    "TIMING_FILE",
    "V2G_FILE",
    "FolderContents",
    "InvalidSessionId",
    "SessionFolder",
    "SessionLog",
    "SessionLogs",
    "enforce_retention",
    "find_folder",
    "folder_name",
    "list_folders",
    "read_folder",
    "sessions_dir",
]


class SessionLogs:
    """The sessions folder: starts session logs and keeps the retention limits."""

    def __init__(self, base: Path, max_count: int, max_bytes: int) -> None:
        if max_count < 1 or max_bytes < 0:
            raise ValueError(f"retention needs max_count ≥ 1 and max_bytes ≥ 0, not "
                             f"{max_count}, {max_bytes}")  # fmt: skip
        self.base = base
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.on_error: ErrorListener | None = None

    def start(self, session_id: str, start_us: int) -> SessionLog:
        """Make the session's folder and its session.json. InvalidSessionId for an id that
        cannot name a folder; OSError when the folder cannot be made (the unit logs it and
        charges on without a session log)."""
        name = folder_name(session_id, start_us)
        if not self.base.is_dir():
            self.base.mkdir(parents=True, mode=0o750)
        path = self.base / name
        if not path.is_dir():  # the same session started again in the same second: append
            make_folder(path)
        return SessionLog(path, session_id, start_us, self.on_error)

    def close_unfinished(self, end_us: int, reason: str) -> str | None:
        """Close the newest folder if a previous run left it open (session.json without an
        end: the unit was killed or stopped mid-session): the end and ``reason`` go into its
        session.json and a ``closed_on_start`` line into its events, as the records database
        closes that session's row. Only the newest can be open: one session runs at a time
        and every start closes what the run before left. The folder's name, or None."""
        folders = list_folders(self.base)
        if not folders:
            return None
        newest = folders[-1]
        session = read_folder(newest.path).session
        if session is None or session.get("end_us") is not None:
            return None
        start_us = session.get("start_us")
        if not isinstance(start_us, int):
            return None
        log = SessionLog(newest.path, newest.session_id, start_us, self.on_error)  # appends
        log.event("closed_on_start", end_us, reason=reason)
        log.close(max(start_us, end_us), reason)
        return newest.name

    def enforce_retention(self, keep: tuple[str, ...] = ()) -> list[str]:
        """Remove the oldest folders beyond the limits (see folders.enforce_retention)."""
        return enforce_retention(self.base, self.max_count, self.max_bytes, keep)

    def find(self, session_id: str) -> Path | None:
        folder = find_folder(self.base, session_id)
        return folder.path if folder is not None else None

    def folders(self) -> list[SessionFolder]:
        return list_folders(self.base)
