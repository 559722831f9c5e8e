# SPDX-License-Identifier: Apache-2.0
"""Active charger errors of one unit (the core of org.ccy.Errors1, free of bus code).

An error is identified by (type, subtype). Raising an active error again and clearing an
inactive one change nothing, so cores may call these on every frame without flooding the bus.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ccy.runtime.journal import fields


class Severity(StrEnum):
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"


@dataclass(frozen=True)
class ActiveError:
    type: str
    subtype: str
    severity: Severity
    message: str
    raised_us: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.subtype)

    def as_struct(self) -> list[object]:
        """The D-Bus struct (ssssx) of dbus/org.ccy.Errors1.xml."""
        return [self.type, self.subtype, str(self.severity), self.message, self.raised_us]


def now_us() -> int:
    return time.time_ns() // 1000


class ErrorRegistry:
    """The set of active errors with callbacks on change (the bus glue subscribes)."""

    def __init__(self, log: logging.Logger, clock_us: Callable[[], int] = now_us) -> None:
        self._active: dict[tuple[str, str], ActiveError] = {}
        self._log = log
        self._clock_us = clock_us
        self.on_raised: list[Callable[[ActiveError], None]] = []
        self.on_cleared: list[Callable[[ActiveError, int], None]] = []

    def raise_error(self, type_: str, subtype: str, severity: Severity, message: str) -> bool:
        if (type_, subtype) in self._active:
            return False
        err = ActiveError(type_, subtype, severity, message, self._clock_us())
        self._active[err.key] = err
        level = logging.ERROR if severity is Severity.HIGH else logging.WARNING
        self._log.log(
            level,
            "Error raised %s/%s: %s",
            type_,
            subtype or "-",
            message,
            extra=fields(
                event="error_raised",
                error_type=type_,
                error_subtype=subtype,
                severity=severity.value,
            ),
        )
        for callback in self.on_raised:
            callback(err)
        return True

    def clear_error(self, type_: str, subtype: str = "") -> bool:
        err = self._active.pop((type_, subtype), None)
        if err is None:
            return False
        self._log.info(
            "Error cleared %s/%s",
            type_,
            subtype or "-",
            extra=fields(event="error_cleared", error_type=type_, error_subtype=subtype),
        )
        at = self._clock_us()
        for callback in self.on_cleared:
            callback(err, at)
        return True

    def clear_type(self, type_: str, keep: frozenset[str] = frozenset()) -> None:
        """Clear every active error of ``type_`` whose subtype is not in ``keep``."""
        for t, sub in [k for k in self._active if k[0] == type_ and k[1] not in keep]:
            self.clear_error(t, sub)

    def is_active(self, type_: str, subtype: str = "") -> bool:
        return (type_, subtype) in self._active

    def active(self) -> list[ActiveError]:
        return sorted(self._active.values(), key=lambda e: e.raised_us)
