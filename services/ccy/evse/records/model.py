# SPDX-License-Identifier: Apache-2.0
"""The rows of the records database as frozen dataclasses (times: µs since the epoch, UTC;
energies and meter readings: Wh, ``None`` = unknown, never 0)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

POWER_LOSS_REASON = "PowerLoss"
"""Stop reason of a transaction or session still open when the database is opened: the unit
ended without closing it (power loss, SIGKILL, crash). EVerest's EvseManager uses the same
reason word on its "Cleaning up any other transaction on start up"."""


def _seconds(us: int | None) -> float:
    return math.nan if us is None else us / 1e6


def _nan_for_none(value: float | None) -> float:
    return math.nan if value is None else value


def _none_for_nan(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _micros(seconds: object) -> int | None:
    number = _none_for_nan(seconds)
    return None if number is None else round(number * 1e6)


@dataclass(frozen=True)
class TransactionRecord:
    transaction_id: str
    session_id: str
    token_hash: str
    """Already redacted (``[redacted] hash: <15 hex>``); the clear token is never stored."""
    start_us: int
    stop_us: int | None
    stop_reason: str | None
    meter_start_Wh: float | None
    meter_stop_Wh: float | None
    energy_Wh: float | None
    """meter_stop - meter_start when both are known, else None (unknown, not 0)."""
    clock_synchronized_start: bool | None = None
    """Whether the system clock was synchronized (ccy.runtime.clock) at the start: the
    timestamps are NTP time only when it was; None: unknown (a record from before schema 4)."""
    clock_synchronized_stop: bool | None = None
    """The same at the stop; None also for a PowerLoss close (nobody read the clock then)."""

    @property
    def open(self) -> bool:
        return self.stop_us is None

    def as_struct(self) -> list[object]:
        """Evse1.ListTransactions' ``(sssddsd)``: id, session, token (redacted), started and
        stopped in seconds since the epoch (stopped NaN while open), stop reason ("" while
        open), energy in Wh (NaN: unknown)."""
        return [
            self.transaction_id,
            self.session_id,
            self.token_hash,
            _seconds(self.start_us),
            _seconds(self.stop_us),
            self.stop_reason or "",
            _nan_for_none(self.energy_Wh),
        ]

    @classmethod
    def from_struct(cls, value: Sequence[object]) -> "TransactionRecord":
        """The record as far as ListTransactions carries it (no meter readings)."""
        tid, sid, token, start, stop, reason, energy = value
        stop_us = _micros(stop)
        return cls(
            transaction_id=str(tid),
            session_id=str(sid),
            token_hash=str(token),
            start_us=_micros(start) or 0,
            stop_us=stop_us,
            stop_reason=str(reason) if stop_us is not None or reason else None,
            meter_start_Wh=None,
            meter_stop_Wh=None,
            energy_Wh=_none_for_nan(energy),
        )


@dataclass(frozen=True)
class ErrorRecord:
    """One raise (and its clear) of an org.ccy.Errors1 error of any unit."""

    unit: str
    type: str
    subtype: str
    severity: str
    message: str
    raised_us: int
    cleared_us: int | None

    def as_struct(self) -> list[object]:
        """Evse1.ListErrors' ``(sssssdd)``: unit, type, subtype, severity, message, raised and
        cleared in seconds since the epoch (cleared NaN while active)."""
        return [
            self.unit,
            self.type,
            self.subtype,
            self.severity,
            self.message,
            _seconds(self.raised_us),
            _seconds(self.cleared_us),
        ]

    @classmethod
    def from_struct(cls, value: Sequence[object]) -> "ErrorRecord":
        unit, typ, sub, severity, message, raised, cleared = value
        return cls(
            str(unit), str(typ), str(sub), str(severity), str(message),
            _micros(raised) or 0, _micros(cleared),
        )  # fmt: skip


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    start_us: int
    end_us: int | None
    reason: str | None
    folder: str | None
    """The session-log folder's name under /var/log/ccy/sessions, or None (no log)."""


class RecordsState(StrEnum):
    """Why writes are being queued in memory (RecordsHealth.state)."""

    OK = "Ok"
    DISK_FULL = "DiskFull"
    """SQLITE_FULL: the file system (or SQLite's page limit) has no room."""
    LOCKED = "Locked"
    """SQLITE_BUSY beyond the busy timeout: another process holds the write lock."""
    FAILED = "Failed"
    """Another SQLite error (I/O error, damage found while writing): writes are kept queued
    and retried; the unit raises an error and charges on."""


@dataclass(frozen=True)
class RecordsHealth:
    """What the unit turns into an Errors1 entry (RecordsDiskFull) while ``state`` is not Ok."""

    state: RecordsState
    pending: int
    """Writes waiting in memory."""
    dropped: int
    """Writes given up since the store was opened (queue overflow, or failed on retry)."""
    last_error: str

    @property
    def disk_full(self) -> bool:
        return self.state is RecordsState.DISK_FULL
