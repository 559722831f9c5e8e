# SPDX-License-Identifier: Apache-2.0
"""Background tasks whose death ends the unit (issue 9, "a dead background task ends the
process").

A unit hands every task it cannot live without to ``ctx.supervise(task)``: a periodic sender,
a tick timer, a peer watch, a reset in progress. If one ends with an exception (or, when
``forever=True``, ends at all) the supervisor logs it as critical with its traceback and
fails; the main loop (:mod:`ccy.runtime.service`) then stops the unit and exits with status 1,
so systemd's ``Restart=on-failure`` brings it back. A half-alive unit that keeps answering on
the bus while its sender is dead is the case this prevents. Cancelled tasks are not failures
(that is how a unit stops its own tasks).
"""

import asyncio
import contextlib
import logging
from typing import Any

T = asyncio.Task[Any]


class Supervisor:
    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._tasks: dict[T, bool] = {}
        self._failed = asyncio.Event()
        self.failure: str | None = None
        """Why the unit must end (the first supervised task that died), None while healthy."""

    def supervise(self, task: T, forever: bool = False) -> T:
        """Watch ``task``; ``forever``: it must run as long as the unit (ending is a failure)."""
        self._tasks[task] = forever
        task.add_done_callback(self._done)
        return task

    @property
    def tasks(self) -> list[T]:
        return list(self._tasks)

    async def wait_failed(self) -> str:
        await self._failed.wait()
        assert self.failure is not None
        return self.failure

    def fail(self, why: str, exc: BaseException | None = None) -> None:
        """End the unit from a callback that is no task (a reader callback, a bus handler)."""
        self._log.critical("%s", why, exc_info=exc)
        if self.failure is None:
            self.failure = why
            self._failed.set()

    def _done(self, task: T) -> None:
        forever = self._tasks.pop(task, False)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            why = f"background task {task.get_name()} died: {type(exc).__name__}: {exc}"
            self._log.critical("%s", why, exc_info=exc)
        elif forever:
            why = f"background task {task.get_name()} ended; it must run as long as the unit"
            self._log.critical("%s", why)
        else:
            return
        if self.failure is None:
            self.failure = why
            self._failed.set()

    async def cancel_all(self) -> None:
        """Cancel every task still running and wait for them (on stop)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
