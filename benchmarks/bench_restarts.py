# SPDX-License-Identifier: Apache-2.0
"""The restart table: kill -9 of each unit during a charge loop, N times each; unit ×
time-to-safe (p50 and max over the kills) × the records checked.

- The charger: ``ccy-sim up``'s stack (private bus, MCU simulator, ccy-bsp, ccy-evse, ccy-auth,
  ccy-v2g, ccy-profinet's simulated power stage; the supervisor restarts a killed unit as
  systemd's Restart=on-failure does) in a temporary folder, through
  ccy.testing.charger_faults.FaultRig, with a vehicle charging through ccy-v2g over TLS 1.3
  (the EV simulator) when the unit is killed: the same scenario as tests/e2e/test_restarts.py
  (ccy.testing.charger_faults.kill_during_charge).
- Time to safe: from just before the SIGKILL until every part that unit's death must bring
  about was first seen (KILL_NEEDS): PowerStage1.Mode Off (or its process gone), Bsp1.
  PowerOnAllowed false, and for ccy-bsp (nobody left to withdraw power-on) the MCU
  simulator's contactor open by its own host timeout. Polled every 2 ms plus one round of
  bus Gets and one MCU status query (a few ms each on this 2-core machine): the figures are
  upper bounds with a resolution of about 5 ms. ccy-auth's death must not stop power: its
  column says whether power kept flowing.
- Records checked, per kill: the transaction after the unit came back (closed, and with
  which reason), the error history row (Evse1.ListErrors), the restart counted by the
  supervisor, and a whole next vehicle session ("next ok").

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_restarts.py [KILLS_PER_UNIT]``
(default 3; each kill and the session after it take 5-10 s). The issue's goal: safe within
200 ms where the death must stop power.
"""

import asyncio
import shutil
import statistics
import sys
import time
from collections import Counter

from ccy.testing.charger import EvseClient
from ccy.testing.charger_faults import (
    KILL_NEEDS,
    KILL_ORDER,
    FaultRig,
    KillResult,
    kill_during_charge,
)
from ccy.testing.folders import traversable_tmp

GOAL_MS = 200.0


def _ms(values: list[float], n: int = 0) -> str:
    """p50 and max in ms; ``*`` when seen in fewer than ``n`` kills (a part nobody waited
    for is noted only while the poll for the others lasted)."""
    if not values:
        return f"{'-':>8} {'-':>8}"
    mark = "*" if len(values) < n else " "
    return f"{statistics.median(values) * 1e3:8.1f} {max(values) * 1e3:7.1f}{mark}"


def _records(r: KillResult) -> str:
    """What the records said after this kill, in a few words."""
    tx = r.transaction_after_back
    parts = []
    if tx is None:
        parts.append("tx missing")
    elif tx.open:
        end = r.transaction_at_end
        parts.append(f"tx open→{end.stop_reason if end else '?'}")
    else:
        parts.append(f"tx {tx.stop_reason}")
    types = sorted({e.type for e in r.errors})
    parts.append("+".join(types) if types else "no row")
    if r.cleanup_lines:
        parts.append("cleanup")
    return ", ".join(parts)


async def _run(rig: FaultRig, kills: int) -> dict[str, list[KillResult]]:
    c = await EvseClient.connect(rig.stack.address())
    results: dict[str, list[KillResult]] = {unit: [] for unit in KILL_ORDER}
    try:
        for unit in KILL_ORDER:
            for _ in range(kills):
                results[unit].append(await kill_during_charge(rig, c, unit))
    finally:
        c.disconnect()
    return results


def _table(results: dict[str, list[KillResult]]) -> None:
    print(
        f"\n{'unit':13} {'n':>2} {'safe p50':>8} {'max ms':>8} {'stage Off':>17} "
        f"{'PowerOnAllowed':>17} {'contactor':>17}  {'back s':>6}  records (each kill)"
    )
    print(
        f"{'':13} {'':>2} {'':>8} {'':>8} {'p50/max ms':>17} {'p50/max ms':>17} {'p50/max ms':>17}"
    )
    for unit, runs in results.items():
        need = KILL_NEEDS[unit]
        safe = [r.safe_at for r in runs if r.safe_at is not None]
        stage = [r.times.stage_off for r in runs if r.times.stage_off is not None]
        allowed = [
            r.times.power_on_withdrawn for r in runs if r.times.power_on_withdrawn is not None
        ]
        contactor = [r.times.contactor_open for r in runs if r.times.contactor_open is not None]
        back = statistics.median([r.back_s for r in runs])
        if need is None:
            kept = sum(1 for r in runs if r.kept_charging)
            safe_text = f"{'kept power':>17}" if kept == len(runs) else f"{'STOPPED':>17}"
        elif len(safe) < len(runs):
            safe_text = f"{'NOT SAFE':>8} {len(runs) - len(safe):>3}/{len(runs):<4}"
        else:
            safe_text = _ms(safe)
        records = Counter(_records(r) for r in runs)
        nxt = sum(1 for r in runs if r.next_session == "completed")
        restarts = sum(1 for r in runs if r.restarts == 1) if runs[0].supervised else 0
        who = f"supervisor {restarts}/{len(runs)}" if runs[0].supervised else "rig restart"
        summary = "; ".join(f"{k} ×{v}" for k, v in records.items())
        print(
            f"{unit:13} {len(runs):>2} {safe_text} {_ms(stage, len(runs))} "
            f"{_ms(allowed, len(runs))} {_ms(contactor, len(runs))}"
            f"  {back:6.2f}  {summary}; {who}; next ok {nxt}/{len(runs)}"
        )
    print(
        f"\nsafe = every part the unit's death must bring about (goal ≤ {GOAL_MS:.0f} ms): "
        "stage Off + PowerOnAllowed false; ccy-bsp: stage Off + the MCU's own contactor open "
        "(its host timeout, modelled at 1.0 s); ccy-auth: power must keep flowing. "
        "* = seen in fewer kills than n (noted only while waiting for the parts needed)."
    )
    late = [
        f"{unit} ({max(r.safe_at for r in runs if r.safe_at is not None) * 1e3:.0f} ms)"
        for unit, runs in results.items()
        if any(r.safe_at is not None and r.safe_at * 1e3 > GOAL_MS for r in runs)
    ]
    if late:
        print(f"above the goal: {', '.join(late)}")
    unsafe = [unit for unit, runs in results.items() if any(r.not_safe for r in runs)]
    if unsafe:
        names = ", ".join(unsafe)
        print(f"NOT SAFE within 5 s of the kill: {names} (a known bug, see test_restarts.py)")


def main() -> int:
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    if kills < 1:
        print("bench_restarts: KILLS_PER_UNIT must be at least 1", file=sys.stderr)
        return 2
    directory = traversable_tmp("ccy-bench-restarts-")
    rig = FaultRig(directory)
    started = time.monotonic()
    try:
        rig.up()
        results = asyncio.run(_run(rig, kills))
    finally:
        rig.down()
        shutil.rmtree(directory, ignore_errors=True)
    _table(results)
    print(f"\n{kills} kill(s) per unit in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
