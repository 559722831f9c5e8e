# SPDX-License-Identifier: Apache-2.0
"""kill -9 of ccy-evse during a charge loop: power is withdrawn without it (ccy-bsp drops
PowerOnAllowed when the owner of org.ccy.Evse vanishes, the power stage goes Off), the stack
restarts it as systemd's Restart=on-failure would, and the restarted unit finds the
transaction open in its database and closes it with PowerLoss."""

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from ccy.evse.records import RecordReader, database_path
from ccy.runtime.paths import Paths
from ccy.testing.charger import (
    BSP,
    NAN,
    SESSION_CORE_TABLE,
    STAGE,
    ChargerRig,
    EvseClient,
    charge_loops,
    charger_rig,
    to_charging,
)

CLEANUP_LINE = "Cleaning up any other transaction on start up"


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-evse-kill9-", SESSION_CORE_TABLE) as r:
        yield r


def test_kill9_during_charge_loop_withdraws_power_and_restart_closes_the_transaction(
    rig: ChargerRig,
) -> None:
    restarts_before = rig.stack.restarts("ccy-evse")
    cleanups_before = rig.log("ccy-evse").count(CLEANUP_LINE)

    async def charge_and_kill() -> tuple[str, int]:
        c = await EvseClient.connect(rig.stack.address())
        await to_charging(rig, c)
        await charge_loops(c, 20)
        tx = str(await c.get("TransactionId"))
        pid = rig.stack.pids()["ccy-evse"]
        loops = 0
        for i in range(40):  # ChargeLoop calls as ccy-v2g makes them; SIGKILL mid-loop
            if i == 5:
                os.kill(pid, signal.SIGKILL)
                break
            await c.ok("ChargeLoop", "ddddddd", 850.0, 100.0, NAN, NAN, NAN, 800.0, 50.0)
            loops += 1
            await asyncio.sleep(0.02)
        await c.until("PowerOnAllowed", False, **BSP)
        await c.until("Mode", "Off", **STAGE)
        # The stack brings ccy-evse back; it answers again once it has cleaned up.
        await c.until("State", lambda s: s in ("WaitingForAuthentication", "Faulted"))
        c.disconnect()
        return tx, loops

    tx_id, loops = asyncio.run(charge_and_kill())
    assert loops == 5
    assert rig.stack.restarts("ccy-evse") == restarts_before + 1
    assert rig.log("ccy-evse").count(CLEANUP_LINE) == cleanups_before + 1
    reader = RecordReader.open_readonly(database_path(Paths.from_root(rig.stack.layout.dir)))
    tx = reader.transaction(tx_id)
    reader.close()
    assert tx is not None and tx.stop_reason == "PowerLoss" and tx.stop_us is not None
    rig.mcu(cmd="unplug")
