# SPDX-License-Identifier: Apache-2.0
"""ccy-evse on a private bus against the real ccy-bsp (MCU simulator on a pty) and the
simulated power stage (python -m ccy.sim.power_stage), with a client that calls Evse1 as
ccy-v2g and ccy-auth will: a full session, errors out of sequence, the stage vanishing,
ccy-bsp killed mid-session, a power-stage fault, the session log (V2G messages from a small
peer owning org.ccy.V2g, every unit's errors) and, last, SIGTERM in the middle of a charge
loop (it leaves ccy-evse down: keep it the last test of the module)."""

import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.evse.records import RecordReader, TransactionRecord, database_path
from ccy.evse.session_log import FolderContents, find_folder, read_folder, sessions_dir
from ccy.profinet.contract import FAULTS_IFACE, FAULTS_OBJECT_PATH
from ccy.runtime import bus as rbus
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface
from ccy.runtime.paths import Paths
from ccy.sim.supervisor import LOG_NAME as SUPERVISOR_LOG
from ccy.testing.charger import (
    BSP,
    SESSION_CORE_TABLE,
    STAGE,
    ChargerRig,
    EvseClient,
    charger_rig,
)
from ccy.v2g import contract as v2g

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


# ---------------------------------------------------------------------------- helpers
def paths(rig: ChargerRig) -> Paths:
    return Paths.from_root(rig.stack.layout.dir)


def session_transaction(rig: ChargerRig, session: str) -> TransactionRecord:
    reader = RecordReader.open_readonly(database_path(paths(rig)))
    try:
        (tx,) = reader.transactions_of_session(session)
    finally:
        reader.close()
    return tx


def session_log(rig: ChargerRig, session: str) -> FolderContents:
    found = find_folder(sessions_dir(paths(rig)), session)
    assert found is not None, f"no session log of {session}"
    return read_folder(found.path)


async def until_true(check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        await asyncio.sleep(0.05)


async def finish_session(rig: ChargerRig, c: Client) -> None:
    """The vehicle stops (PowerDelivery Stop, welding detection, SessionStop), cable out."""
    assert (await c.ok("PowerDelivery", "s", "Stop")) == ["None"]
    await c.poll("WeldingDetection")
    await c.ok("SessionStop", "s", "Terminate")
    rig.mcu(cmd="unplug")
    await c.until("State", "Idle")


async def stage_fault(c: Client, member: str, fault: str) -> None:
    """org.ccy.sim.PowerStageFaults1 of ccy-profinet's simulated stage (Inject, Clear)."""
    reply = await c.bus.call(
        Message(
            destination=STAGE["dest"],
            path=FAULTS_OBJECT_PATH,
            interface=FAULTS_IFACE,
            member=member,
            signature="s",
            body=[fault],
        )
    )
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply


def error_types(errors: list[Any]) -> set[str]:
    return {str(e[0]) for e in errors}


def rows_of(events: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    return [(str(e["unit"]), str(e["type"])) for e in events if e.get("event") == kind]


class V2gPeer:
    """A stand-in for ccy-v2g on the bus: owns org.ccy.V2g, serves org.ccy.Errors1 from a real
    ErrorRegistry and emits V2g1.V2gMessage as ccy-v2g does (ccy-v2g itself is not in the
    SESSION_CORE stack; tests/e2e/test_evse_session_log.py runs the real one)."""

    def __init__(self, b: MessageBus) -> None:
        self.bus = b
        self.errors = ErrorRegistry(logging.getLogger("test.v2g-peer"))
        b.export(v2g.OBJECT_PATH, ErrorsInterface(self.errors))

    @classmethod
    async def start(cls, address: str) -> "V2gPeer":
        peer = cls(await MessageBus(bus_address=address).connect())
        await rbus.own_name(peer.bus, v2g.BUS_NAME)
        return peer

    async def message(self, direction: str, name: str, doc: dict[str, Any], exi: str) -> None:
        await emit_v2g(self.bus, direction, name, json.dumps(doc), exi)


async def emit_v2g(b: MessageBus, direction: str, name: str, text: str, exi: str) -> None:
    await b.send(
        Message.new_signal(
            v2g.OBJECT_PATH, v2g.IFACE, "V2gMessage", "ssss", [direction, name, text, exi]
        )
    )


REQ = {
    "Header": {"SessionID": "E2804BEFDABADD0C"},
    "EVPresentVoltage": 800.0,
    "EVCCID": "[redacted] hash: 0A1B2C3D4E5F607",
}
RES = {
    "Header": {"SessionID": "E2804BEFDABADD0C"},
    "ResponseCode": "OK",
    "EVSEPresentVoltage": 799.5,
}


def test_v2g_messages_and_every_units_errors_land_in_the_session_log(rig: ChargerRig) -> None:
    async def run() -> str:
        c = await EvseClient.connect(rig.stack.address())
        peer = await V2gPeer.start(rig.stack.address())
        intruder = await MessageBus(bus_address=rig.stack.address()).connect()
        await peer.message("Request", "SessionSetupReq", REQ, "")  # no session yet: dropped
        session = await to_charging(rig, c)
        await peer.message("Request", "DC_ChargeLoopReq", REQ, "")
        await peer.message("Response", "DC_ChargeLoopRes", RES, "809A0211")
        # The same signal from a connection that does not own org.ccy.V2g: not ccy-v2g's.
        await emit_v2g(intruder, "Request", "ForgedReq", json.dumps(REQ), "00")
        await peer.message("Request", "PowerDeliveryReq", {"ChargeProgress": "Stop"}, "")
        peer.errors.raise_error(v2g.EVSE_MISSING, "test")
        await until_true(
            lambda: len(session_log(rig, session).v2g) == 3, "three V2G lines in v2g.jsonl"
        )
        await until_true(
            lambda: (
                ("ccy-v2g", "EvseMissing")
                in rows_of(session_log(rig, session).events, "error_raised")
            ),
            "ccy-v2g's error in events.jsonl",
        )
        peer.errors.clear_error(v2g.EVSE_MISSING, "test")
        await stage_fault(c, "Inject", "supply")  # ccy-profinet's and ccy-evse's own errors
        await c.until("State", "Faulted")
        await stage_fault(c, "Clear", "supply")
        await until_true(
            lambda: (
                ("ccy-profinet", "SupplyFault")
                in rows_of(session_log(rig, session).events, "error_cleared")
            ),
            "ccy-profinet's SupplyFault cleared in events.jsonl",
        )
        rig.mcu(cmd="unplug")
        await c.until("State", "Idle")
        await peer.message("Request", "SessionStopReq", REQ, "")  # after the session: dropped
        for b in (peer.bus, intruder, c.bus):
            b.disconnect()
        return session

    session = asyncio.run(run())
    log = session_log(rig, session)
    assert [(m["dir"], m["name"], m["body"], m["exi"]) for m in log.v2g] == [
        ("rx", "DC_ChargeLoopReq", REQ, None),
        ("tx", "DC_ChargeLoopRes", RES, "809A0211"),
        ("rx", "PowerDeliveryReq", {"ChargeProgress": "Stop"}, None),
    ]
    raised = rows_of(log.events, "error_raised")
    cleared = rows_of(log.events, "error_cleared")
    for row in (
        ("ccy-v2g", "EvseMissing"),
        ("ccy-profinet", "SupplyFault"),
        ("ccy-evse", "PowerStageFault"),
    ):
        assert raised.count(row) == 1, (row, raised)  # Raised + ActiveErrors: one line
        assert row in cleared, (row, cleared)
    every = "\n".join(json.dumps(e) for e in log.events)
    assert '"severity": "Medium"' in every and "org.ccy.Evse (ccy-evse) is not on the bus" in every
    # Operators read it with ccyctl (the folder, not the database).
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ccyctl")), "evse", "session", "show", session],
        env={**rig.env(), "CCY_ROOT": str(rig.stack.layout.dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "V2G messages: 3" in done.stdout
    assert "EV → DC_ChargeLoopReq" in done.stdout and "EV ← DC_ChargeLoopRes" in done.stdout
    assert "EXI 809A0211" in done.stdout and "ForgedReq" not in done.stdout
    assert "EvseMissing" in done.stdout and "SupplyFault" in done.stdout


def test_a_power_stage_fault_withdraws_power_and_finishes_the_transaction_with_fault(
    rig: ChargerRig,
) -> None:
    async def run() -> str:
        c = await EvseClient.connect(rig.stack.address())
        session = await to_charging(rig, c)
        await charge_loops(c, 5)
        assert await c.get("PowerOnAllowed", **BSP) is True
        await stage_fault(c, "Inject", "supply")
        await c.until("State", "Faulted")
        await c.until("PowerOnAllowed", False, **BSP)
        await c.until("Mode", "Off", **STAGE)
        errors = await c.get("ActiveErrors", iface="org.ccy.Errors1")
        assert "PowerStageFault" in error_types(errors), errors
        assert await c.get("TransactionId") == ""
        await c.until("PresentCurrent", 0.0, **STAGE)
        result = await charge_loops(c, 1)  # the vehicle learns it (the seed's EV loops on)
        assert result[-1] in ("Terminate", "EmergencyShutdown"), result
        await stage_fault(c, "Clear", "supply")
        rig.mcu(cmd="unplug")
        await c.until("State", "Idle")
        c.disconnect()
        return session

    session = asyncio.run(run())
    tx = session_transaction(rig, session)
    assert tx.stop_reason == "Fault" and tx.stop_us is not None
    assert "Error raised EVSEManager: connector" in rig.log("ccy-evse")


def test_bsp_vanishing_mid_session_stops_safely_and_the_next_session_charges(
    rig: ChargerRig,
) -> None:
    async def run() -> tuple[str, float]:
        c = await EvseClient.connect(rig.stack.address())
        session = await to_charging(rig, c)
        await charge_loops(c, 5)
        before = time.time()
        rig.kill("ccy-bsp")  # the stack restarts it, as systemd's Restart=on-failure
        await c.until("State", "Faulted")
        await c.until("Mode", "Off", **STAGE)
        await c.until("PresentCurrent", 0.0, **STAGE)
        result = await charge_loops(c, 1)
        assert result[-1] == "EmergencyShutdown", result
        await c.until("WaitingFor", [])  # ccy-bsp is back
        assert await c.get("PowerOnAllowed", **BSP) is False
        rig.mcu(cmd="unplug")
        await c.until("State", "Idle")
        second = await to_charging(rig, c)  # the next session charges
        result = await charge_loops(c, 5)
        assert second != session and result[1] > 1.0 and result[-1] == "None", result
        await finish_session(rig, c)
        c.disconnect()
        return session, before

    session, killed_at = asyncio.run(run())
    tx = session_transaction(rig, session)
    assert tx.stop_reason == "Fault" and tx.stop_us is not None
    reader = RecordReader.open_readonly(database_path(paths(rig)))
    try:
        lost = [e for e in reader.errors_since(round(killed_at * 1e6)) if e.type == "BspLost"]
    finally:
        reader.close()
    assert lost and lost[0].unit == "ccy-evse" and lost[0].cleared_us is not None, lost
    raised = rows_of(session_log(rig, session).events, "error_raised")
    assert ("ccy-evse", "BspLost") in raised, raised


def test_v2g_vanishing_mid_charge_loop_withdraws_power(rig: ChargerRig) -> None:
    """ccy-v2g killed while power flows (its connection, owning org.ccy.V2g, drops): nobody
    speaks for the vehicle, so ccy-evse stops as for a lost vehicle (VehicleLost)."""

    async def run() -> str:
        c = await EvseClient.connect(rig.stack.address())
        peer = await V2gPeer.start(rig.stack.address())
        session = await to_charging(rig, c)
        await charge_loops(c, 5)
        assert await c.get("PowerOnAllowed", **BSP) is True
        peer.bus.disconnect()  # as SIGKILL does: the bus drops the name at once
        await c.until("State", "Faulted")
        await c.until("Mode", "Off", **STAGE)
        await c.until("PowerOnAllowed", False, **BSP)
        errors = await c.get("ActiveErrors", iface="org.ccy.Errors1")
        assert "VehicleLost" in error_types(errors), errors
        rig.mcu(cmd="unplug")
        await c.until("State", "Idle")
        errors = await c.get("ActiveErrors", iface="org.ccy.Errors1")
        assert "VehicleLost" not in error_types(errors), errors
        c.disconnect()
        return session

    session = asyncio.run(run())
    tx = session_transaction(rig, session)
    assert tx.stop_reason == "Fault" and tx.stop_us is not None, tx
    stops = [e for e in session_log(rig, session).events if e.get("event") == "stop"]
    assert stops and "ccy-v2g vanished" in str(stops[0]["why"]), stops


def test_sigterm_mid_charge_loop_stops_in_order_without_a_traceback(rig: ChargerRig) -> None:
    """Last test of the module: ccy-evse exits 0 and stays down (Restart=on-failure)."""

    async def run() -> tuple[int, list[str], str]:
        c = await EvseClient.connect(rig.stack.address())
        peer = await V2gPeer.start(rig.stack.address())
        session = await to_charging(rig, c)
        await charge_loops(c, 5)
        pid = rig.stack.pids()["ccy-evse"]
        answers: list[str] = []
        stop = asyncio.Event()

        async def vehicle() -> None:  # ccy-v2g's calls and messages, as fast as they come
            while not stop.is_set():
                reply = await c.call(
                    "ChargeLoop", "ddddddd", 850.0, 100.0, NAN, NAN, NAN, 800.0, 50.0
                )
                answers.append(reply.error_name or "ok")
                await peer.message("Request", "DC_ChargeLoopReq", REQ, "")
                if len(answers) % 2:  # Errors1 Raised/Cleared and ActiveErrors too
                    peer.errors.raise_error(v2g.EVSE_MISSING, "loop")
                else:
                    peer.errors.clear_error(v2g.EVSE_MISSING, "loop")
                await asyncio.sleep(0.005)

        async def operator() -> None:  # records read over the bus meanwhile
            while not stop.is_set():
                reply = await c.call("ListErrors", "du", 0.0, 100)
                answers.append(reply.error_name or "ok")
                await asyncio.sleep(0.005)

        tasks = [asyncio.create_task(vehicle()), asyncio.create_task(operator())]
        await until_true(lambda: len(answers) > 20, "calls answered before the kill")
        os.kill(pid, signal.SIGTERM)
        try:
            await until_true(
                lambda: rig.stack.processes()["ccy-evse"].get("state") == "exited",
                "ccy-evse exited",
            )
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}: {rig.stack.processes()['ccy-evse']}\n{rig.log('ccy-evse')[-3000:]}"
            ) from None
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10.0)
        await c.until("PowerOnAllowed", False, **BSP)
        await c.until("Mode", "Off", **STAGE)
        for b in (peer.bus, c.bus):
            b.disconnect()
        return pid, answers, session

    pid, answers, session = asyncio.run(run())
    assert "ok" in answers  # (NotReady while stopping, then no owner: not always hit)
    supervisor = (rig.stack.layout.log_dir / f"{SUPERVISOR_LOG}.log").read_text(errors="replace")
    assert "ccy-evse: main process exited, code=exited, status=0" in supervisor, supervisor[-2000:]
    log = rig.log("ccy-evse")
    mine = log[log.index(f"ccy-evse[{pid}]") :]
    assert "ccy-evse stopping" in mine
    assert "Traceback" not in log and "Bad file descriptor" not in log, mine[-4000:]
    assert "closed database" not in log, mine[-4000:]
    kept = session_log(rig, session)  # what came before the stop is in the session's log
    assert kept.v2g and kept.events[-1]["event"] == "unit_stopping", kept.events[-3:]
