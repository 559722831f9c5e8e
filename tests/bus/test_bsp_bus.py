# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp on the real bus against the MCU simulator on a pseudo-terminal.

busctl reads and calls as an operator would; dbus-send checks D-Bus error names; a dbus-fast
client (the same one ccyctl uses) waits for signals and property changes. The simulator
injects what a real UART does wrong: garbage, bad CRCs, truncated frames, unknown codes,
silence.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dbus_fast.aio import MessageBus

from ccy.bsp.client import BspClient
from ccy.bsp.contract import BUS_NAME, ERRORS_IFACE, IFACE, OBJECT_PATH, POWER_OWNER_BUS_NAME
from ccy.sim.mcu.control import send_command
from ccy.sim.stack import Stack

# No root mark: the stack's sandbox policy grants the invoking user what ccy's users get, so
# the bus tier runs as any user (issue 10); only tests/bus/test_policy.py needs other users.
BSP = (BUS_NAME, OBJECT_PATH)
BSP1 = (*BSP, IFACE)


def mcu(stack: Stack, **command: Any) -> dict[str, Any]:
    reply = send_command(stack.layout.control, command)
    assert reply.get("ok"), reply
    return reply


def wait_until(
    probe: Callable[[], Any], wanted: Callable[[Any], bool], timeout_s: float = 5.0
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if wanted(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def prop(busctl: Any, stack: Stack, name: str) -> str:
    r = busctl(stack.address(), "get-property", *BSP1, name)
    assert r.returncode == 0, r.stderr
    return str(r.stdout.strip())


def stat(busctl: Any, stack: Stack, key: str) -> int:
    words = prop(busctl, stack, "LinkStatistics").replace('"', "").split()
    return int(words[words.index(key) + 1]) if key in words else 0


def test_busctl_reads_the_firmware_and_link(busctl: Any, stack: Stack) -> None:
    assert prop(busctl, stack, "LinkUp") == "b true"
    assert prop(busctl, stack, "FirmwareVersion") == 's "0.2.3"'
    assert prop(busctl, stack, "GitHash") == 's "g5638a7e18ecce8f0"'
    assert prop(busctl, stack, "FirmwarePlatform") == 's "CC Y"'
    want = 'a(sds) 4 "dc_plus" 25 "Ok"'  # published once a second: the first may follow READY
    temps = wait_until(lambda: prop(busctl, stack, "Temperatures"), lambda v: v.startswith(want))
    assert temps.startswith(want), temps


def test_busctl_calls_and_named_errors(busctl: Any, dbus_send: Any, stack: Stack) -> None:
    a = stack.address()
    r = dbus_send(a, *BSP, "org.ccy.Bsp1.SetCcsReady", "string:Maybe")
    assert "Error org.ccy.Error.InvalidArgument" in r.stderr and "NotReady, Ready" in r.stderr
    assert busctl(a, "call", *BSP1, "Enable", "b", "false").returncode == 0
    r = dbus_send(a, *BSP, "org.ccy.Bsp1.SetCcsReady", "string:Ready")
    assert "Error org.ccy.Error.NotPermitted" in r.stderr and "disabled" in r.stderr
    r = dbus_send(a, *BSP, "org.ccy.Bsp1.AllowPowerOn", "boolean:true")
    assert "Error org.ccy.Error.NotPermitted" in r.stderr
    r = dbus_send(a, *BSP, "org.ccy.Bsp1.Enable", "string:yes")  # dbus-fast: no such signature
    assert "Error org.freedesktop.DBus.Error.UnknownMethod" in r.stderr, r.stderr
    assert busctl(a, "call", *BSP1, "Enable", "b", "true").returncode == 0
    assert busctl(a, "call", *BSP1, "SetCcsReady", "s", "Ready").returncode == 0
    assert prop(busctl, stack, "CcsReady") == 's "Ready"'
    assert busctl(a, "call", *BSP1, "SetCcsReady", "s", "NotReady").returncode == 0
    assert prop(busctl, stack, "LinkUp") == "b true"  # nothing of this disturbed the link


async def _collect_signals(
    stack: Stack, action: Callable[[], None], count: int
) -> list[tuple[str, str, str]]:
    bus = await MessageBus(bus_address=stack.address()).connect()
    got: list[tuple[str, str, str]] = []
    done = asyncio.Event()
    client = BspClient(bus)

    def on(kind: str) -> Callable[[str, str], None]:
        def handler(old: str, new: str) -> None:
            got.append((kind, old, new))
            if len(got) >= count:
                done.set()

        return handler

    client.on_ce_changed(on("CeChanged"))
    client.on_id_changed(on("IdChanged"))
    await asyncio.sleep(0.1)  # match rules in place
    await asyncio.to_thread(action)
    await asyncio.wait_for(done.wait(), 5)
    bus.disconnect()
    return got


def test_plug_and_unplug_emit_typed_signals(stack: Stack) -> None:
    got = asyncio.run(_collect_signals(stack, lambda: mcu(stack, cmd="plug"), 2))
    assert sorted(got) == [("CeChanged", "A", "B0"), ("IdChanged", "NotConnected", "Connected")]
    got = asyncio.run(_collect_signals(stack, lambda: mcu(stack, cmd="unplug"), 2))
    assert ("IdChanged", "Connected", "NotConnected") in got


# ------------------------------------------------------------------ power withdrawn
def wait_prop(busctl: Any, stack: Stack, name: str, wanted: str, timeout_s: float = 5) -> None:
    value = wait_until(lambda: prop(busctl, stack, name), lambda v: v == wanted, timeout_s)
    assert value == wanted, f"{name} is {value}, not {wanted}"


@pytest.fixture
def vehicle_charging(busctl: Any, stack: Stack) -> Iterator[None]:
    """Port enabled, Ready, vehicle plugged and in CE C; unplugged and reset afterwards."""
    a = stack.address()
    assert busctl(a, "call", *BSP1, "Enable", "b", "true").returncode == 0
    wait_prop(busctl, stack, "LinkUp", "b true")
    r = busctl(a, "call", *BSP1, "SetCcsReady", "s", "Ready")
    assert r.returncode == 0, r.stderr
    mcu(stack, cmd="plug")
    mcu(stack, cmd="set_ce", state="C")
    wait_prop(busctl, stack, "CeState", 's "C"')
    wait_prop(busctl, stack, "IdState", 's "Connected"')
    yield
    mcu(stack, cmd="unplug")
    wait_prop(busctl, stack, "CeState", 's "A"')
    busctl(a, "call", *BSP1, "SetCcsReady", "s", "NotReady")


@pytest.mark.parametrize("kind", ["garbage", "bad_crc", "truncated"])
def test_corrupt_uart_data_is_counted_and_the_next_frame_is_used(
    busctl: Any, stack: Stack, kind: str
) -> None:
    key = {"garbage": "garbage_bytes", "bad_crc": "crc_errors", "truncated": "garbage_bytes"}[kind]
    mcu(stack, cmd="unplug")
    wait_prop(busctl, stack, "CeState", 's "A"')

    def faults() -> int:
        return stat(busctl, stack, key) + stat(busctl, stack, "eof_errors")

    before = faults()
    mcu(stack, cmd="corrupt", kind=kind, count=3)
    mcu(stack, cmd="plug")
    wait_prop(busctl, stack, "CeState", 's "B0"')  # a good frame after the corrupt ones
    assert wait_until(faults, lambda v: v > before) > before
    mcu(stack, cmd="unplug")
    assert wait_until(lambda: prop(busctl, stack, "CeState"), lambda v: v == 's "A"') == 's "A"'
    assert prop(busctl, stack, "LinkUp") == "b true"


def test_unknown_ce_code_is_dropped_with_a_named_error_and_link_survives(
    busctl: Any, stack: Stack
) -> None:
    before = stat(busctl, stack, "decode_errors")
    mcu(stack, cmd="raw_frame", com=0x10, data=0x9 << 60 | 0x1 << 56)  # CE code 9: undefined
    assert wait_until(lambda: stat(busctl, stack, "decode_errors"), lambda v: v > before) > before
    assert prop(busctl, stack, "LinkUp") == "b true"
    log = (stack.layout.log_dir / "ccy-bsp.log").read_text()
    assert "UnknownCode" in log or "dropped" in log


def test_silence_loses_the_link_safely_and_it_comes_back(
    busctl: Any, stack: Stack, vehicle_charging: None
) -> None:
    a = stack.address()
    assert busctl(a, "call", *BSP1, "AllowPowerOn", "b", "true").returncode == 0
    mcu(stack, cmd="silence", seconds=2.5)
    assert wait_until(lambda: prop(busctl, stack, "LinkUp"), lambda v: v == "b false") == "b false"
    assert prop(busctl, stack, "PowerOnAllowed") == "b false"
    assert prop(busctl, stack, "CeState") == 's "Unknown"'
    errors = busctl(a, "get-property", *BSP, ERRORS_IFACE, "ActiveErrors").stdout
    assert '"LinkLost"' in errors
    assert wait_until(lambda: prop(busctl, stack, "LinkUp"), lambda v: v == "b true", 6) == "b true"
    errors = busctl(a, "get-property", *BSP, ERRORS_IFACE, "ActiveErrors").stdout
    assert '"LinkLost"' not in errors


def test_reset_safety_controller_pulses_the_line(busctl: Any, stack: Stack) -> None:
    before = stat(busctl, stack, "resets")
    r = busctl(stack.address(), "call", *BSP1, "ResetSafetyController")
    assert r.returncode == 0, r.stderr
    assert stat(busctl, stack, "resets") == before + 1
    assert wait_until(lambda: prop(busctl, stack, "LinkUp"), lambda v: v == "b true") == "b true"


def test_ccyctl_bsp_status_and_commands(busctl: Any, stack: Stack) -> None:
    env = {"DBUS_SYSTEM_BUS_ADDRESS": stack.address(), "PATH": "/usr/bin:/bin"}

    def ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ccy.ctl.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )

    want = 'a(sds) 4 "dc_plus" 25 "Ok"'  # fresh after the reset of the previous test
    wait_until(lambda: prop(busctl, stack, "Temperatures"), lambda v: v.startswith(want))
    r = ctl("bsp", "status")
    assert r.returncode == 0, r.stderr
    assert "FirmwareVersion: 0.2.3" in r.stdout and "Temperature dc_plus: 25.0 °C (Ok)" in r.stdout
    r = ctl("bsp", "enable", "on")
    assert r.returncode == 0, r.stderr
    r = ctl("bsp", "ccs-ready", "Ready")
    assert r.returncode == 0, r.stderr
    assert prop(busctl, stack, "CcsReady") == 's "Ready"'
    bad = ctl("bsp", "power-on", "on")  # no vehicle: refused with the named error, one line
    assert bad.returncode == 1, bad.stdout
    assert bad.stderr.startswith("ccyctl: ") and "NotPermitted" in bad.stderr, bad.stderr
    assert "no vehicle connected" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert prop(busctl, stack, "PowerOnAllowed") == "b false"
    assert ctl("bsp", "ccs-ready", "NotReady").returncode == 0


def test_the_stack_layout_is_a_root_folder(stack: Stack) -> None:
    root = stack.layout.dir
    assert (root / "etc/ccy/config.yaml").resolve() == root / "etc/ccy/sim.yaml"
    assert (root / "dev/ttyLP2").resolve().as_posix().startswith("/dev/pts/")
    led = root / "sys/class/leds/ccy:red:status"
    assert (led / "trigger").read_text().strip() == "timer"
    assert (led / "delay_on").read_text().strip() == "500"  # RUNNING: the link is up
    log = (stack.layout.log_dir / "ccy-bsp.log").read_text()
    assert "--root" not in log and f"{root}/dev/ttyLP2" not in log.split("starting")[0]


def test_identify_blinks_the_status_led_then_restores_it(
    busctl: Any, dbus_send: Any, stack: Stack
) -> None:
    a = stack.address()
    led = stack.layout.dir / "sys/class/leds/ccy:red:status"
    bad = dbus_send(a, *BSP, "org.ccy.Bsp1.Identify", "double:0.2")
    assert "Error org.ccy.Error.InvalidArgument" in bad.stderr and "1..60" in bad.stderr
    assert (led / "delay_off").read_text().strip() == "1500"  # RUNNING before
    assert busctl(a, "call", *BSP1, "Identify", "d", "1").returncode == 0
    assert (led / "delay_off").read_text().strip() == "500"  # 1 Hz while identifying
    back = wait_until(lambda: (led / "delay_off").read_text().strip(), lambda v: v == "1500")
    assert back == "1500"


def test_unplugging_withdraws_power_on(busctl: Any, stack: Stack, vehicle_charging: None) -> None:
    """Issue 9: plug, CE C, AllowPowerOn(true), unplug → PowerOnAllowed false."""
    r = busctl(stack.address(), "call", *BSP1, "AllowPowerOn", "b", "true")
    assert r.returncode == 0, r.stderr
    assert prop(busctl, stack, "PowerOnAllowed") == "b true"
    mcu(stack, cmd="unplug")
    wait_prop(busctl, stack, "PowerOnAllowed", "b false")
    assert prop(busctl, stack, "IdState") == 's "NotConnected"'


STAND_IN_EVSE = f"""
import asyncio, sys
from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from ccy.bsp.client import BspClient
from ccy.runtime.bus import own_name

async def main():
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    await own_name(bus, "{POWER_OWNER_BUS_NAME}")
    # As a (re)started ccy-evse: ccy-bsp dropped Ready when the owner changed, so the MCU
    # holds CE at B0; enable HLC again and wait for the vehicle's C before asking for power.
    bsp = BspClient(bus)
    await bsp.set_ccs_ready("Ready")
    while await bsp.get("CeState") != "C":
        await asyncio.sleep(0.05)
    await bsp.allow_power_on(True)
    print("allowed", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def test_a_vanished_power_owner_withdraws_power_on(
    busctl: Any, stack: Stack, vehicle_charging: None
) -> None:
    """Issue 9: the owner of org.ccy.Evse allows power, dies by SIGKILL (no goodbye on the
    bus) → PowerOnAllowed false; a restarted ccy-evse must ask again."""
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": stack.address()}
    evse = subprocess.Popen(
        [sys.executable, "-c", STAND_IN_EVSE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert evse.stdout is not None
        line = evse.stdout.readline()
        assert line.strip() == "allowed", evse.stderr.read() if evse.stderr else line
        assert prop(busctl, stack, "PowerOnAllowed") == "b true"
        r = busctl(stack.address(), "status", POWER_OWNER_BUS_NAME)
        assert r.returncode == 0 and f"PID={evse.pid}" in r.stdout, r.stdout + r.stderr
        os.kill(evse.pid, signal.SIGKILL)
        evse.wait(10)
        wait_prop(busctl, stack, "PowerOnAllowed", "b false")
    finally:
        if evse.poll() is None:
            evse.kill()
            evse.wait(10)
    log = (stack.layout.log_dir / "ccy-bsp.log").read_text()
    assert "Power-on request withdrawn: the owner of org.ccy.Evse vanished" in log


def active_error_types(busctl: Any, stack: Stack) -> str:
    r = busctl(stack.address(), "get-property", *BSP, ERRORS_IFACE, "ActiveErrors")
    assert r.returncode == 0, r.stderr
    return str(r.stdout)


def test_an_unconfirmed_emergency_stop_is_an_error_on_the_bus(
    busctl: Any, stack: Stack, vehicle_charging: None
) -> None:
    """Issue 9: an MCU that never confirms CCSReady=EmergencyStop → EmergencyStopNotConfirmed
    after estop_confirm_timeout_ms (1 s); power is withdrawn at the request, not at the
    timeout; a late confirmation clears the error."""
    mcu(stack, cmd="estop_confirm", never=True)
    try:
        a = stack.address()
        assert busctl(a, "call", *BSP1, "AllowPowerOn", "b", "true").returncode == 0
        r = busctl(a, "call", *BSP1, "SetCcsReady", "s", "EmergencyStop")
        assert r.returncode == 0, r.stderr
        assert prop(busctl, stack, "PowerOnAllowed") == "b false"
        assert "EmergencyStopNotConfirmed" not in active_error_types(busctl, stack)
        errors = wait_until(
            lambda: active_error_types(busctl, stack), lambda v: "EmergencyStopNotConfirmed" in v
        )
        assert "EmergencyStopNotConfirmed" in errors
        assert prop(busctl, stack, "SafeState") == 's "Normal"'  # the MCU really ignored it
        mcu(stack, cmd="estop_confirm", delay_ms=0)  # the MCU wakes up and confirms
        wait_prop(busctl, stack, "SafeState", 's "SafeStateActive"')
        errors = wait_until(
            lambda: active_error_types(busctl, stack),
            lambda v: "EmergencyStopNotConfirmed" not in v,
        )
        assert "EmergencyStopNotConfirmed" not in errors
    finally:
        mcu(stack, cmd="estop_confirm", delay_ms=0)
    # vehicle_charging unplugs: CE A resets the MCU out of safe state for the next test.
