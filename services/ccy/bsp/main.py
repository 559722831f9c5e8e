# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp: the unit that owns the safety-MCU link (org.ccy.Bsp on the system bus).

The glue around the pure core (:mod:`ccy.bsp.core`). Every input — a frame from the UART,
the tick, an operator command, the owner of org.ccy.Evse changing, the UART failing, a reset
finishing — runs the same way: the core call returns effects (frames to send, a reset to
carry out), the glue applies them, and the :class:`StatePublisher` publishes the state's
difference once (one PropertiesChanged per interface); CeChanged/IdChanged, the LEDs and the
STATUS= line follow from the same diff.

Start-up: connect to the bus meanwhile; open the UART, pulse the reset line and wait
startup_wait_s (safety-link.md, "Link"), start ChargeControl2 and the tick, wait for the
link and the firmware answer (bounded), export org.ccy.Bsp1 + org.ccy.Errors1, watch
org.ccy.Evse, own org.ccy.Bsp; READY=1 follows. If the MCU does not answer, the unit still
becomes ready with LinkUp false and LinkLost active, so operators can see why on the bus.

Health: the sender, the tick, a reset in progress and the bus connection are supervised; if
one dies, or the core raises on an input, the unit ends with status 1 and systemd restarts it
while the MCU's host timeout holds the charger safe.
"""

import asyncio
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from dbus_fast.aio import MessageBus

from ccy.bsp.contract import BUS_NAME, IFACE, OBJECT_PATH, POWER_OWNER_BUS_NAME
from ccy.bsp.core import BspCore
from ccy.bsp.dbus_iface import BspInterface
from ccy.bsp.effects import CommandRefused, Effect, ResetMcu, SendMessage
from ccy.bsp.leds import BoardLeds, patterns_for
from ccy.bsp.properties import BSP_TABLE
from ccy.bsp.protocol.codes import CeState, EstopReason, SafeState
from ccy.bsp.protocol.errors import ProtocolError
from ccy.bsp.protocol.frame import Frame
from ccy.bsp.protocol.messages import Message, decode, encode
from ccy.bsp.reset_line import make_reset_line
from ccy.bsp.settings import BspSettings
from ccy.bsp.uart import Uart
from ccy.runtime import bus, notify
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface, publish_errors
from ccy.runtime.service import UnitContext, run_unit
from ccy.runtime.state import StateDiff, StatePublisher

TICK_PERIOD_S = 0.05
"""How often the core's timers run (link timeout, inquiry timeout, E-stop confirmation)."""
STALE_PERIODS = 10
"""Unhealthy when the sender or the tick has not run for this many of its periods."""
IDENTIFY_MIN_S = 1.0
IDENTIFY_MAX_S = 60.0
"""Bounds of Bsp1.Identify's duration (dbus/org.ccy.Bsp1.xml)."""
_LED_PROPS = ("LinkUp", "SafeState", "EmergencyStop", "CeState")
_STATUS_PROPS = (*_LED_PROPS, "IdState", "FirmwareVersion")


class BspUnit:
    """Wires core, UART, reset line, LEDs and bus together."""

    def __init__(self, ctx: UnitContext, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.clock = clock
        self.settings = s = BspSettings.from_section(ctx.config.section("bsp"), ctx.paths)
        self.errors = ErrorRegistry(ctx.log)
        self.core = BspCore(s, self.errors, ctx.log, clock())
        self.reset_line = make_reset_line(
            s.reset_line_driver, s.reset_line_chip, s.reset_line_name, s.reset_line_file
        )
        self.uart = Uart(
            s.serial_port,
            s.serial_baud_Bd,
            self._on_frame,
            ctx.log,
            on_lost=self._on_uart_lost,
            spawn=self._spawn,
        )
        self.stats: Counter[str] = Counter()
        self.iface = BspInterface(lambda: self.core.state, self, ctx.log)
        self.errors_iface = ErrorsInterface(self.errors, emit_active=False)
        self.publisher = StatePublisher(ctx.log)
        self.publisher.add(BSP_TABLE, lambda: self.core.state, self.iface.emit_properties_changed)
        publish_errors(self.publisher, self.errors, self.errors_iface)
        for listener in (self._signals, self._leds, self._status, self._counters):
            self.publisher.listen(listener)
        self._identify_end: asyncio.TimerHandle | None = None
        self.leds = BoardLeds(
            {
                "status": s.led_status_path,
                "charging": s.led_charging_path,
                "error": s.led_error_path,
            },
            ctx.log,
        )
        self.bus: MessageBus | None = None
        self._reset: asyncio.Task[str | None] | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._firmware_known = asyncio.Event()
        self._last_sent = self._last_tick = clock()

    # ---------------------------------------------------------------- inputs
    def _event(self, call: Callable[[float], list[Effect]]) -> None:
        """An input nobody waits for: a core failure ends the unit (supervisor)."""
        try:
            self._input(call)
        except Exception as exc:
            self.ctx.supervisor.fail(f"ccy-bsp core failed on an input: {exc!r}", exc)

    def _command(self, call: Callable[[float], list[Effect]]) -> None:
        """An operator command: CommandRefused goes back to the caller, anything else also
        ends the unit (the core is in an unknown state)."""
        try:
            self._input(call)
        except CommandRefused:
            raise
        except Exception as exc:
            self.ctx.supervisor.fail(f"ccy-bsp core failed on a command: {exc!r}", exc)
            raise

    def _input(self, call: Callable[[float], list[Effect]]) -> None:
        with self.publisher.input():
            for effect in call(self.clock()):
                self._apply(effect)

    def _apply(self, effect: Effect) -> None:
        if isinstance(effect, SendMessage):
            self._send(effect.message)
        elif isinstance(effect, ResetMcu):
            self._start_reset(effect.reason)

    def _on_frame(self, frame: Frame) -> None:
        try:
            message = decode(frame)
        except ProtocolError as exc:
            self.stats["decode_errors"] += 1
            self.log.warning("frame COM 0x%02X dropped: %s", frame.com, exc)
            return
        self._event(lambda now: self.core.on_message(message, now))

    def _on_uart_lost(self, reason: str) -> None:
        self._event(lambda now: self.core.on_uart_lost(now, reason))

    def _on_owner_changed(self, old: str, new: str) -> None:
        self.log.info("%s owner: %s → %s", POWER_OWNER_BUS_NAME, old or "none", new or "none")
        self._event(lambda now: self.core.on_power_owner_changed(now, old, new))

    # ---------------------------------------------------------------- commands (BspCommands)
    def enable(self, on: bool) -> None:
        self._command(lambda now: self.core.enable(on, now))

    def set_ccs_ready(self, value: str) -> None:
        self._command(lambda now: self.core.set_ccs_ready(value, now))

    def allow_power_on(self, allow: bool) -> None:
        self._command(lambda now: self.core.allow_power_on(allow, now))

    async def reset(self) -> None:
        """ResetSafetyController: answered when the MCU is back (or the line failed)."""
        self._command(lambda now: self.core.request_reset(now, "operator request"))
        if self._reset is not None:
            failed = await asyncio.shield(self._reset)
            if failed:
                raise CommandRefused("Failed", f"reset failed: {failed}")

    def identify(self, duration_s: float) -> None:
        """Bsp1.Identify: blink the status LED for ``duration_s``; only the LED changes."""
        if not IDENTIFY_MIN_S <= duration_s <= IDENTIFY_MAX_S:  # NaN fails too
            raise CommandRefused(
                "InvalidArgument",
                f"duration_s {duration_s} is outside {IDENTIFY_MIN_S:g}..{IDENTIFY_MAX_S:g} s",
            )
        if self._identify_end is not None:
            self._identify_end.cancel()
        self.log.info("Identify: blinking the status LED for %g s", duration_s)
        self._identify_end = asyncio.get_running_loop().call_later(duration_s, self._end_identify)
        self._show_leds()

    def _end_identify(self) -> None:
        self._identify_end = None
        self._show_leds()

    def link_statistics(self) -> dict[str, int]:
        return dict(self.uart.stats + self.stats)

    # ---------------------------------------------------------------- effects
    def _send(self, message: Message) -> None:
        self.uart.write(encode(message))

    def _start_reset(self, reason: str) -> None:
        if self._reset is not None and not self._reset.done():
            self.log.info("Reset requested (%s) while one is under way", reason)
            return
        self._reset = self._spawn(self._run_reset(reason), "mcu-reset")

    async def _run_reset(self, reason: str) -> str | None:
        """Pulse, wait for the MCU, tell the core; returns why it failed (None: done)."""
        s = self.settings
        failed: str | None = None
        if self.reset_line is None:
            failed = "no reset line configured (reset_line_driver: none)"
        else:
            try:
                await self.reset_line.pulse(s.reset_pulse_s)
            except OSError as exc:
                failed = str(exc)
        if failed is not None:
            self._event(lambda now: self.core.on_reset_failed(now, failed))
            return failed
        self.stats["resets"] += 1
        await asyncio.sleep(s.startup_wait_s)
        self._event(self.core.on_reset_done)
        return None

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> "asyncio.Task[Any]":
        return self.ctx.supervise(asyncio.get_running_loop().create_task(coro, name=name))

    # ---------------------------------------------------------------- loops
    async def _send_loop(self) -> None:
        """ChargeControl2 every charge_control_period_s (safety-link.md), drift-free."""
        period = self.settings.charge_control_period_s
        next_at = self.clock()
        while True:
            self._send(self.core.charge_control())
            self._last_sent = self.clock()
            next_at += period
            await asyncio.sleep(max(0.0, next_at - self.clock()))

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_PERIOD_S)
            self._last_tick = self.clock()
            self._input(self.core.tick)  # a failure ends this supervised task: the unit ends

    def healthy(self) -> bool:
        """The core's power invariant holds and the sender and the tick are running."""
        now = self.clock()
        return (
            self.core.healthy()
            and now - self._last_sent < STALE_PERIODS * self.settings.charge_control_period_s
            and now - self._last_tick < STALE_PERIODS * TICK_PERIOD_S
        )

    # ---------------------------------------------------------------- listeners
    def _signals(self, diff: StateDiff) -> None:
        for prop, emit in (("CeState", self.iface.ce_changed), ("IdState", self.iface.id_changed)):
            change = diff.get(prop, IFACE)
            if change is not None:
                emit(str(change.old), str(change.new))

    def _leds(self, diff: StateDiff) -> None:
        if diff.touches(*_LED_PROPS):
            self._show_leds()

    def _status(self, diff: StateDiff) -> None:
        if diff.touches(*_STATUS_PROPS):
            notify.status(self.status_text())
        s = self.core.state
        if diff.touches("FirmwareVersion", "GitHash") and s.firmware_version and s.git_hash:
            self._firmware_known.set()

    def _counters(self, diff: StateDiff) -> None:
        change = diff.get("LinkUp", IFACE)
        if change is not None and change.old is True and change.new is False:
            self.stats["link_losses"] += 1

    def _show_leds(self) -> None:
        s = self.core.state
        self.leds.show(
            patterns_for(
                link_up=s.link_up,
                safe_state_active=s.safe_state is SafeState.SAFE_STATE_ACTIVE,
                estop_active=s.estop is not EstopReason.NO_STOP,
                charging=s.ce is CeState.C,
                identifying=self._identify_end is not None,
            )
        )

    def status_text(self) -> str:
        s = self.core.state
        if not s.link_up:
            return "safety controller link down"
        return (
            f"link up, firmware {s.firmware_version or '?'}, CE {s.ce}, ID {s.id}, "
            f"E-stop {s.estop}, {s.safe_state}"
        )

    # ---------------------------------------------------------------- unit
    async def start(self) -> None:
        self._show_leds()
        # Connect while the MCU is in its start-up wait; own the name only once it is up.
        connecting = asyncio.create_task(bus.connect_system_bus(), name="bus-connect")
        try:
            await self._start_link()
        except BaseException:
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            raise
        self.bus = b = await connecting
        b.export(OBJECT_PATH, self.iface)
        b.export(OBJECT_PATH, self.errors_iface)
        self._spawn_forever(_bus_connection(b), "bus-connection")
        owner = await bus.watch_name_owner(b, POWER_OWNER_BUS_NAME, self._on_owner_changed)
        if owner:
            self._on_owner_changed("", owner)
        await bus.own_name(b, BUS_NAME)

    async def _start_link(self) -> None:
        s = self.settings
        self.uart.open()
        self._event(self.core.start)  # a ResetMcu when a reset line is configured
        if self._reset is not None:
            await asyncio.shield(self._reset)
        self._spawn_forever(self._send_loop(), "charge-control")
        self._spawn_forever(self._tick_loop(), "tick")
        answer_s = 2 * (s.firmware_inquiry_retries + 1) * s.firmware_inquiry_timeout_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._firmware_known.wait(), s.link_timeout_s + answer_s)

    def _spawn_forever(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._loops.append(task)
        self.ctx.supervise(task, forever=True)

    async def stop(self) -> None:
        """Disable the port (power withdrawn), send a last ChargeControl2, close everything."""
        try:
            self._input(lambda now: self.core.enable(False, now))
        except Exception:
            self.log.exception("disabling the port on stop failed")
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._send(self.core.charge_control())
        await self.uart.close()
        if self.bus is not None:
            self.bus.disconnect()


async def _bus_connection(b: MessageBus) -> None:
    """Ends (with an error) when the bus connection is gone: the unit ends with it."""
    await b.wait_for_disconnect()  # type: ignore[no-untyped-call]
    raise ConnectionError("the system bus connection was lost")


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_unit("ccy-bsp", BspUnit, argv))


if __name__ == "__main__":
    main()
