# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim demo`` (``make demo``): the seed's story on the whole simulated charger.

getting_started.rst's journal, played by ccy's own units on the simulators, with real
processes, sockets and one private system bus:

1. Boot: ccy-bsp, ccy-evse, ccy-auth, ccy-v2g (``ccy-sim up``'s stack) and ccy-profinet
   (power stage in mode simulated) start; each logs its version line and READY; ccy-bsp the
   safety controller's firmware line; ccy-evse "Ready to start charging".
2. Plug-in: the MCU simulator reports ID connected and CE B; ccy-evse starts a session;
   ccy-auth's dummy token is validated and authorizes it.
3. The vehicle (the EV simulator, ccy.sim.ev) finds the charger by SDP, connects over
   TLS 1.3 and runs ISO 15118-20 with the MCS service: session setup, service selection,
   charge parameters, schedule; then it closes S2 (CE C).
4. Cable check (contactor closed, isolation measured), precharge, power delivery, charge
   loops, and the timing statistics.
5. The fault from the power stage side: a supply fault on the simulated stage. ccy-evse
   raises "Error raised EVSEManager: connector", stops (power stage off, contactor open),
   tells the vehicle, which stops: PowerDelivery, CE C → B, welding detection, SessionStop.
6. Unplug: the session finishes and its log folder is closed.
7. A second, short act from the safety link: the vehicle plugs in again, the emergency input
   opens (the MCU's safe state, ccy-evse's emergency stop), closes, and the unplug resets the
   MCU out of its safe state.

Each step waits for its unit's journal line in the seed's wording (ccy.sim.demo_journal) and
the demo fails (exit 1) naming the step that did not happen. At the end it prints the merged
per-unit journal in time order and a summary (ccy.sim.demo_summary). The run stays in its
folder (``--dir``, or a new one under the temporary folder), so the session log can be read
afterwards with ``ccyctl --root DIR evse session show ID``.
"""

import asyncio
import contextlib
import logging
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.bsp.client import BspClient
from ccy.evse import contract as evse_contract
from ccy.runtime.journal import JournalLineFormatter
from ccy.sim.demo_journal import Journal, Record, StepMissing
from ccy.sim.demo_power import UNIT as PROFINET
from ccy.sim.demo_power import DemoPowerStage, PowerStageError, fault
from ccy.sim.demo_summary import Facts, summary
from ccy.sim.demo_vehicle import DemoVehicle, demo_options
from ccy.sim.ev.cli import _stack_sdp_port
from ccy.sim.ev.evcc import EvError, EvResult
from ccy.sim.ev.messages import Json
from ccy.sim.mcu.control import send_command
from ccy.sim.stack import Layout, Stack, StackError
from ccy.sim.supervisor import DEFAULT_TABLE, load_table

STEP_TIMEOUT_S = 10.0
"""Bound on one step (the longest, cable check, takes about 4 s on the simulators)."""
BOOT_TIMEOUT_S = 30.0
LOOPS_BEFORE_FAULT = 3
SETTLE_S = 0.5
"""After a failed story: time for the units to take the vehicle's disconnection before
the stack stops."""
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d{4} ")
BSP, EVSE, AUTH, V2G = "ccy-bsp", "ccy-evse", "ccy-auth", "ccy-v2g"
NARRATOR = "ccy-sim"
UNITS = (BSP, EVSE, AUTH, V2G, PROFINET)


class DemoFailed(RuntimeError):
    """The demo could not run a step (the stack, the power stage or a simulator refused)."""


def _version(unit: str) -> "re.Pattern[str]":
    return re.compile(rf"^{re.escape(unit)} \S+ \(git \S+\) starting$")


class Demo:
    def __init__(self, directory: Path) -> None:
        self.stack = Stack(directory)
        self.table = {row.name for row in load_table(DEFAULT_TABLE)}
        self.power = DemoPowerStage(self.stack, PROFINET in self.table)
        self.lay: Layout = self.stack.layout
        self.log = _narrator(self.lay)
        self.journal = Journal(self.lay.log_dir)
        self.facts = Facts(self.lay.dir)
        self.bus: MessageBus | None = None
        self.bsp: BspClient | None = None
        self.vehicle: DemoVehicle | None = None
        self.vehicle_task: asyncio.Task[EvResult] | None = None
        self.journal.fault_source = self._vehicle_failure
        self._cable_checked = False

    # ------------------------------------------------------------------ helpers
    async def see(
        self, step: str, unit: str, wanted: "str | re.Pattern[str]", timeout_s: float = 0.0
    ) -> Record:
        record = await self.journal.expect(step, unit, wanted, timeout_s or STEP_TIMEOUT_S)
        print(f"demo: ✓ {step}", flush=True)
        return record

    async def mcu(self, command: dict[str, Any]) -> None:
        reply = await asyncio.to_thread(send_command, self.lay.control, command)
        if not reply.get("ok"):
            raise DemoFailed(f"the MCU simulator refused {command}: {reply.get('error')}")

    async def bsp_shows(self, prop: str, value: object) -> None:
        bsp = self.bsp
        assert bsp is not None
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while (shown := await bsp.get(prop)) != value:
            if time.monotonic() > deadline:
                raise StepMissing(f"ccy-bsp shows {prop} {value}", f"it shows {shown!r}")
            await asyncio.sleep(0.02)

    async def evse_prop(self, prop: str) -> Any:
        assert self.bus is not None
        reply = await self.bus.call(
            Message(
                destination=evse_contract.BUS_NAME,
                path=evse_contract.OBJECT_PATH,
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=[evse_contract.IFACE, prop],
            )
        )
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            return None
        value = reply.body[0]
        return value.value if isinstance(value, Variant) else value

    def _vehicle_failure(self) -> str | None:
        task = self.vehicle_task
        if task is None or not task.done() or task.cancelled():
            return None
        exc = task.exception()
        return None if exc is None else f"the vehicle stopped: {exc}"

    async def wiring(self, when: str, doc: Json) -> None:
        """The vehicle's S2 switch around its requests (ccy.sim.demo_vehicle)."""
        ((name, body),) = doc.items()
        if when == "before" and name == "supportedAppProtocolReq":
            v = self.vehicle
            assert v is not None
            host, port = v.result.secc
            self.log.info(
                "Vehicle: connected to [%s]:%d over %s (%s)",
                host,
                port,
                v.tls_version,
                v.tls_cipher,
            )
        elif when == "before" and name == "DC_CableCheckReq" and not self._cable_checked:
            self._cable_checked = True
            self.log.info("Vehicle: HV ready, S2 closed (CE B → C)")
            await self.mcu({"cmd": "set_ce", "state": "C"})
            await self.bsp_shows("CeState", "C")
        elif (
            when == "after" and name == "PowerDeliveryReq" and body.get("ChargeProgress") == "Stop"
        ):
            # the vehicle opens S2 once the charger has opened its contactor
            await self.bsp_shows("PowerOnAllowed", False)
            self.log.info("Vehicle: S2 open (CE C → B)")
            await self.mcu({"cmd": "set_ce", "state": "B"})
            await self.bsp_shows("CeState", "B")

    # ------------------------------------------------------------------ acts
    async def boot(self) -> None:
        self.log.info("Act 1: the charger boots in %s", self.lay.dir)
        started = time.monotonic()
        self.facts.address = await asyncio.to_thread(self.stack.up)
        self.log.info("DBUS_SYSTEM_BUS_ADDRESS=%s", self.facts.address)
        try:
            await asyncio.to_thread(self.power.start)
        except PowerStageError as exc:
            raise DemoFailed(str(exc)) from None
        self.facts.ready_s = time.monotonic() - started
        for unit in UNITS:
            record = await self.see(f"{unit} starts", unit, _version(unit), BOOT_TIMEOUT_S)
            self.facts.versions.append(record.text.removesuffix(" starting"))
            if unit == BSP:
                await self.see("safety controller link up", BSP, "Safety controller link up")
                fw = await self.see("MCU firmware line", BSP, "Safety Controller Firmware: 0.2.3")
                self.facts.firmware = fw.text
            if unit == V2G:
                await self.see("ccy-v2g finds its TLS leaf", V2G, "Found valid leaf: ")
            await self.see(f"{unit} READY", unit, f"{unit} ready", BOOT_TIMEOUT_S)
        await self.see("ccy-evse sees the power stage", EVSE, "org.ccy.Profinet is on the bus")
        await self.see("ready to start charging", EVSE, "Ready to start charging")
        self.bus = await MessageBus(bus_address=self.facts.address).connect()
        self.bsp = BspClient(self.bus)

    async def plug_in(self) -> None:
        self.log.info("Act 2: a vehicle plugs in")
        self.log.info("Vehicle: plug in (ID connected, CE B)")
        await self.mcu({"cmd": "plug"})
        await self.see("ID connected", BSP, "ID change detected: not connected → connected")
        await self.see("CE A → B", BSP, "CE state change from A to B")
        await self.see("errors cleared at plug-in", EVSE, "All errors cleared")
        await self.see("session log started", EVSE, "SYS  Session logging started.")
        await self.see("session started", EVSE, "EVSE IEC Session Started: EVConnected")
        self.facts.session_id = str(await self.evse_prop("SessionId") or "")
        await self.start_vehicle()
        await self.see("dummy token published", AUTH, "Publishing new dummy token")
        await self.see("token received", AUTH, "Received new token")
        await self.see("token validation asked", AUTH, "Got validation request for token")
        await self.see("token accepted", AUTH, "Returning validation status: Accepted")
        await self.see("authorization given", AUTH, "Providing authorization to evse#1")
        await self.see("EIM authorization", EVSE, "EVSE IEC EIM Authorization received")
        await self.see("transaction started", EVSE, "EVSE IEC Transaction Started")
        await self.see("prepare charging", EVSE, "Charger state: Wait for Auth->PrepareCharging")
        self.facts.transaction_id = str(await self.evse_prop("TransactionId") or "")

    async def start_vehicle(self) -> None:
        try:
            port = await _stack_sdp_port(self.lay.dir)
        except EvError as exc:
            raise DemoFailed(str(exc)) from None
        ev_log = logging.getLogger("ccy-sim.demo.vehicle")
        ev_log.propagate = False
        handler = logging.FileHandler(self.lay.log_dir / "ccy-sim-ev.transcript", encoding="utf-8")
        handler.setFormatter(JournalLineFormatter("ccy-sim-ev"))
        ev_log.addHandler(handler)
        ev_log.setLevel(logging.INFO)
        self.vehicle = DemoVehicle(demo_options(self.lay.dir, port), ev_log, self.wiring)
        self.vehicle_task = asyncio.get_running_loop().create_task(self.vehicle.run())

    async def v2g_session(self) -> None:
        self.log.info("Act 3: SDP, TLS 1.3 and ISO 15118-20 with the MCS service")
        await self.see("SDP request", V2G, "Got SDP request from ")
        await self.see("TCP connection", V2G, "Incoming connection from ")
        await self.see("TLS 1.3", NARRATOR, re.compile(r"Vehicle: connected to .* over TLSv1\.3"))
        await self.see("protocol negotiated", V2G, "EVSE ISO V2G SupportedAppProtocolRes")
        await self.see("EVCCID redacted", V2G, "Received session setup with evccid: [redacted]")
        await self.see("V2G session created", V2G, "New session created with session_id: ")
        await self.see("authorization (EIM)", V2G, "EVSE ISO V2G AuthorizationRes")
        await self.see("service discovery", V2G, "EVSE ISO V2G ServiceDiscoveryRes")
        await self.see("service detail", V2G, "EVSE ISO V2G ServiceDetailRes")
        await self.see(
            "MCS service selected",
            V2G,
            "Selected MCS service parameters: control mode: Dynamic, "
            "mobility needs mode: ProvidedByEvcc",
        )
        await self.see("charge parameters", V2G, "CAR ISO V2G DcChargeParameterDiscoveryReq")
        await self.see("EV maximum limits", EVSE, "Received EV maximum limits: ")
        await self.see("schedule exchanged", V2G, "EVSE ISO V2G ScheduleExchangeRes")

    async def charge(self) -> None:
        self.log.info("Act 4: cable check, precharge, power delivery, charge loops")
        await self.see("CE B → C (HV ready)", BSP, "CE state change from B to C")
        await self.see("car requests power", EVSE, "CAR IEC Event CarRequestedPower")
        await self.see("cable check requested", V2G, "CAR ISO V2G DcCableCheckReq")
        await self.see("cable check starts", EVSE, "EVSE ISO Start cable check...")
        await self.see(
            "contactor close asked", BSP, "Allow power on: request to CLOSE the contactor"
        )
        await self.see("power on", EVSE, "EVSE IEC Event PowerOn")
        await self.see("cable check voltage", EVSE, "CableCheck: Using ")
        await self.see(
            "power supply on for cable check",
            EVSE,
            "EVSE IEC DC power supply: switch ON called, ChargingPhase: CableCheck",
        )
        await self.see("isolation measured", EVSE, "EVSE IEC Isolation measurement Ok")
        await self.see("precharge requested", V2G, "CAR ISO V2G DcPreChargeReq")
        await self.see(
            "precharge: supply on", EVSE, "EVSE IEC DC power supply: switch ON in export mode"
        )
        await self.see("power delivery requested", V2G, "CAR ISO V2G PowerDeliveryReq")
        await self.see("power delivery answered", V2G, "EVSE ISO V2G PowerDeliveryRes")
        await self.see("first charge loop", V2G, "CAR ISO V2G DcChargeLoopReq")
        await self.see("charging", EVSE, "EVSE IEC Charger state: PrepareCharging->Charging")
        await self.see("timing statistics", EVSE, "Timing statistics (Plugin to CurrentDemand)")
        for phase in (
            "ConnSetup | ",
            "CableCheck | ",
            "PrepareCharging | ",
            "Total duration all phases: ",
        ):
            record = await self.see(f"timing: {phase.split()[0]}", EVSE, phase)
            self.facts.timing.append(record.text)
        await self.see("HLC limits", EVSE, "EVSE ISO Change HLC Limits: ")
        for n in range(1, LOOPS_BEFORE_FAULT + 1):
            await self.see(f"charge loop {n} answered", V2G, "EVSE ISO V2G DcChargeLoopRes")

    async def power_stage_fault(self) -> None:
        assert self.bus is not None
        self.log.info("Act 5: the power stage fails (supply fault)")
        self.log.info("Power stage: supply fault injected")
        try:
            await fault(self.bus, "Inject", "supply")
        except PowerStageError as exc:
            raise DemoFailed(str(exc)) from None
        injected = (
            await self.see("fault injected", NARRATOR, "Power stage: supply fault injected")
        ).seconds
        await self.see("power stage raises SupplyFault", PROFINET, "Error raised SupplyFault/")
        # Power first, records and notifications after: ccy-evse's stop comes before its
        # error line (the seed's EVerest logs the error first).
        stop = await self.see("ccy-evse stops", EVSE, "Stopping (Terminate): ")
        self.facts.fault_to_stop_ms = (stop.seconds - injected) * 1000
        tx = await self.see("transaction finished", EVSE, "EVSE IEC Transaction Finished: ")
        self.facts.transaction_line = tx.text
        await self.see("faulted", EVSE, "EVSE IEC Charger state: Charging->Faulted")
        await self.see(
            "Error raised EVSEManager: connector", EVSE, "Error raised EVSEManager: connector"
        )
        await self.see("power supply off", EVSE, "EVSE IEC DC power supply OFF")
        opened = await self.see(
            "contactor open asked", BSP, "Allow power on: request to OPEN the contactor"
        )
        self.facts.fault_to_open_ms = (opened.seconds - injected) * 1000
        await self.see("power off", EVSE, "EVSE IEC Event PowerOff")
        await self.see(
            "ccy-profinet: Error raised EVSEManager: connector",
            PROFINET,
            "Error raised EVSEManager: connector",
        )
        await self.see("vehicle stops power delivery", V2G, "CAR ISO V2G PowerDeliveryReq")
        await self.see("CE C → B", BSP, "CE state change from C to B")
        await self.see("car requests stop", EVSE, "CAR IEC Event CarRequestedStopPower")
        await self.see("welding detection", V2G, "CAR ISO V2G DcWeldingDetectionReq")
        await self.see("welding detection answered", V2G, "EVSE ISO V2G DcWeldingDetectionRes")
        await self.see("session stop", V2G, "CAR ISO V2G SessionStopReq")
        await self.see("session stop answered", V2G, "EVSE ISO V2G SessionStopRes")
        assert self.vehicle_task is not None and self.vehicle is not None
        try:
            result = await asyncio.wait_for(self.vehicle_task, STEP_TIMEOUT_S)
        except EvError as exc:
            raise StepMissing("the vehicle's session ends", str(exc)) from None
        except TimeoutError:
            raise StepMissing("the vehicle's session ends", "still running") from None
        if result.outcome != "completed":
            raise StepMissing("the vehicle's session ends", result.outcome)
        self.facts.v2g_session = result.session_id
        self.facts.tls = f"{self.vehicle.tls_version} {self.vehicle.tls_cipher}".strip()
        self.facts.loop_ms = list(self.vehicle.loop_ms)

    async def unplug(self) -> None:
        assert self.bus is not None
        self.log.info("Act 6: the vehicle unplugs")
        self.log.info("Vehicle: unplug")
        await self.mcu({"cmd": "unplug"})
        await self.see("ID not connected", BSP, "ID change detected: connected → not connected")
        await self.see("CE B → A", BSP, "CE state change from B to A")
        await self.see("car unplugged", EVSE, "CAR IEC Event CarUnplugged")
        await self.see("finished", EVSE, "EVSE IEC Charger state: Faulted->Finished")
        await self.see("session finished", EVSE, "EVSE IEC Session Finished")
        await self.see("session log stopped", EVSE, "SYS  Session logging stopped.")
        self.log.info("Power stage: supply back")
        try:
            await fault(self.bus, "Clear", "supply")
        except PowerStageError as exc:
            raise DemoFailed(str(exc)) from None
        await self.see("SupplyFault cleared", PROFINET, "Error cleared SupplyFault/")

    async def emergency_stop(self) -> None:
        self.log.info("Act 7: the emergency input")
        self.log.info("Vehicle: plug in")
        await self.mcu({"cmd": "plug"})
        await self.see("second session", EVSE, "EVSE IEC Session Started: EVConnected")
        await self.see("second authorization", EVSE, "EVSE IEC Transaction Started")
        self.log.info("Emergency input opens")
        await self.mcu({"cmd": "estop", "reason": "EmergencyInput"})
        opened = await self.see("emergency input open", NARRATOR, "Emergency input opens")
        await self.see("E-stop reported", BSP, "Emergency Stop: EmergencyInput")
        await self.see("E-stop error", BSP, "Error raised EmergencyStop/EmergencyInput")
        stop = await self.see("ccy-evse emergency stop", EVSE, "Stopping (EmergencyShutdown): ")
        self.facts.estop_to_stop_ms = (stop.seconds - opened.seconds) * 1000
        self.log.info("Emergency input closes; the MCU keeps its safe state until a reset")
        await self.mcu({"cmd": "estop", "reason": "NoStop"})
        await self.see("E-stop released", BSP, "Emergency Stop released")
        self.log.info("Vehicle: unplug")
        await self.mcu({"cmd": "unplug"})
        await self.see(
            "leaving safe state", BSP, "Leaving safe state: resetting the safety controller"
        )
        await self.see("second session finished", EVSE, "EVSE IEC Session Finished")
        await self.see("idle again", EVSE, "EVSE IEC Charger state: Finished->Idle")
        await self.see("link up again", BSP, "Safety controller link up")

    async def story(self) -> None:
        await self.boot()
        await self.plug_in()
        await self.v2g_session()
        await self.charge()
        await self.power_stage_fault()
        await self.unplug()
        await self.emergency_stop()
        restarted = [u for u in UNITS if self.stack.restarts(u)]
        if restarted:
            raise StepMissing("no unit restarted", f"{', '.join(restarted)} restarted")
        self.log.info("Story complete")

    async def run(self) -> None:
        started = time.monotonic()
        try:
            await self.story()
        finally:
            task = self.vehicle_task
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                await asyncio.sleep(SETTLE_S)  # the units see the vehicle leave, then stop
            if self.bus is not None:
                self.bus.disconnect()
            self.log.info("Stopping the simulated charger")
            await asyncio.to_thread(self.power.stop_before_stack)
            await asyncio.to_thread(self.stack.down)
            self.power.kill_leftover()
            self.facts.duration_s = time.monotonic() - started


def _narrator(layout: Layout) -> logging.Logger:
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger("ccy-sim.demo")
    log.propagate = False
    for old in list(log.handlers):
        log.removeHandler(old)
        old.close()
    handler = logging.FileHandler(layout.log_dir / f"{NARRATOR}.log", encoding="utf-8")
    handler.setFormatter(JournalLineFormatter(NARRATOR))
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
    target = directory or Path(tempfile.mkdtemp(prefix="ccy-demo-"))
    if (target / "log").is_dir() and any((target / "log").iterdir()):
        print(
            f"ccy-sim demo: {target} holds an earlier run ({target / 'log'}); "
            "choose a new folder or remove it"
        )
        return 1
    demo = Demo(target)
    status = 0
    failure = ""
    try:
        asyncio.run(demo.run())
    except StepMissing as exc:
        failure = f"step '{exc.step}' did not happen: {exc.detail}"
    except (DemoFailed, StackError) as exc:
        failure = str(exc)
    if failure:
        demo.log.error("Demo failed: %s", failure)
        status = 1
    for line in merged_journal(demo.lay.log_dir):
        print(line)
    for line in summary(demo.facts):
        print(line)
    print("demo: OK" if status == 0 else f"demo: FAILED at {failure}")
    return status
