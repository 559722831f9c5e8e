# SPDX-License-Identifier: Apache-2.0
"""The stack table is consistent with pyproject and the simulator profile; the restart rules
follow systemd.service(5) ``Restart=on-failure`` and the start limit (pure, fake clock)."""

import os
import signal
import tomllib
from pathlib import Path

import pytest
import yaml

from ccy.sim.restart import Outcome, RestartTracker, describe_status, is_failure
from ccy.sim.stack_table import (
    BSP_ONLY,
    NEVER,
    SESSION_CORE,
    SIMULATORS,
    STACK,
    RestartRule,
    TableError,
    UnitRow,
    check_table,
    simulators_for,
)

TOP = Path(__file__).resolve().parents[2]


def exited(code: int) -> int:
    return code << 8  # a wait status as waitpid returns it


def killed(sig: signal.Signals) -> int:
    return int(sig)


def test_committed_table_is_consistent() -> None:
    check_table(STACK)
    scripts = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]["scripts"]
    profile = yaml.safe_load((TOP / "config" / "profiles" / "sim.yaml").read_text())
    for unit in STACK:
        assert unit.command in scripts, f"{unit.name}: no console script {unit.command}"
        assert unit.config_section in profile, f"{unit.name}: sim.yaml lacks its section"
    assert [s.name for s in simulators_for(STACK)] == ["mcu-sim", "rfid-sim"]
    # The named subsets are the stack's own rows, in its order.
    assert (STACK[0],) == BSP_ONLY and BSP_ONLY[0].name == "ccy-bsp"
    assert [r.name for r in SESSION_CORE] == [
        r.name for r in STACK if r.name in ("ccy-bsp", "ccy-evse", "ccy-profinet")
    ]


def test_duplicate_names_and_unknown_simulators_are_refused() -> None:
    twice = (*STACK, STACK[0])
    with pytest.raises(TableError, match="names used twice"):
        check_table(twice)
    stray = UnitRow(name="ccy-x", command="ccy-x", config_section="x", needs=("plc-sim",))
    with pytest.raises(TableError, match="needs simulator 'plc-sim'"):
        check_table((stray,))
    clash = UnitRow(name=SIMULATORS[0].name, command="c", config_section="bsp")
    with pytest.raises(TableError, match=SIMULATORS[0].name):
        check_table((clash,))
    bad = UnitRow(name="ccy-y", command="c", config_section="bsp", restart=RestartRule(burst=0))
    with pytest.raises(TableError, match="restart rule"):
        check_table((bad,))


def test_wait_status_in_systemds_words() -> None:
    assert describe_status(exited(1)) == "code=exited, status=1"
    assert describe_status(killed(signal.SIGKILL)) == "code=killed, signal=KILL"
    assert not is_failure(exited(0))
    assert is_failure(exited(78)) and is_failure(killed(signal.SIGTERM))
    assert os.WEXITSTATUS(exited(78)) == 78


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (exited(0), Outcome.STAYS_DOWN),
        (exited(1), Outcome.RESTART),
        (exited(78), Outcome.RESTART),
        (killed(signal.SIGKILL), Outcome.RESTART),
        (killed(signal.SIGSEGV), Outcome.RESTART),
    ],
)
def test_on_failure_restarts_unclean_ends_only(status: int, outcome: Outcome) -> None:
    assert RestartTracker(RestartRule()).decide(status, now=0.0) is outcome


def test_restart_no_never_restarts() -> None:
    assert RestartTracker(NEVER).decide(killed(signal.SIGKILL), now=0.0) is Outcome.STAYS_DOWN


def test_start_limit_burst_within_interval_then_failed() -> None:
    rule = RestartRule(delay_s=0.5, burst=3, interval_s=10.0)
    tracker = RestartTracker(rule)
    now = 100.0
    for _ in range(3):
        assert tracker.decide(exited(1), now) is Outcome.RESTART
        tracker.restarted(now)
        now += 1.0
    assert tracker.decide(exited(1), now) is Outcome.FAILED
    assert tracker.restarts == 3


def test_restarts_spread_wider_than_the_interval_go_on() -> None:
    tracker = RestartTracker(RestartRule(burst=2, interval_s=10.0))
    for step in range(6):
        now = step * 6.0  # at most two starts in any 10 s window
        assert tracker.decide(exited(1), now) is Outcome.RESTART
        tracker.restarted(now)
    assert tracker.restarts == 6
