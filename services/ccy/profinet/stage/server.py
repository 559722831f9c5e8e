# SPDX-License-Identifier: Apache-2.0
"""The power stage on the bus: org.ccy.PowerStage1 + org.ccy.Errors1 from a backend.

Serves the object and interfaces of :data:`ccy.profinet.contract.POWER_STAGE` (bus name
org.ccy.Profinet, object /org/ccy/PowerStage) from a :class:`StageBackend`: the simulated
:class:`PowerStageModel` (profinet.mode simulated, and ``python -m ccy.sim.power_stage``) or
the PLC-driven :class:`ccy.profinet.power_stage_plc.PlcPowerStage`. Every input — a method
call, the tick, the caller's name vanishing, the PLC's data — runs the same way (ccy-bsp's pattern,
:mod:`ccy.runtime.state`): the model takes it with the time since start, the model's
errors are mirrored into the ErrorRegistry (Raised/Cleared), and the StatePublisher sends one
PropertiesChanged per interface with every member that changed.

The model runs on the server's own clock: the tick (``tick_s``) advances it, so the ramp, the
IMD measurement and the setpoint lease (dbus/org.ccy.PowerStage1.xml: no SetMode/SetTarget
within LeaseSeconds → Off and LeaseExpired) happen without any caller. When the owner of
org.ccy.Evse vanishes the stage goes Off at once (the XML, "The setpoint lease").
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from dbus_fast.aio import MessageBus

from ccy.profinet.contract import BUS_NAME, CALLER_BUS_NAME, OBJECT_PATH, POWER_STAGE, Mode
from ccy.profinet.contract import Prop as P
from ccy.profinet.stage.dbus_iface import PowerStageInterface
from ccy.profinet.stage.model import (
    PowerStageModel,
    RefusalKind,
    Refused,
    Snapshot,
    StageConfig,
)
from ccy.profinet.stage.properties import POWER_STAGE_TABLE
from ccy.runtime import bus, notify
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface, publish_errors
from ccy.runtime.state import StateDiff, StatePublisher

TICK_S = 0.02
"""Default tick, 20 ms: the model integrates in 5 ms steps in between; it is also the
PropertiesChanged period while the voltage ramps (fine-grained against a 0.5 s ChargeLoop)."""


class BusLostError(ConnectionError):
    """The system bus connection ended while the server was running."""


class StageBackend(Protocol):
    """What the server drives: every call takes the time since start and returns the state
    after it; a refused command raises :class:`Refused` and changes nothing."""

    def set_mode(self, mode: Mode, now: float) -> Snapshot: ...
    def set_target(self, voltage: float, current: float, now: float) -> Snapshot: ...
    def start_self_test(self, now: float) -> Snapshot: ...
    def advance(self, now: float) -> Snapshot: ...
    def snapshot(self) -> Snapshot: ...


class PowerStageServer:
    """Wires the pure model, the error registry, the publisher and the bus together."""

    def __init__(
        self,
        log: logging.Logger,
        config: StageConfig | None = None,
        tick_s: float = TICK_S,
        clock: Callable[[], float] = time.monotonic,
        backend: StageBackend | None = None,
    ) -> None:
        self.log = log
        self.tick_s = tick_s
        self._clock = clock
        self._start = clock()
        self.model: StageBackend = backend or PowerStageModel(config, now=0.0)
        self.snapshot: Snapshot = self.model.snapshot()
        self.errors = ErrorRegistry(log)
        self.iface = PowerStageInterface(lambda: self.snapshot, self, log)
        self.errors_iface = ErrorsInterface(self.errors, emit_active=False)
        self.publisher = StatePublisher(log)
        self.publisher.add(
            POWER_STAGE_TABLE, lambda: self.snapshot, self.iface.emit_properties_changed
        )
        publish_errors(self.publisher, self.errors, self.errors_iface)
        self.publisher.listen(self._status)
        self.bus: MessageBus | None = None

    # ---------------------------------------------------------------- inputs
    def now(self) -> float:
        """The backend's time: seconds since the server started."""
        return self._clock() - self._start

    def _now(self) -> float:
        return self.now()

    def input(self, step: Callable[[float], object]) -> None:
        """Run ``step(now)`` as one input (the PLC's data, an injected fault)."""
        self._input(step)

    def _input(self, step: Callable[[float], object]) -> None:
        """One input: the model takes it, errors and properties follow once (also when the
        model refused it: it may have advanced its time first)."""
        with self.publisher.input():
            try:
                step(self._now())
            finally:
                self.snapshot = self.model.snapshot()
                self._mirror_errors()

    def _mirror_errors(self) -> None:
        for spec in POWER_STAGE.errors:
            if spec.name in self.snapshot.errors:
                self.errors.raise_error(spec)
            else:
                self.errors.clear_error(spec)

    def tick(self) -> None:
        self._input(self.model.advance)

    def on_caller_changed(self, old: str, new: str) -> None:
        """The owner of org.ccy.Evse changed: Off at once when it vanished."""
        self._on_caller_changed(old, new)

    def _on_caller_changed(self, old: str, new: str) -> None:
        if old and not new:
            self.log.warning("%s vanished from the bus: stage Off", CALLER_BUS_NAME)
            self._input(lambda now: self.model.set_mode(Mode.OFF, now))

    # ---------------------------------------------------------------- commands
    def set_mode(self, mode: str) -> None:
        try:
            wanted = Mode(mode)
        except ValueError:
            values = ", ".join(m.value for m in Mode)
            raise Refused(
                RefusalKind.INVALID_ARGUMENT, f"unknown mode {mode!r} (one of {values})"
            ) from None
        self._input(lambda now: self.model.set_mode(wanted, now))

    def set_target(self, voltage: float, current: float) -> None:
        self._input(lambda now: self.model.set_target(voltage, current, now))

    def start_self_test(self) -> None:
        self._input(self.model.start_self_test)

    # ---------------------------------------------------------------- status
    def status_text(self) -> str:
        s = self.snapshot
        kind = "simulated power stage" if isinstance(self.model, PowerStageModel) else "power stage"
        return f"{kind}: {s.mode}, {s.present_voltage:.0f} V"

    def _status(self, diff: StateDiff) -> None:
        if diff.touches(P.MODE):
            notify.status(self.status_text())

    # ---------------------------------------------------------------- lifetime
    async def start(self) -> None:
        """Connect, export, watch the caller, own the name (UnitStartError: no bus)."""
        self.bus = b = await bus.connect_system_bus()
        await self.attach(b)
        await bus.own_name(b, BUS_NAME)

    async def attach(self, b: MessageBus) -> None:
        """Export on ``b`` and watch the caller; the owner of the connection owns the name."""
        self.bus = b
        b.export(OBJECT_PATH, self.iface)
        b.export(OBJECT_PATH, self.errors_iface)
        owner = await bus.watch_name_owner(b, CALLER_BUS_NAME, self._on_caller_changed)
        self.log.info("%s owner at start: %s", CALLER_BUS_NAME, owner or "none")

    async def tick_loop(self) -> None:
        """Advance the model every ``tick_s``, drift-free."""
        next_at = self._clock()
        while True:
            self.tick()
            next_at += self.tick_s
            await asyncio.sleep(max(0.0, next_at - self._clock()))

    def switch_off(self) -> None:
        """Off, logged instead of raised (stop paths)."""
        try:
            self._input(lambda now: self.model.set_mode(Mode.OFF, now))
        except Exception:
            self.log.exception("switching the stage Off on stop failed")

    def stop(self) -> None:
        self.switch_off()
        if self.bus is not None:
            self.bus.disconnect()


async def serve(server: PowerStageServer, stop: asyncio.Event) -> None:
    """Start ``server``, report READY=1 once the name is owned, run until ``stop`` is set.

    BusLostError when the bus connection ends; the tick's exception when the tick fails.
    """
    await server.start()
    assert server.bus is not None
    notify.ready(server.status_text())
    server.log.info("serving %s on %s %s", POWER_STAGE.main_interface, BUS_NAME, OBJECT_PATH)
    loop = asyncio.get_running_loop()
    ticking = loop.create_task(server.tick_loop(), name="tick")
    gone = loop.create_task(server.bus.wait_for_disconnect(), name="bus")  # type: ignore[no-untyped-call]
    stopping = loop.create_task(stop.wait(), name="stop")
    tasks = {ticking, gone, stopping}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if ticking in done:
        ticking.result()
    if gone in done:
        raise BusLostError("the system bus connection was lost")
    notify.stopping()
    server.stop()
