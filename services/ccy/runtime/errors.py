# SPDX-License-Identifier: Apache-2.0
"""Active charger errors of one unit (the core of org.ccy.Errors1, free of bus code).

An error is identified by (type, subtype). Raising an active error again and clearing an
inactive one change nothing, so cores may call these on every frame without flooding the bus.
Errors are named by an entry of the unit's catalogue (:class:`ccy.runtime.contract.ErrorSpec`,
which also gives severity and description) or, the older way, by type name and severity.

Callbacks (the bus glue) are notifications: one that raises is logged with its traceback and
neither stops the others nor reaches the caller, so a core that raised an error goes on with
its own safety work (issue 9: a failing notification never leaves power allowed).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ccy.runtime.journal import fields

if TYPE_CHECKING:
    from ccy.runtime.contract import ErrorSpec


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

    def raise_error(
        self,
        error: "ErrorSpec | str",
        subtype: str = "",
        severity: Severity | None = None,
        message: str = "",
    ) -> bool:
        """Make (error, subtype) active; False if it already was.

        With an ErrorSpec, ``severity`` defaults to the catalogue's and ``message`` to its
        description; with a type name, ``severity`` is required.
        """
        if isinstance(error, str):
            if severity is None:
                raise TypeError(f"raise_error({error!r}): a type name needs a severity")
            type_ = error
        else:
            type_ = error.name
            severity = severity or error.severity
            message = message or error.description
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
        for callback in list(self.on_raised):
            self._notify(callback, err)
        return True

    def clear_error(self, error: "ErrorSpec | str", subtype: str = "") -> bool:
        type_ = _type_name(error)
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
        for callback in list(self.on_cleared):
            self._notify(callback, err, at)
        return True

    def clear_type(self, error: "ErrorSpec | str", keep: frozenset[str] = frozenset()) -> None:
        """Clear every active error of this type whose subtype is not in ``keep``."""
        type_ = _type_name(error)
        for t, sub in [k for k in self._active if k[0] == type_ and k[1] not in keep]:
            self.clear_error(t, sub)

    def is_active(self, error: "ErrorSpec | str", subtype: str = "") -> bool:
        return (_type_name(error), subtype) in self._active

    def active(self) -> list[ActiveError]:
        return sorted(self._active.values(), key=lambda e: e.raised_us)

    def _notify(self, callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:
            self._log.exception(
                "Error callback %s failed (logged, not propagated)",
                getattr(callback, "__qualname__", repr(callback)),
            )


def _type_name(error: "ErrorSpec | str") -> str:
    return error if isinstance(error, str) else error.name
