# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet: the Profinet IO device toward the PLC and org.ccy.PowerStage1 (org.ccy.Profinet).

Two objects on one bus name (ccy.profinet.contract): /org/ccy/Profinet (Profinet1: station,
AR, cycle statistics, diagnoses) and /org/ccy/PowerStage (PowerStage1, which ccy-evse drives).

- profinet.mode plc: the device (DCP, LLDP, RPC, cyclic RT, alarms: ccy.profinet.plc_mode
  composes ccy.profinet.dcp / lldp / rpc / rt) runs on the configured interface; PowerStage1
  follows the PLC's cyclic data (ccy.profinet.power_stage_plc): setpoints out, readings in,
  Off at once when the PLC is lost (the data-loss callback runs the stage input before
  anything else), reconnect rules in ccy.profinet.reconnect.
- profinet.mode simulated: no Profinet; PowerStage1 is the simulated model
  (ccy.profinet.stage.model) and org.ccy.sim.PowerStageFaults1 on /org/ccy/sim/PowerStage
  injects faults.

In both modes the unit watches ccy-evse and ccy-bsp (properties and Errors1 signals only,
ccy.profinet.peers), keeps a diagnosis per stopping error of either (sent to the PLC as a
diagnosis alarm in mode plc, journal "Error raised EVSEManager: connector (…)") and fills the
PLC's input data (ccy.profinet.inputs). Its one call is Bsp1.Identify on a DCP Signal.
Every input runs as snapshot → change → one PropertiesChanged per interface.
"""

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, Protocol

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.profinet import diagnosis
from ccy.profinet.contract import (
    AR_ABORTED,
    BSP_BUS_NAME,
    BSP_IDENTIFY_FAILED,
    BUS_NAME,
    CALLER_BUS_NAME,
    FAULTS_OBJECT_PATH,
    NETWORK_SETUP_FAILED,
    PROFINET_OBJECT_PATH,
    ArState,
    UnitMode,
)
from ccy.profinet.inputs import charger_inputs
from ccy.profinet.io_layout import PlcToCharger
from ccy.profinet.peers import PeerWatch
from ccy.profinet.power_stage_plc import WIRE_MODE, PlcPowerStage, PlcStageConfig, StageOutputs
from ccy.profinet.profinet_iface import ProfinetInterface, Refusal
from ccy.profinet.settings import ProfinetSettings
from ccy.profinet.stage.faults_iface import FaultsInterface
from ccy.profinet.stage.model import PowerStageModel
from ccy.profinet.stage.server import PowerStageServer
from ccy.profinet.unit_state import PROFINET_TABLE, ProfinetState
from ccy.runtime import bus, notify
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface, publish_errors
from ccy.runtime.service import UnitContext, run_unit
from ccy.runtime.state import StateDiff, StatePublisher

STALE_TICKS = 10
"""Unhealthy when the stage's tick has not run for this many periods."""
IDENTIFY_S = 3.0
"""How long the LED blinks on a DCP Signal (profinet.md: a Signal asks for 3 s)."""
BSP_PATH, BSP_IFACE = "/org/ccy/Bsp", "org.ccy.Bsp1"
EVSE_PATH, EVSE_IFACE = "/org/ccy/Evse", "org.ccy.Evse1"


class PlcLink(Protocol):
    """The Profinet device as the unit drives it (ccy.profinet.plc_mode.PlcDevice)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def set_inputs(self, data: bytes) -> None: ...
    def alarm(self, change: diagnosis.AlarmChange) -> None: ...
    def statistics(self) -> dict[str, int]: ...
    def reset_station(self) -> None: ...


class ProfinetUnit:
    """Wires the power stage, Profinet1, the watchers and (mode plc) the device together."""

    def __init__(self, ctx: UnitContext, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.clock = clock
        self.settings = s = ProfinetSettings.from_section(ctx.config.section("profinet"), ctx.paths)
        self.simulated = s.mode is UnitMode.SIMULATED
        self.errors = ErrorRegistry(ctx.log)
        self.state = ProfinetState(
            mode=s.mode,
            interface="" if self.simulated else s.interface,
            station_name=s.station_name,
            ar_state=ArState.DISABLED if self.simulated else ArState.WAITING,
        )
        self.iface = ProfinetInterface(lambda: self.state, self, ctx.log)
        self.errors_iface = ErrorsInterface(self.errors, emit_active=False)
        self.publisher = StatePublisher(ctx.log)
        self.publisher.add(PROFINET_TABLE, lambda: self.state, self.iface.emit_properties_changed)
        publish_errors(self.publisher, self.errors, self.errors_iface)
        self.publisher.listen(self._status)
        self.model: PowerStageModel | None = None
        self.plc_stage: PlcPowerStage | None = None
        if self.simulated:
            self.model = PowerStageModel(s.stage_config(), s.ev_load(), now=0.0)
            backend: Any = self.model
        else:
            self.plc_stage = backend = PlcPowerStage(
                PlcStageConfig(
                    lease_s=s.lease_s,
                    reconnect_grace_s=s.reconnect_grace_s,
                    reconnect_current_a=s.reconnect_current_A,
                    over_current_margin=s.over_current_margin_pct / 100.0,
                    self_test_timeout_s=s.self_test_timeout_s,
                )
            )
        self.stage = PowerStageServer(ctx.log, tick_s=s.stage_tick_s, clock=clock, backend=backend)
        self.stage.publisher.listen(self._stage_changed)
        self.evse = PeerWatch(
            "ccy-evse", CALLER_BUS_NAME, EVSE_PATH, EVSE_IFACE, self._peers_changed, ctx.log
        )
        self.bsp = PeerWatch(
            "ccy-bsp", BSP_BUS_NAME, BSP_PATH, BSP_IFACE, self._peers_changed, ctx.log
        )
        self.diagnoses: tuple[diagnosis.Diagnosis, ...] = ()
        self.plc: PlcLink | None = None
        self.bus: MessageBus | None = None
        self._heartbeat = 0
        self._last_tick = clock()
        self._loops: list[asyncio.Task[None]] = []
        self._calls: set[asyncio.Task[None]] = set()

    # ---------------------------------------------------------------- Profinet1 state
    def update(self, **changes: Any) -> None:
        """One input that changes Profinet1's state (one PropertiesChanged)."""
        with self.publisher.input():
            self.state = replace(self.state, **changes)

    # ---------------------------------------------------------------- PLC events (plc_mode)
    def on_outputs(self, data: bytes, good: bool) -> None:
        """The PLC's output data: valid → the stage follows it; bad IOPS → the PLC is lost."""
        assert self.plc_stage is not None
        stage = self.plc_stage
        if not good:
            self.on_data_lost("the PLC's output data is not valid (IOPS bad or PLC in STOP)")
            return
        try:
            decoded = PlcToCharger.unpack(data)
        except ValueError as exc:
            self.log.warning("PLC output data dropped: %s", exc)
            return
        self.stage.input(lambda now: stage.plc_data(decoded, now))
        if not self.state.plc_connected:
            self.errors_input(lambda: self.errors.clear_error(AR_ABORTED))
            self.update(plc_connected=True)

    def on_data_lost(self, reason: str) -> None:
        """The AR is gone (DHT expired, release, abort, bad IOPS): Off first, then tell."""
        assert self.plc_stage is not None
        stage = self.plc_stage
        if not stage.connected:
            return
        self.stage.input(lambda now: stage.plc_lost(now, reason))
        self.push_inputs()
        self.log.warning("PLC lost (%s): power stage Off; %s", reason, stage.last_verdict)
        self.update(plc_connected=False)

    def on_ar_state(self, state: ArState, aborted: bool = False, **changes: Any) -> None:
        """AR state from the device (which logs the seed's AR lines itself). An AR that ended
        by an abort (DHT expired, a protocol error, the unit) raises ArAborted until data
        exchange runs again; one the PLC released does not."""
        if state is ArState.WAITING and self.state.ar_state is not ArState.WAITING:
            reason = changes.get("last_abort_reason", "")
            if aborted:
                self.errors_input(
                    lambda: self.errors.raise_error(
                        AR_ABORTED, message=f"the AR with the PLC was aborted: {reason}"
                    )
                )
            self.log.info("Waiting for PLC connect request")
        self.update(ar_state=state, **changes)

    def on_station(self, **changes: Any) -> None:
        """Name or IP set by DCP (or restored at start)."""
        self.update(**changes)

    def on_network_failed(self, message: str) -> None:
        self.errors_input(lambda: self.errors.raise_error(NETWORK_SETUP_FAILED, message=message))

    def on_network_applied(self) -> None:
        self.errors_input(lambda: self.errors.clear_error(NETWORK_SETUP_FAILED))

    def errors_input(self, change: Callable[[], object]) -> None:
        with self.publisher.input():
            change()

    def identify(self) -> None:
        """DCP Signal: blink the status LED through Bsp1.Identify (the unit's one call)."""
        task = asyncio.get_running_loop().create_task(self._identify(), name="bsp-identify")
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _identify(self) -> None:
        """Bsp1.Identify; a failure is the IdentifyFailed error, never the unit's end."""
        assert self.bus is not None
        why = ""
        try:
            reply = await self.bus.call(
                Message(
                    destination=BSP_BUS_NAME,
                    path=BSP_PATH,
                    interface=BSP_IFACE,
                    member="Identify",
                    signature="d",
                    body=[IDENTIFY_S],
                )
            )
        except Exception as exc:  # bus gone, or the call could not be sent
            reply, why = None, str(exc)
        if reply is None or reply.message_type is MessageType.ERROR:
            why = f"{reply.error_name}: {reply.body}" if reply is not None else why or "no reply"
            self.errors_input(
                lambda: self.errors.raise_error(
                    BSP_IDENTIFY_FAILED, message=f"Bsp1.Identify failed ({why})"
                )
            )
        else:
            self.errors_input(lambda: self.errors.clear_error(BSP_IDENTIFY_FAILED))

    # ---------------------------------------------------------------- commands (Profinet1)
    def reset_station(self) -> None:
        if self.plc is None:
            raise Refusal("NotSupported", "ResetStation needs profinet.mode plc")
        if self.state.ar_state is not ArState.WAITING:
            raise Refusal("NotPermitted", f"an AR with the PLC is up ({self.state.ar_state})")
        self.plc.reset_station()

    def cycle_statistics(self) -> dict[str, int]:
        return self.plc.statistics() if self.plc is not None else {}

    # ---------------------------------------------------------------- watchers and inputs
    def _peers_changed(self) -> None:
        now = diagnosis.active((self.evse.view(), self.bsp.view()))
        changes = diagnosis.changes(self.diagnoses, now)
        self.diagnoses = now
        for change in changes:
            self.log.info("%s", diagnosis.journal_line(change))
            if self.plc is not None:
                self.plc.alarm(change)
        if changes:
            self.update(diagnoses=tuple(d.key for d in now), last_alarm=changes[-1].line())
        self.push_inputs()

    def _stage_changed(self, diff: StateDiff) -> None:
        self.push_inputs()

    def stage_outputs(self) -> StageOutputs:
        if self.plc_stage is not None:
            return self.plc_stage.outputs()
        snap = self.stage.snapshot
        return StageOutputs(WIRE_MODE[snap.mode], snap.target_voltage, snap.target_current, False)

    def push_inputs(self) -> None:
        """The charger's input data to the PLC (mode plc), from what the unit sees now."""
        if self.plc is None:
            return
        self._heartbeat += 1
        data = charger_inputs(
            self.evse.view(),
            self.bsp.view(),
            self.stage_outputs(),
            self.stage.snapshot,
            self.diagnoses,
            self._heartbeat,
        )
        self.plc.set_inputs(data.pack())

    # ---------------------------------------------------------------- loops
    async def _tick_loop(self) -> None:
        period = self.settings.stage_tick_s
        next_at = self.clock()
        while True:
            self.stage.tick()
            self.push_inputs()
            self._last_tick = self.clock()
            next_at += period
            await asyncio.sleep(max(0.0, next_at - self.clock()))

    def healthy(self) -> bool:
        return self.clock() - self._last_tick < STALE_TICKS * self.settings.stage_tick_s

    def _status(self, diff: StateDiff) -> None:
        notify.status(self.status_text())

    def status_text(self) -> str:
        s = self.state
        stage = self.stage.status_text()
        if self.simulated:
            return f"simulated, {stage}"
        return f"{s.ar_state}, station {s.station_name or '(unnamed)'}, {stage}"

    # ---------------------------------------------------------------- unit
    async def start(self) -> None:
        self.bus = b = await bus.connect_system_bus()
        b.export(PROFINET_OBJECT_PATH, self.iface)
        b.export(PROFINET_OBJECT_PATH, self.errors_iface)
        await self.stage.attach(b)
        if self.model is not None:
            b.export(FAULTS_OBJECT_PATH, FaultsInterface(self.model, self.stage.input))
        self._spawn_forever(_bus_connection(b), "bus-connection")
        await self.evse.start(b)
        await self.bsp.start(b)
        self._spawn_forever(self._tick_loop(), "tick")
        if not self.simulated:
            from ccy.profinet.plc_mode import PlcDevice  # the device stack, mode plc only

            self.plc = PlcDevice(self)
            await self.plc.start()
        await bus.own_name(b, BUS_NAME)
        if self.plc is not None:
            self.log.info("Waiting for PLC connect request")

    def _spawn_forever(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._loops.append(task)
        self.ctx.supervise(task, forever=True)

    async def stop(self) -> None:
        """The power stage Off first, then the device (its AR aborts), then the bus."""
        self.stage.switch_off()
        self.push_inputs()
        if self.plc is not None:
            try:
                await self.plc.stop()
            except Exception:
                self.log.exception("stopping the Profinet device failed")
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self.bus is not None:
            self.bus.disconnect()


async def _bus_connection(b: MessageBus) -> None:
    """Ends (with an error) when the bus connection is gone: the unit ends with it."""
    await b.wait_for_disconnect()  # type: ignore[no-untyped-call]
    raise ConnectionError("the system bus connection was lost")


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_unit("ccy-profinet", ProfinetUnit, argv))


if __name__ == "__main__":
    main()
