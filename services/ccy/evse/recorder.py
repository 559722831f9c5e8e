# SPDX-License-Identifier: Apache-2.0
"""Carries the core's record effects into the records database and the session log.

A write error never reaches the core: the store queues writes on a full disk (its own rule,
ccy.evse.records) and this logs anything else once; the session log drops lines it cannot
write. RecordsDiskFull follows the store's health.
"""

import logging

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


class Recorder:
    def __init__(
        self, store: RecordStore, logs: SessionLogs, errors: ErrorRegistry, log: logging.Logger
    ) -> None:
        self.store = store
        self.logs = logs
        self.errors = errors
        self.log = log
        self.folder: LogFolder | None = None
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
        elif isinstance(e, RecordSessionFinished):
            s.session_finished(e.session_id, e.end_us, e.reason)
            if self.folder is not None:
                self.folder.close(e.end_us, e.reason)
                self.folder = None
        elif isinstance(e, RecordTransactionStarted):
            s.start_transaction(
                e.transaction_id, e.session_id, e.token, e.start_us, e.meter_start_wh
            )
        elif isinstance(e, RecordTransactionStopped):
            s.stop_transaction(e.transaction_id, e.stop_us, e.reason, e.meter_stop_wh)
        elif isinstance(e, RecordMeter):
            s.note_meter(e.transaction_id, e.meter_wh, e.at_us)
        elif isinstance(e, PersistEnabled):
            s.put(ENABLED_KEY, "true" if e.enabled else "false")
        else:
            return False
        return True
