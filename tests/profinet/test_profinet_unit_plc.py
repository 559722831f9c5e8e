# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet in profinet.mode plc against the PLC simulator, through real frames (root).

The unit (``python -m ccy.profinet.main``) runs in the charger's network namespace on a veth
end and on a private dbus-daemon; the PLC simulator (ccy.sim.plc) in the PLC's namespace.
A test client stands in for ccy-evse at PowerStage1 (as tests/bus/test_power_stage_bus.py
does). One run, in order:

1. the PLC identifies the device by name, connects, PrmEnd, ApplicationReady: Profinet1 shows
   DataExchange and PlcConnected, PowerStage1 SupplyReady and the PLC's limits;
2. CableCheck at 400 V: the setpoint goes out in the input data, the PLC's stage ramps and its
   present voltage and isolation come back on PowerStage1;
3. the PLC vanishes during cable check: DHT expires, the stage is Off at once,
   PlcReconnecting (no current flowed);
4. a PLC connects again within the grace time: PlcReconnecting clears, the isolation
   measurement is forgotten (PreCharge refused until a new CableCheck);
5. the journal carries the seed's lines.
"""

import asyncio
import contextlib
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from tests.profinet.conftest import in_netns
from tests.profinet.rt_procs import Proc

from ccy.profinet import diagnosis
from ccy.profinet.contract import (
    AR_ABORTED,
    BSP_IDENTIFY_FAILED,
    BUS_NAME,
    ERRORS_IFACE,
    IFACE,
    OBJECT_PATH,
    PLC_RECONNECTING,
    PROFINET_IFACE,
    PROFINET_OBJECT_PATH,
)
from ccy.profinet.dcp.codec import (
    FRAME_ID_GET_SET,
    SIGNAL_FLASH_ONCE,
    ControlSub,
    Option,
    ServiceId,
    ServiceType,
    encode_block,
    encode_pdu,
)
from ccy.profinet.ethernet import ETH_P_PROFINET, RawSocket, build_frame, mac_from_str
from ccy.sim.mcu.control import mcu_control_path, send_command
from ccy.sim.stack import Stack
from ccy.testing import netns
from ccy.testing.folders import traversable_tmp

pytestmark = pytest.mark.root
INDEX = 160
TOP = Path(__file__).resolve().parents[2]
STATION = "ccy-charger"
WAIT_S = 20.0
STATISTICS_KEYS = {
    "frames_sent", "frames_received", "frames_dropped", "late_cycles", "dht_expired",
    "alarms_sent", "alarms_acked", "connects", "aborts", "releases", "dcp_frames",
}  # fmt: skip
"""The keys dbus/org.ccy.Profinet1.xml documents for CycleStatistics."""
CONFIG = f"""\
profinet:
  mode: plc
  interface: ccy-pn{INDEX}
  station_name: {STATION}
  reconnect_grace_ms: 20000
"""


@dataclass
class Setup:
    net: netns.NetLayout
    stack: Stack
    log: Path
    tmp: Path

    @property
    def address(self) -> str:
        return self.stack.address()


def _drain(sock: socket.socket) -> None:
    sock.settimeout(None)
    with contextlib.suppress(OSError):
        while sock.recv(4096):
            pass


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    if not netns.available():
        pytest.skip("needs root and ip(8) for network namespaces")
    tmp = traversable_tmp("ccy-profinet-plc-")
    (tmp / "etc/ccy").mkdir(parents=True)
    (tmp / "etc/ccy/config.yaml").write_text(CONFIG)
    stack = Stack(tmp / "stack", table="ccy.sim.stack_table:BSP_ONLY")
    stack.up()  # the private bus, the MCU simulator and the real ccy-bsp
    log = tmp / "ccy-profinet.log"
    with (
        netns.charger_network(INDEX) as net,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind(str(tmp / "notify"))
        argv = netns.exec_in(
            net.charger_ns,
            ["env", f"DBUS_SYSTEM_BUS_ADDRESS={stack.address()}", f"NOTIFY_SOCKET={tmp / 'notify'}",
             sys.executable, "-m", "ccy.profinet.main", "--root", str(tmp)],
        )  # fmt: skip
        with log.open("wb") as out:
            import subprocess

            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            sock.settimeout(0.2)
            while b"READY=1" not in _recv(sock):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
            threading.Thread(target=_drain, args=(sock,), daemon=True).start()
            yield Setup(net, stack, log, tmp)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            stack.down()
            shutil.rmtree(tmp, ignore_errors=True)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(4096)
    except TimeoutError:
        return b""


def plc(setup: Setup, name: str, *args: str) -> Proc:
    argv = netns.exec_in(
        setup.net.plc_ns,
        [sys.executable, "-m", "ccy.sim.plc", "--iface", setup.net.plc.interface,
         "--station", STATION, "--cycle-ms", "8", *args],
    )  # fmt: skip
    return Proc(argv, setup.tmp / f"{name}.log").start()


async def get(b: MessageBus, name: str, iface: str = IFACE, path: str = OBJECT_PATH) -> Any:
    reply = await b.call(
        Message(
            destination=BUS_NAME,
            path=path,
            interface="org.freedesktop.DBus.Properties",
            member="Get",
            signature="ss",
            body=[iface, name],
        )
    )
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
    return reply.body[0].value


async def call(b: MessageBus, member: str, sig: str = "", *body: Any) -> Message:
    reply = await b.call(
        Message(
            destination=BUS_NAME,
            path=OBJECT_PATH,
            interface=IFACE,
            member=member,
            signature=sig,
            body=list(body),
        )
    )
    assert reply is not None
    return reply


async def eventually(probe: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value:
            return
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.05)


async def keep_lease(b: MessageBus, voltage: float, current: float) -> None:
    while True:
        await call(b, "SetTarget", "dd", voltage, current)
        await asyncio.sleep(0.2)


def test_plc_drives_the_power_stage_and_reconnects(setup: Setup) -> None:
    profinet = {"iface": PROFINET_IFACE, "path": PROFINET_OBJECT_PATH}
    first = plc(setup, "plc1", "--set-ip", "192.0.2.2/24", "--vanish-after", "6", "--run-s", "0.5")
    second: Proc | None = None

    async def scenario() -> None:
        nonlocal second
        b = await MessageBus(bus_address=setup.address).connect()
        try:
            await asyncio.to_thread(first.expect, "plc: data exchange")

            async def exchanging() -> bool:
                return bool(await get(b, "PlcConnected", **profinet))

            await eventually(exchanging, "PlcConnected")
            assert await get(b, "ArState", **profinet) == "DataExchange"
            assert await get(b, "StationName", **profinet) == STATION
            assert await get(b, "CycleTime", **profinet) == 0.008
            stats = await get(b, "CycleStatistics", **profinet)
            assert set(stats) == STATISTICS_KEYS
            assert stats["connects"] == 1 and stats["frames_received"] > 0
            assert await get(b, "SupplyReady") is True
            assert await get(b, "MaxVoltage") == 1250.0  # the PLC simulator's limits
            # 2. CableCheck: setpoints out, readings back
            reply = await call(b, "SetMode", "s", "CableCheck")
            assert reply.message_type is MessageType.METHOD_RETURN, reply.body
            keep = asyncio.create_task(keep_lease(b, 400.0, 5.0))
            try:

                async def ramped() -> bool:
                    return bool(await get(b, "PresentVoltage") > 100.0)

                await eventually(ramped, "the PLC's voltage follows the setpoint")

                async def measured() -> bool:
                    return bool(await get(b, "IsolationStatus") == "Valid")

                await eventually(measured, "the PLC's isolation measurement")
                # 3. the PLC vanishes during cable check
                await asyncio.to_thread(first.expect, "plc: vanished")

                async def off() -> bool:
                    return bool(await get(b, "Mode") == "Off")

                await eventually(off, "Off after the PLC vanished", timeout_s=5.0)
                active = [e[0] for e in await get(b, "ActiveErrors", ERRORS_IFACE)]
                assert PLC_RECONNECTING.name in active, active
                assert await get(b, "SupplyReady") is False
                assert "DHT" in await get(b, "LastAbortReason", **profinet)
                unit_errors = await get(b, "ActiveErrors", ERRORS_IFACE, PROFINET_OBJECT_PATH)
                assert [e[0] for e in unit_errors] == [AR_ABORTED.name]
                # 4. a PLC again, within the grace time
                await asyncio.to_thread(first.wait, 30)
                second = plc(setup, "plc2", "--run-s", "60")
                await asyncio.to_thread(second.expect, "plc: data exchange")

                async def resumed() -> bool:
                    errors = [e[0] for e in await get(b, "ActiveErrors", ERRORS_IFACE)]
                    return bool(await get(b, "SupplyReady")) and not errors

                await eventually(resumed, "PlcReconnecting cleared")
                assert await get(b, "IsolationStatus") == "Invalid"
                assert await get(b, "ActiveErrors", ERRORS_IFACE, PROFINET_OBJECT_PATH) == []
                refused = await call(b, "SetMode", "s", "PreCharge")
                assert refused.error_name == "org.ccy.Error.NotPermitted", refused.body
            finally:
                keep.cancel()
        finally:
            b.disconnect()

    try:
        asyncio.run(scenario())
    finally:
        first.stop()
        if second is not None:
            second.stop()
    journal = setup.log.read_text()
    for line in (
        "Waiting for PLC connect request",
        "PLC connect indication. AREP: 1",
        "PLC dcontrol message (The PLC is done with parameter writing). AREP: 1 Command: PRM_END",
        "Application will signal that it is ready for data, for AREP 1",
    ):
        assert line in journal, line


def test_a_cycle_faster_than_the_configured_minimum_is_aborted(setup: Setup) -> None:
    fast = plc(setup, "plc-fast", "--cycle-ms", "4", "--run-s", "3")
    profinet = {"iface": PROFINET_IFACE, "path": PROFINET_OBJECT_PATH}

    async def scenario() -> None:
        b = await MessageBus(bus_address=setup.address).connect()
        try:

            async def aborted() -> bool:
                return "faster than profinet.min_cycle_time_ms" in await get(
                    b, "LastAbortReason", **profinet
                )

            await eventually(aborted, "the 4 ms AR aborted")
            assert await get(b, "PlcConnected", **profinet) is False
            assert await get(b, "SupplyReady") is False
        finally:
            b.disconnect()

    try:
        asyncio.run(scenario())
    finally:
        fast.stop()
    assert "PLC connect refused: cycle 4 ms" in setup.log.read_text()


def test_a_dcp_signal_blinks_through_bsp1_identify(setup: Setup) -> None:
    """The PLC's DCP Signal → ccy-profinet → Bsp1.Identify(3 s) → the real ccy-bsp blinks its
    status LED (its journal says so); no IdentifyFailed on Profinet1."""
    profinet = {"iface": PROFINET_IFACE, "path": PROFINET_OBJECT_PATH}
    bsp_log = setup.stack.layout.log_dir / "ccy-bsp.log"

    async def mac() -> str:
        b = await MessageBus(bus_address=setup.address).connect()
        try:
            return str(await get(b, "MacAddress", **profinet))
        finally:
            b.disconnect()

    device = mac_from_str(asyncio.run(mac()))

    def send() -> None:
        with RawSocket(setup.net.plc.interface, ETH_P_PROFINET) as sock:
            value = SIGNAL_FLASH_ONCE.to_bytes(2, "big")
            block = encode_block(Option.CONTROL, ControlSub.SIGNAL, value, 0)
            pdu = encode_pdu(FRAME_ID_GET_SET, ServiceId.SET, ServiceType.REQUEST, 0x5151, block)
            sock.send(build_frame(device, sock.mac, ETH_P_PROFINET, pdu))

    in_netns(setup.net.plc_ns, send)

    async def scenario() -> None:
        b = await MessageBus(bus_address=setup.address).connect()
        try:

            async def blinked() -> bool:
                return "Identify: blinking the status LED for 3 s" in bsp_log.read_text()

            await eventually(blinked, "ccy-bsp blinks after the DCP Signal")
            active = await get(b, "ActiveErrors", ERRORS_IFACE, PROFINET_OBJECT_PATH)
            assert BSP_IDENTIFY_FAILED.name not in [e[0] for e in active], active
        finally:
            b.disconnect()

    asyncio.run(scenario())


def test_a_bsp_emergency_stop_is_a_diagnosis_alarm_to_the_plc(setup: Setup) -> None:
    """ccy-bsp raises EmergencyStop/EmergencyInput (a stopping error): the unit sends a
    diagnosis alarm on slot 1/1 with its ChannelErrorType, the PLC ACKs it; when the E-stop
    clears, the diagnosis disappears."""
    expected = f"0x{diagnosis.channel_error_type('ccy-bsp', 'EmergencyStop'):04X}"
    control = mcu_control_path(setup.stack.layout.dir)
    watcher = plc(setup, "plc-alarm", "--run-s", "30")
    try:
        watcher.expect("plc: data exchange")
        assert send_command(control, {"cmd": "estop", "reason": "EmergencyInput"})["ok"]
        assert watcher.expect("plc: alarm appears") == f"plc: alarm appears {expected}"
        assert send_command(control, {"cmd": "estop", "reason": "clear"})["ok"]
        assert watcher.expect("plc: alarm disappears") == f"plc: alarm disappears {expected}"
    finally:
        watcher.stop()
    assert "Error raised BSP: bsp (EmergencyStop/EmergencyInput)" in setup.log.read_text()
