# SPDX-License-Identifier: Apache-2.0
"""Carries the core's record effects into the records database and the session log.

A write error never reaches the core: the store queues writes on a full disk (its own rule,
ccy.evse.records) and this logs anything else once; the session log drops lines it cannot
write. RecordsDiskFull follows the store's health.

Besides the core's effects, two inputs of the glue land here:

- every unit's Errors1 (raised, cleared, or a unit's whole ActiveErrors when it appears or
  vanishes): the error history, and while a session is open one ``error_raised`` /
  ``error_cleared`` line each in its events.jsonl. The open errors are tracked per unit, so an
  error that arrives twice (the Raised signal and the ActiveErrors change) is one line, and a
  unit that vanishes has its errors cleared in the log as in the history;
- ccy-v2g's V2gMessage: one line of the open session's v2g.jsonl (direction "rx" for the
  vehicle's request, "tx" for our response; the JSON view as ccy-v2g gave it, already
  redacted; the EXI hex when given). Outside a session a message is dropped (debug line).
"""

import asyncio
import json
import logging
from collections.abc import Callable, Iterable

from ccy.evse import contract as c
from ccy.evse.effects import (
    Effect,
    PersistEnabled,
    RecordMeter,
    RecordSessionFinished,
    RecordSessionStarted,
    RecordTransactionStarted,
    RecordTransactionStopped,
    SessionLog,
)
from ccy.evse.records import RecordsError, RecordsHealth, RecordStore
from ccy.evse.session_log import SessionLog as LogFolder
from ccy.evse.session_log import SessionLogs
from ccy.runtime.errors import ErrorRegistry

ENABLED_KEY = "evse.enabled"
DIRECTIONS = {"Request": "rx", "Response": "tx"}
"""V2gMessage's direction (ccy.v2g.contract.Direction) → the session log's."""
ActiveRow = tuple[str, str, str, str, int]
"""One entry of Errors1.ActiveErrors: type, subtype, severity, message, raised_us."""


class Recorder:
    def __init__(
        self, store: RecordStore, logs: SessionLogs, errors: ErrorRegistry, log: logging.Logger
    ) -> None:
        self.store = store
        self.logs = logs
        self.errors = errors
        self.log = log
        self.folder: LogFolder | None = None
        self.active: dict[str, dict[tuple[str, str], ActiveRow]] = {}
        """Open errors per unit, as the history has them."""
        self.retention: asyncio.Future[None] | None = None
        """The last retention run started off the event loop (awaitable by a test)."""
        store.on_health = self._health

    def _health(self, health: RecordsHealth) -> None:
        if health.disk_full:
            self.errors.raise_error(
                c.RECORDS_DISK_FULL,
                message=f"{c.RECORDS_DISK_FULL.description} ({health.pending} pending, "
                f"{health.dropped} dropped)",
            )
        else:
            self.errors.clear_error(c.RECORDS_DISK_FULL)

    def apply(self, e: Effect) -> bool:
        """True if ``e`` was a record effect (handled here)."""
        try:
            return self._apply(e)
        except RecordsError as exc:
            self.log.error("Records: %s", exc)
            return True

    def _apply(self, e: Effect) -> bool:
        s = self.store
        if isinstance(e, SessionLog):
            if self.folder is not None:
                if e.kind == "timing":
                    self.folder.timing(str(e.fields.get("text", "")))
                else:
                    self.folder.event(e.kind, e.at_us, **e.fields)
        elif isinstance(e, RecordSessionStarted):
            try:
                self.folder = self.logs.start(e.session_id, e.start_us)
                name: str | None = self.folder.folder_name
            except (OSError, ValueError) as exc:
                self.log.warning("Session log not started: %s", exc)
                self.folder, name = None, None
            s.session_started(e.session_id, e.start_us, name)
            if name is not None:
                self._retention(name)
        elif isinstance(e, RecordSessionFinished):
            s.session_finished(e.session_id, e.end_us, e.reason)
            if self.folder is not None:
                self.folder.close(e.end_us, e.reason)
                self.folder = None
        elif isinstance(e, RecordTransactionStarted):
            s.start_transaction(
                e.transaction_id,
                e.session_id,
                e.token,
                e.start_us,
                e.meter_start_wh,
                clock_synchronized=e.clock_synchronized,
            )
        elif isinstance(e, RecordTransactionStopped):
            s.stop_transaction(
                e.transaction_id,
                e.stop_us,
                e.reason,
                e.meter_stop_wh,
                clock_synchronized=e.clock_synchronized,
            )
        elif isinstance(e, RecordMeter):
            s.note_meter(e.transaction_id, e.meter_wh, e.at_us)
        elif isinstance(e, PersistEnabled):
            s.put(ENABLED_KEY, "true" if e.enabled else "false")
        else:
            return False
        return True

    def _retention(self, keep: str) -> None:
        """Remove the oldest session-log folders beyond the limits (count and size), the new
        session's ``keep`` never. It stats every folder, so it runs off the event loop when
        there is one (the unit), directly otherwise."""

        def run() -> None:
            try:
                removed = self.logs.enforce_retention((keep,))
            except OSError as exc:
                self.log.warning("Session-log retention: %s", exc)
                return
            if removed:
                self.log.info("Session-log retention removed %d folder(s)", len(removed))

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            run()
            return
        self.retention = loop.run_in_executor(None, run)

    # ---------------------------------------------------------------- error history
    def _history(self, write: Callable[[], None]) -> None:
        try:
            write()
        except RecordsError as exc:
            self.log.error("Error history: %s", exc)

    def _log_raised(self, unit: str, row: ActiveRow) -> None:
        if self.folder is not None:
            type_, subtype, severity, message, raised_us = row
            self.folder.event(
                "error_raised",
                raised_us,
                unit=unit,
                type=type_,
                subtype=subtype,
                severity=severity,
                message=message,
            )

    def _log_cleared(self, unit: str, key: tuple[str, str], at_us: int) -> None:
        if self.folder is not None:
            self.folder.event("error_cleared", at_us, unit=unit, type=key[0], subtype=key[1])

    def error_raised(
        self, unit: str, type_: str, subtype: str, severity: str, message: str, raised_us: int
    ) -> None:
        """An Errors1.Raised of ``unit`` (ccy-evse's own included)."""
        self._history(
            lambda: self.store.error_raised(unit, type_, subtype, severity, message, raised_us)
        )
        active = self.active.setdefault(unit, {})
        if (type_, subtype) not in active:
            row = (type_, subtype, severity, message, raised_us)
            active[(type_, subtype)] = row
            self._log_raised(unit, row)

    def error_cleared(self, unit: str, type_: str, subtype: str, cleared_us: int) -> None:
        """An Errors1.Cleared of ``unit``."""
        self._history(lambda: self.store.error_cleared(unit, type_, subtype, cleared_us))
        if self.active.get(unit, {}).pop((type_, subtype), None) is not None:
            self._log_cleared(unit, (type_, subtype), cleared_us)

    def errors_now(self, unit: str, rows: Iterable[ActiveRow], at_us: int) -> None:
        """``unit``'s whole ActiveErrors (it appeared, changed, or vanished: ``()``)."""
        now = {(r[0], r[1]): r for r in rows}
        self._history(lambda: self.store.sync_active_errors(unit, now.values(), at_us))
        before = self.active.get(unit, {})
        self.active[unit] = dict(now)
        for key, row in now.items():
            if key not in before:
                self._log_raised(unit, row)
        for key in before:
            if key not in now:
                self._log_cleared(unit, key, at_us)

    # ---------------------------------------------------------------- V2G messages
    def v2g_message(self, direction: str, name: str, text: str, exi_hex: str, at_us: int) -> None:
        """One V2gMessage of ccy-v2g into the open session's v2g.jsonl."""
        if self.folder is None:
            self.log.debug("V2G message %s outside a session: not logged", name)
            return
        try:
            parsed: object = json.loads(text) if text else None
        except ValueError:
            parsed = {"unparsed": text}  # kept as given: the log shows what ccy-v2g sent
        body = parsed if isinstance(parsed, dict) or parsed is None else {"value": parsed}
        self.folder.v2g(DIRECTIONS.get(direction, direction), name, at_us, body, exi_hex or None)
