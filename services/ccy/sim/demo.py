# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim demo``: a scripted story on the simulators, then the merged per-unit journal.

Boot (firmware version, link up), plug in, CE/ID transitions, HLC enable, the EV's HV-ready,
a power-on request, a temperature warning, an emergency stop and its recovery through
unplug and MCU reset. The script plays the part of ccy-evse through org.ccy.Bsp1 and the
part of the vehicle through the MCU simulator; every step waits for what the bus must show
and the demo fails (exit 1) naming the step if it does not.
"""

import asyncio
import logging
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbus_fast.aio import MessageBus

from ccy.bsp.client import BspClient
from ccy.runtime.journal import JournalLineFormatter
from ccy.sim.mcu.control import send_command
from ccy.sim.stack import Layout, Stack

STEP_TIMEOUT_S = 5.0
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d{4} ")


class DemoFailed(RuntimeError):
    """A step of the story did not show on the bus in time."""


class Demo:
    def __init__(self, directory: Path) -> None:
        # The safety-link story: ccy-bsp alone, driven as ccy-evse would drive it.
        self.stack = Stack(directory, table="ccy.sim.stack_table:BSP_ONLY")
        self.log = _narrator(self.stack.layout)
        self.bsp: BspClient | None = None

    async def mcu(self, command: dict[str, Any]) -> None:
        reply = await asyncio.to_thread(send_command, self.stack.layout.control, command)
        if not reply.get("ok"):
            raise DemoFailed(f"MCU simulator refused {command}: {reply.get('error')}")

    async def expect(
        self, what: str, probe: Callable[[], Any], wanted: Callable[[Any], bool]
    ) -> Any:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while True:
            value = await probe()
            if wanted(value):
                self.log.info("  ✓ %s", what)
                return value
            if time.monotonic() > deadline:
                raise DemoFailed(
                    f"{what}: not seen within {STEP_TIMEOUT_S:.0f} s (last: {value!r})"
                )
            await asyncio.sleep(0.05)

    async def prop(self, name: str, value: object) -> None:
        bsp = self.bsp
        assert bsp is not None
        await self.expect(f"{name} = {value}", lambda: bsp.get(name), lambda v: v == value)

    async def error_active(self, type_: str, active: bool = True) -> None:
        assert self.bsp is not None
        await self.expect(
            f"error {type_} {'active' if active else 'cleared'}",
            self.bsp.active_errors,
            lambda errs: any(e[0] == type_ for e in errs) == active,
        )

    async def story(self, bus: MessageBus) -> None:
        self.bsp = bsp = BspClient(bus)
        log = self.log
        log.info("Boot: the safety controller answers and the link is up")
        await self.prop("LinkUp", True)
        await self.prop("FirmwareVersion", "0.2.3")
        await self.prop("GitHash", "g5638a7e18ecce8f0")
        log.info("ccy-evse's part: enable the charge port")
        await bsp.enable(True)
        await self.prop("Enabled", True)
        log.info("Vehicle: plug in")
        await self.mcu({"cmd": "plug"})
        await self.prop("IdState", "Connected")
        await self.prop("CeState", "B0")
        log.info("ccy-evse's part: MCS HLC enable (CCSReady=Ready)")
        await bsp.set_ccs_ready("Ready")
        await self.prop("CeState", "B")
        log.info("Vehicle: HV ready (CE C)")
        await self.mcu({"cmd": "set_ce", "state": "C"})
        await self.prop("CpState", "C")
        log.info("ccy-evse's part: allow power on")
        await bsp.allow_power_on(True)
        await self.prop("PowerOnAllowed", True)
        log.info("Inlet heats up: channel 1 at 72.5 °C")
        await self.mcu({"cmd": "temp", "channel": 1, "degC": 72.5})
        await self.error_active("TemperatureWarning")
        await self.mcu({"cmd": "temp", "channel": 1, "degC": 41.0})
        await self.error_active("TemperatureWarning", False)
        log.info("Emergency input opens")
        await self.mcu({"cmd": "estop", "reason": "EmergencyInput"})
        await self.prop("EmergencyStop", "EmergencyInput")
        await self.prop("SafeState", "SafeStateActive")
        await self.prop("PowerOnAllowed", False)
        await self.error_active("EmergencyStop")
        log.info("Emergency input closes again; the MCU stays in safe state until reset")
        await self.mcu({"cmd": "estop", "reason": "NoStop"})
        await self.prop("EmergencyStop", "NoStop")
        await self.error_active("EmergencyStop", False)
        log.info("Vehicle: unplug; ccy-bsp resets the MCU to leave safe state")
        await self.mcu({"cmd": "unplug"})
        await self.prop("IdState", "NotConnected")
        await self.prop("SafeState", "Normal")
        await self.prop("LinkUp", True)
        log.info("Story complete")

    async def run(self) -> None:
        self.log.info("Starting the simulated charger in %s", self.stack.layout.dir)
        address = await asyncio.to_thread(self.stack.up)
        self.log.info("DBUS_SYSTEM_BUS_ADDRESS=%s", address)
        bus = await MessageBus(bus_address=address).connect()
        try:
            await self.story(bus)
        finally:
            bus.disconnect()
            self.log.info("Stopping the simulated charger")
            await asyncio.to_thread(self.stack.down)


def _narrator(layout: Layout) -> logging.Logger:
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger("ccy-sim.demo")
    log.propagate = False
    handler = logging.FileHandler(layout.log_dir / "ccy-sim.log", encoding="utf-8")
    handler.setFormatter(JournalLineFormatter("ccy-sim"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return log


def merged_journal(log_dir: Path) -> list[str]:
    """All units' journal lines in time order (continuation lines stay with their record)."""
    records: list[tuple[str, int, str]] = []
    for order, path in enumerate(sorted(log_dir.glob("*.log"))):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if _STAMP.match(line) or not records:
                records.append((line[:26], order, line))
            else:
                stamp, o, text = records[-1]
                records[-1] = (stamp, o, text + "\n" + line)
    records.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in records]


def run_demo(directory: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="ccy-demo-") as tmp:
        target = directory or Path(tmp)
        demo = Demo(target)
        status = 0
        try:
            asyncio.run(demo.run())
        except DemoFailed as exc:
            demo.log.error("Demo failed: %s", exc)
            status = 1
        for line in merged_journal(demo.stack.layout.log_dir):
            print(line)
        print("demo: OK" if status == 0 else "demo: FAILED")
        return status
