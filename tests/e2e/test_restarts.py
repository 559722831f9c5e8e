# SPDX-License-Identifier: Apache-2.0
"""Units restart alone: kill -9 of each unit in turn while a vehicle charges through ccy-v2g
(the EV simulator over TLS 1.3, the whole stack under ``ccy-sim up``'s supervisor, which
restarts units as systemd's Restart=on-failure does).

For each unit, one kill (ccy.testing.charger_faults.kill_during_charge), three views of it:
- the charger goes safe where that unit's death must stop power (KILL_NEEDS: the power stage
  Off, Bsp1.PowerOnAllowed false; for ccy-bsp the stage Off and the MCU's own host timeout
  opening the contactor), and keeps charging where it need not (ccy-auth);
- the records stay intact: the transaction closed with a reason, the error history has the
  event;
- the unit comes back (the supervisor's restart) and the next whole vehicle session works.
The times to safe are measured, never asserted here (benchmarks/bench_restarts.py prints
them); every wait has a generous failure bound.

While the stack table does not run ccy-profinet yet, its process is started by the rig
beside the stack and restarted by the rig after the kill (the KillResult says which).
"""

from collections.abc import Iterator

import pytest
from charger_faults import Charger, charger

from ccy.testing.charger import PROFINET_UNIT
from ccy.testing.charger_faults import KILL_ORDER, KillResult


@pytest.fixture(scope="module")
def ch() -> Iterator[Charger]:
    with charger("ccy-restarts-") as c:
        yield c


def _describe(r: KillResult) -> str:
    return (
        f"{r.unit}: times {r.times}, not safe: {r.not_safe!r}, tx after back "
        f"{r.transaction_after_back}, errors {r.errors}, vehicle {r.vehicle_outcome!r}"
    )


@pytest.mark.parametrize("unit", KILL_ORDER)
def test_a_killed_unit_leaves_the_charger_safe(ch: Charger, unit: str) -> None:
    r = ch.kill(unit)
    if unit == "ccy-auth":
        # a running session does not need ccy-auth: power kept flowing through its restart
        assert r.kept_charging is True, _describe(r)
        return
    assert r.safe_at is not None, _describe(r)
    assert r.times.stage_off is not None
    if unit == "ccy-bsp":
        # nobody to withdraw power-on through: the MCU's host timeout (ComTimeout) opened it
        assert r.times.contactor_open is not None
    else:
        assert r.times.power_on_withdrawn is not None
    # the vehicle learned it: its charge loop failed (or its connection ended with ccy-v2g)
    assert r.vehicle_outcome.startswith("failed: DC_ChargeLoopReq"), _describe(r)


@pytest.mark.parametrize("unit", KILL_ORDER)
def test_records_stay_intact(ch: Charger, unit: str) -> None:
    r = ch.kill(unit)
    tx = r.transaction_after_back
    assert tx is not None and tx.session_id == r.session_id, _describe(r)
    kinds = {(e.unit, e.type) for e in r.errors}
    log = ch.rig.session_log(r.session_id)  # read after the unplug: every session has ended
    assert log.session is not None and log.session["end_us"] is not None, log.session
    if unit == "ccy-evse":  # closed by the restarted unit, as the records' session row was
        assert log.session["reason"] == "PowerLoss", log.session
        assert [e["event"] for e in log.events][-1] == "closed_on_start", log.events[-3:]
    if unit == "ccy-auth":
        assert tx.open, _describe(r)  # still charging: nothing to close
        end = r.transaction_at_end
        assert end is not None and end.stop_reason == "EVDisconnected" and end.energy_Wh
        assert not any(t == "PowerStageLost" or t == "BspLost" for _, t in kinds)
        return
    assert not tx.open and tx.stop_us is not None, _describe(r)
    if unit == "ccy-evse":
        # the restarted ccy-evse found its transaction open and closed it
        assert tx.stop_reason == "PowerLoss", _describe(r)
        assert r.cleanup_lines == 1
        return
    assert tx.stop_reason == "Fault", _describe(r)
    expected = {
        "ccy-bsp": ("ccy-evse", "BspLost"),
        PROFINET_UNIT: ("ccy-evse", "PowerStageLost"),
        "ccy-v2g": ("ccy-evse", "VehicleLost"),
    }[unit]
    assert expected in kinds, _describe(r)
    row = next(e for e in r.errors if (e.unit, e.type) == expected)
    if unit != "ccy-v2g":  # the peer is back: its vanishing is history, not active
        assert row.cleared_us is not None and row.cleared_us > row.raised_us


@pytest.mark.parametrize("unit", KILL_ORDER)
def test_the_unit_comes_back_and_the_next_session_works(ch: Charger, unit: str) -> None:
    r = ch.kill(unit)
    if r.supervised:
        assert r.restarts == 1, _describe(r)  # once, by the stack's supervisor
    assert r.next_session == "completed", _describe(r)
