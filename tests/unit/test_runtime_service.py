# SPDX-License-Identifier: Apache-2.0
"""The shared main loop: a dead supervised task ends the unit with status 1 (issue 9)."""

import asyncio
from pathlib import Path

import pytest

from ccy.runtime.service import EX_FAILURE, EX_OK, UnitContext, run_unit
from ccy.runtime.supervisor import Supervisor


class FakeUnit:
    """Starts one supervised background task doing ``work``."""

    def __init__(self, ctx: UnitContext, work: str) -> None:
        self.ctx = ctx
        self.work = work
        self.stopped = False

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.ctx.supervise(loop.create_task(self._work(), name="sender"), forever=True)

    async def _work(self) -> None:
        await asyncio.sleep(0)
        if self.work == "crash":
            raise ValueError("sender bug")
        if self.work == "return":
            return
        if self.work == "sigterm":
            import os
            import signal

            os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.Event().wait()

    async def stop(self) -> None:
        self.stopped = True

    def status_text(self) -> str:
        return "fake"

    def healthy(self) -> bool:
        return True


def run(tmp_path: Path, work: str) -> tuple[int, FakeUnit]:
    units: list[FakeUnit] = []

    def factory(ctx: UnitContext) -> FakeUnit:
        units.append(FakeUnit(ctx, work))
        return units[0]

    status = run_unit("ccy-fake", factory, ["--root", str(tmp_path)])
    return status, units[0]


def test_a_background_task_that_raises_ends_the_unit_with_status_1(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    status, unit = run(tmp_path, "crash")
    assert status == EX_FAILURE and unit.stopped  # stopped: the hardware is left safe
    err = capfd.readouterr().err
    assert "[CRIT] background task sender died: ValueError: sender bug" in err
    assert "Traceback" in err and "ccy-fake stopping after a failure" in err


def test_a_task_that_must_run_forever_and_returns_is_a_failure(tmp_path: Path) -> None:
    status, _ = run(tmp_path, "return")
    assert status == EX_FAILURE


def test_sigterm_with_healthy_tasks_exits_0(tmp_path: Path) -> None:
    status, unit = run(tmp_path, "sigterm")
    assert status == EX_OK and unit.stopped


def test_cancelled_and_finished_tasks_are_no_failure() -> None:
    import logging

    async def scenario() -> str | None:
        sup = Supervisor(logging.getLogger("t"))
        loop = asyncio.get_running_loop()
        done = sup.supervise(loop.create_task(asyncio.sleep(0)))
        stuck = sup.supervise(loop.create_task(asyncio.Event().wait()), forever=True)
        await done
        await sup.cancel_all()
        assert stuck.cancelled()
        return sup.failure

    assert asyncio.run(scenario()) is None
