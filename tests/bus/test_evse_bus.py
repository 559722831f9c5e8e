# SPDX-License-Identifier: Apache-2.0
"""ccy-evse on a private bus against the real ccy-bsp (MCU simulator on a pty) and the
simulated power stage (python -m ccy.sim.power_stage), with a client that calls Evse1 as
ccy-v2g and ccy-auth will: a full session, errors out of sequence, the stage vanishing."""

import asyncio
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbus_fast.aio import MessageBus

from ccy.evse.records import RecordReader, database_path
from ccy.runtime.paths import Paths
from ccy.testing.charger import (
    BSP,
    SESSION_CORE_TABLE,
    ChargerRig,
    EvseClient,
    charger_rig,
)

NAN = math.nan


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-evse-bus-", SESSION_CORE_TABLE) as r:
        yield r


Client = EvseClient


async def to_charging(rig: ChargerRig, c: Client) -> str:
    try:
        await c.until("WaitingFor", [])
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{rig.log('ccy-evse')[-3000:]}") from None
    rig.mcu(cmd="plug")
    session = await c.until("SessionId", lambda v: v != "")
    assert await c.get("State") == "WaitingForAuthentication"
    sid, evse_id = await c.ok(
        "BindSession",
        "sss",
        "E2804BEFDABADD0C",
        "[redacted] hash: 1",
        "urn:iso:std:iso:15118:-20:DC",
    )
    assert (sid, evse_id) == (session, "MY*CUS*T654321*1")
    assert (await c.ok("AuthorizationStatus"))[0] == "Ongoing"
    await c.ok("Authorize", "sss", session, "[redacted] hash: 29F2679CA504908", "RFID")
    assert (await c.ok("AuthorizationStatus"))[0] == "Accepted"
    limits = (await c.ok("ChargeParameters", "dddddd", 1000.0, NAN, 3000.0, NAN, 3e6, NAN))[0]
    assert limits[0] == 1250.0 and limits[4] == 22080.0
    rig.mcu(cmd="set_ce", state="C")
    await c.until("CeState", "C", **BSP)
    assert (await c.poll("CableCheck"))[1:] == ["Valid", "None"]
    await c.poll("PreCharge", "dd", 800.0, 2.0)
    assert (await c.ok("PowerDelivery", "s", "Start")) == ["None"]
    return str(session)


async def charge_loops(c: Client, n: int) -> list[Any]:
    result: list[Any] = []
    for _ in range(n):
        result = (await c.ok("ChargeLoop", "ddddddd", 850.0, 100.0, NAN, NAN, NAN, 800.0, 50.0))[0]
        await asyncio.sleep(0.05)
    return result


def test_full_session(rig: ChargerRig) -> None:
    async def run() -> None:
        b = await MessageBus(bus_address=rig.stack.address()).connect()
        c = EvseClient(b)
        session = await to_charging(rig, c)
        result = await charge_loops(c, 30)
        assert await c.get("State") == "Charging"
        assert result[1] > 1.0 and result[-1] == "None"  # current flows, within the limit
        assert result[1] <= 22080.0 / 800.0 * 1.05
        assert await c.get("PowerOnAllowed", **BSP) is True
        timing = await c.get("Timing")
        assert {"ConnSetup/HLC_PWM_5%_ON", "CableCheck/Measure", "Total"} <= set(timing)
        assert (await c.ok("PowerDelivery", "s", "Stop")) == ["None"]
        await c.poll("WeldingDetection")
        assert await c.get("PowerOnAllowed", **BSP) is False
        await c.ok("SessionStop", "s", "Terminate")
        assert await c.get("State") == "Finished"
        rig.mcu(cmd="unplug")
        await c.until("State", "Idle")
        (listed,) = await c.ok("ListTransactions", "u", 1)
        bad = await c.call("ListTransactions", "u", 0)
        assert bad.error_name == "org.ccy.Error.InvalidArgument" and "1..10000" in bad.body[0]
        b.disconnect()
        reader = RecordReader.open_readonly(database_path(Paths.from_root(rig.stack.layout.dir)))
        tx = reader.last_transactions(1)[0]
        assert tx.session_id == session and tx.stop_reason == "EVDisconnected"
        assert tx.energy_Wh is not None and tx.energy_Wh > 0
        assert [list(row) for row in listed] == [tx.as_struct()]  # the database row
        reader.close()

    asyncio.run(run())
    log = rig.log("ccy-evse")
    for line in (
        "Cleaning up any other transaction on start up",
        "Ready to start charging",
        "EVSE IEC Session Started: EVConnected",
        "CableCheck: Using 800 V",
        "EVSE IEC DC power supply set: 800V/10A, requested was 800V/2A.",
        "EVSE IEC Charger state: PrepareCharging->Charging",
        "Timing statistics (Plugin to CurrentDemand)",
        "EVSE IEC Transaction Finished: EVDisconnected",
        "SYS  Session logging stopped.",
    ):
        assert line in log, line


def test_out_of_sequence_is_not_permitted_and_bad_values_invalid(rig: ChargerRig) -> None:
    async def run() -> None:
        b = await MessageBus(bus_address=rig.stack.address()).connect()
        c = EvseClient(b)
        await c.until("State", "Idle")
        reply = await c.call("CableCheck")
        assert reply.error_name == "org.ccy.Error.NotPermitted" and "Idle" in reply.body[0]
        reply = await c.call("SetExternalLimits", "ddd", -5.0, NAN, 10.0)
        assert reply.error_name == "org.ccy.Error.InvalidArgument" and "max_power" in reply.body[0]
        reply = await c.call("StopTransaction", "s", "Nope")
        assert reply.error_name == "org.ccy.Error.InvalidArgument"
        assert await c.get("State") == "Idle"
        b.disconnect()

    asyncio.run(run())


def test_power_stage_vanishing_mid_session_stops_safely(rig: ChargerRig) -> None:
    async def run() -> None:
        b = await MessageBus(bus_address=rig.stack.address()).connect()
        c = EvseClient(b)
        await to_charging(rig, c)
        await charge_loops(c, 5)
        rig.kill(rig.stage_process)
        await c.until("State", "Faulted")
        await c.until("PowerOnAllowed", False, **BSP)
        assert "org.ccy.Profinet" in await c.get("WaitingFor")
        errors = await c.get("ActiveErrors", iface="org.ccy.Errors1")
        assert any(e[0] == "PowerStageLost" for e in errors)
        result = await charge_loops(c, 1)
        assert result[-1] == "EmergencyShutdown"
        rig.mcu(cmd="unplug")
        await c.until("State", "Idle")
        rig.restore_stage()
        await c.until("WaitingFor", [])
        b.disconnect()

    asyncio.run(run())


def test_operators_list_transactions_and_errors_with_ccyctl(rig: ChargerRig) -> None:
    """The records reach operators over the bus only (the database folder is ccy-evse's)."""
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": rig.stack.address()}
    ctl = [str(Path(sys.executable).with_name("ccyctl")), "evse"]
    done = subprocess.run(
        [*ctl, "transactions"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "EVDisconnected" in done.stdout  # the session of test_full_session, above
    assert "29F2679CA504908" in done.stdout  # the token, redacted as it was given
    done = subprocess.run(
        [*ctl, "errors", "--since", "7d"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "PowerStageLost" in done.stdout  # test_power_stage_vanishing_mid_session, above
