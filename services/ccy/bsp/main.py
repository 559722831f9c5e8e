# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp: the unit that owns the safety-MCU link (org.ccy.Bsp on the system bus).

Start-up order: open the UART, pulse the reset line, wait for the MCU, start ChargeControl2,
ask FwVersion/GitHash, then export org.ccy.Bsp1 + org.ccy.Errors1 on /org/ccy/Bsp and own
org.ccy.Bsp; READY=1 follows. If the MCU does not answer, the unit still becomes ready with
LinkUp false and the LinkLost error active, so operators can see why on the bus.
"""

import asyncio
import sys
from collections.abc import Sequence

from dbus_fast.aio import MessageBus

from ccy.bsp.core import BspCore
from ccy.bsp.dbus_iface import BspInterface
from ccy.bsp.leds import Led, LedState
from ccy.bsp.link import SafetyLink
from ccy.bsp.protocol.codes import CeState, EstopReason, SafeState
from ccy.bsp.reset_line import make_reset_line
from ccy.bsp.settings import BspSettings
from ccy.runtime import bus, notify
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface
from ccy.runtime.service import UnitContext, run_unit

BUS_NAME = "org.ccy.Bsp"
OBJECT_PATH = "/org/ccy/Bsp"


class BspUnit:
    """Wires core, link, LEDs and bus together; implements the core's events port."""

    def __init__(self, ctx: UnitContext) -> None:
        self.ctx = ctx
        self.settings = BspSettings.from_section(ctx.config.section("bsp"), ctx.paths)
        self.errors = ErrorRegistry(ctx.log)
        self.iface = BspInterface()
        self.errors_iface = ErrorsInterface(self.errors)
        self.core = BspCore(self.settings, self.errors, self, ctx.log)
        s = self.settings
        self.reset_line = make_reset_line(
            s.reset_line_driver, s.reset_line_chip, s.reset_line_name, s.reset_line_file
        )
        self.link = SafetyLink(s, self.core, self.reset_line, ctx.log)
        self.iface.attach(
            self.core, self.link.reset if self.reset_line else None, lambda: dict(self.link.stats)
        )
        self.leds = {
            "status": Led("status", s.led_status_path, ctx.log),
            "charging": Led("charging", s.led_charging_path, ctx.log),
            "error": Led("error", s.led_error_path, ctx.log),
        }
        self.bus: MessageBus | None = None
        self._background: set[asyncio.Task[None]] = set()

    # ---------------------------------------------------------------- events port
    def changed(self, prop: str, value: object) -> None:
        self.iface.changed(prop, value)
        if prop in ("LinkUp", "SafeState", "EmergencyStop", "CeState"):
            self._show_leds()
            notify.status(self.status_text())

    def ce_changed(self, old: str, new: str) -> None:
        self.iface.ce_changed(old, new)

    def id_changed(self, old: str, new: str) -> None:
        self.iface.id_changed(old, new)

    def request_reset(self, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self.link.reset(), name="reset")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---------------------------------------------------------------- unit
    async def start(self) -> None:
        self._show_leds()
        # Connect while the MCU is in its start-up wait; own the name only once it is up.
        connecting = asyncio.create_task(bus.connect_system_bus(), name="bus-connect")
        try:
            await self.link.start()
        except BaseException:
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            raise
        self.bus = await connecting
        self.bus.export(OBJECT_PATH, self.iface)
        self.bus.export(OBJECT_PATH, self.errors_iface)
        await bus.own_name(self.bus, BUS_NAME)

    async def stop(self) -> None:
        self.core.enable(False)
        await self.link.stop()
        for task in list(self._background):
            task.cancel()
        if self.bus is not None:
            self.bus.disconnect()

    def status_text(self) -> str:
        s = self.core.state
        if not s.link_up:
            return "safety controller link down"
        return (
            f"link up, firmware {s.firmware_version or '?'}, CE {s.ce.value}, ID {s.id.value}, "
            f"E-stop {s.estop.value}, {s.safe_state.value}"
        )

    def _show_leds(self) -> None:
        s = self.core.state
        fault = (
            not s.link_up
            or s.safe_state is SafeState.SAFE_STATE_ACTIVE
            or s.estop is not EstopReason.NO_STOP
        )
        self.leds["status"].show(LedState.RUNNING if s.link_up else LedState.LINK_DOWN)
        self.leds["error"].show(LedState.FAULT if fault else LedState.OFF)
        self.leds["charging"].show(LedState.ON if s.ce is CeState.C else LedState.OFF)


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_unit("ccy-bsp", BspUnit, argv))


if __name__ == "__main__":
    main()
