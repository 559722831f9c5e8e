# SPDX-License-Identifier: Apache-2.0
"""A stand-in org.ccy.Evse1 server for ccy-v2g's bus tests, until ccy-evse runs.

A test peer like a simulator, not a mock of the unit under test (ccy-v2g): it serves every
method, signal and property of dbus/org.ccy.Evse1.xml (its introspection is compared with the
XML) on org.ccy.Evse, answers the vehicle-session methods as a healthy charger would (EIM
authorization after one Ongoing, a cable check that finishes on the third call, precharge to
the EV's target, present values that follow the charge loop), and lets the operator methods
steer what the vehicle learns: Pause → Notification Pause, Resume → None, StopTransaction →
Terminate. Every call is appended to the file named by ``--calls`` as one line
``Member arg1 arg2 ...`` so a test can count them (one ChargeLoop per DC_ChargeLoopReq).

    python tests/bus/v2g_evse_peer.py --calls FILE     # prints READY once it owns the name
"""

import argparse
import asyncio
import math
import signal
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Annotated, Any

from dbus_fast import introspection as intr
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import BusType, PropertyAccess
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_property, method
from dbus_fast.service import signal as dbus_signal

from ccy.evse.contract import BUS_NAME, CONTRACT, IFACE, OBJECT_PATH
from ccy.runtime.contract_xml import add_enum_annotations

XML = Path(__file__).resolve().parents[2] / "dbus" / "org.ccy.Evse1.xml"
EVSE_ID = "DE*CCY*E12345*1"
LIMITS = [1250.0, 150.0, 3000.0, 0.0, 3_000_000.0, 0.0]

S = Annotated[str, DBusSignature("s")]
D = Annotated[float, DBusSignature("d")]
B = Annotated[bool, DBusSignature("b")]
AI = Annotated[list[int], DBusSignature("ai")]


def _out_names() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    iface = next(i for i in ET.parse(XML).getroot().iter("interface") if i.get("name") == IFACE)
    for m in iface.iter("method"):
        names[m.get("name", "")] = [
            a.get("name", "") for a in m.iter("arg") if a.get("direction") == "out"
        ]
    return names


class EvsePeer(ServiceInterface):
    def __init__(self, calls: Path) -> None:
        super().__init__(IFACE)
        self.calls = calls.open("a", buffering=1)
        self.session_id = ""
        self.notification = "None"
        self.auth_polls = 0
        self.cable_checks = 0
        self.voltage = 0.0
        self.current = 0.0
        self.out_names = _out_names()

    def _log(self, member: str, *args: Any) -> None:
        self.calls.write(" ".join([member, *(str(a) for a in args)]) + "\n")

    def introspect(self) -> intr.Interface:
        iface = super().introspect()
        for m in iface.methods:
            for arg, name in zip(m.out_args, self.out_names.get(m.name, []), strict=False):
                arg.name = name
        return add_enum_annotations(iface, CONTRACT)

    # ------------------------------------------------------------ vehicle session
    @method(name="BindSession")
    def bind_session(
        self, v2g_session_id: S, evccid: S, protocol: S
    ) -> Annotated[list[str], DBusSignature("ss")]:
        self._log("BindSession", v2g_session_id, evccid, protocol)
        if "[redacted] hash: " not in evccid:
            raise DBusError("org.ccy.Error.InvalidArgument", "the EVCCID must arrive redacted")
        self.session_id = self.session_id or str(uuid.uuid4())
        self.auth_polls = self.cable_checks = 0
        return [self.session_id, EVSE_ID]

    @method(name="AuthorizationStatus")
    def authorization_status(self) -> S:
        self._log("AuthorizationStatus")
        self.auth_polls += 1
        return "Ongoing" if self.auth_polls == 1 else "Accepted"

    @method(name="ChargeParameters")
    def charge_parameters(
        self, ev_max_voltage: D, ev_min_voltage: D, ev_max_current: D, ev_min_current: D,
        ev_max_power: D, ev_min_power: D,
    ) -> Annotated[list[float], DBusSignature("(dddddd)")]:  # fmt: skip
        self._log("ChargeParameters", ev_max_voltage, ev_max_current, ev_max_power)
        return list(LIMITS)

    @method(name="Schedule")
    def schedule(
        self, control_mode: S, departure_time_s: D
    ) -> Annotated[list[Any], DBusSignature("sa(dd)")]:
        self._log("Schedule", control_mode, departure_time_s)
        entries = [] if control_mode == "Dynamic" else [[0.0, 3_000_000.0], [3600.0, 1_000_000.0]]
        return ["Finished", entries]

    @method(name="CableCheck")
    def cable_check(self) -> Annotated[list[str], DBusSignature("sss")]:
        self._log("CableCheck")
        self.cable_checks += 1
        done = "Finished" if self.cable_checks >= 3 else "Ongoing"
        return [done, "Valid" if done == "Finished" else "Invalid", self.notification]

    @method(name="PreCharge")
    def pre_charge(
        self, ev_target_voltage: D, ev_target_current: D
    ) -> Annotated[list[Any], DBusSignature("sds")]:
        self._log("PreCharge", ev_target_voltage, ev_target_current)
        self.voltage = ev_target_voltage
        return ["Finished", self.voltage, self.notification]

    @method(name="PowerDelivery")
    def power_delivery(self, charge_progress: S) -> S:
        self._log("PowerDelivery", charge_progress)
        if charge_progress == "Stop":
            self.current = 0.0
        return self.notification

    @method(name="ChargeLoop")
    def charge_loop(
        self, ev_target_voltage: D, ev_target_current: D, ev_max_voltage: D, ev_max_current: D,
        ev_max_power: D, ev_present_voltage: D, soc: D,
    ) -> Annotated[list[Any], DBusSignature("(ddbbbdddds)")]:  # fmt: skip
        self._log("ChargeLoop", ev_target_current, ev_max_current, soc)
        wanted = ev_target_current if not math.isnan(ev_target_current) else ev_max_current
        self.current = (
            0.0 if self.notification == "Pause" or math.isnan(wanted) else min(wanted, 3000.0)
        )
        if not math.isnan(ev_present_voltage):
            self.voltage = ev_present_voltage
        return [
            self.voltage, self.current, False, False, False,
            1250.0, 3000.0, 3_000_000.0, 0.0, self.notification,
        ]  # fmt: skip

    @method(name="WeldingDetection")
    def welding_detection(self) -> Annotated[list[Any], DBusSignature("sds")]:
        self._log("WeldingDetection")
        self.voltage = max(0.0, self.voltage - 400.0)
        return ["Finished" if self.voltage < 60 else "Ongoing", self.voltage, self.notification]

    @method(name="SessionStop")
    def session_stop(self, charging_session: S) -> None:
        self._log("SessionStop", charging_session)
        self.notification = "None"

    @method(name="EndV2gSession")
    def end_v2g_session(self, reason: S) -> None:
        self._log("EndV2gSession", reason.replace(" ", "_"))

    # ------------------------------------------------------------ ccy-auth and operators
    @method(name="Authorize")
    def authorize(self, session_id: S, token: S, token_type: S) -> None:
        self._log("Authorize", session_id, token_type)

    @method(name="Deauthorize")
    def deauthorize(self, session_id: S, reason: S) -> None:
        self._log("Deauthorize", session_id)

    @method(name="SetReservation")
    def set_reservation(self, reservation_id: S, expires_at: D) -> None:
        self._log("SetReservation", reservation_id)

    @method(name="StopTransaction")
    def stop_transaction(self, reason: S) -> None:
        self._log("StopTransaction", reason)
        self.notification = "Terminate"

    @method(name="Enable")
    def enable(self, enabled: B) -> None:
        self._log("Enable", enabled)

    @method(name="Pause")
    def pause(self) -> None:
        self._log("Pause")
        self.notification = "Pause"

    @method(name="Resume")
    def resume(self) -> None:
        self._log("Resume")
        self.notification = "None"

    @method(name="SetExternalLimits")
    def set_external_limits(self, max_power: D, max_current: D, valid_for_s: D) -> None:
        self._log("SetExternalLimits", max_power, max_current, valid_for_s)

    @method(name="ListTransactions")
    def list_transactions(
        self, limit: Annotated[int, DBusSignature("u")]
    ) -> Annotated[list[Any], DBusSignature("a(sssddsd)")]:
        self._log("ListTransactions", limit)
        return []

    @method(name="ListErrors")
    def list_errors(
        self, since: D, limit: Annotated[int, DBusSignature("u")]
    ) -> Annotated[list[Any], DBusSignature("a(sssssdd)")]:
        self._log("ListErrors", since, limit)
        return []

    # ------------------------------------------------------------ signals (never sent here)
    @dbus_signal(name="SessionStarted")
    def session_started(self, session_id: str) -> S:
        return session_id

    @dbus_signal(name="SessionFinished")
    def session_finished(
        self, session_id: str, reason: str
    ) -> Annotated[list[str], DBusSignature("ss")]:
        return [session_id, reason]

    @dbus_signal(name="TransactionStarted")
    def transaction_started(
        self, a: str, b: str, c: str
    ) -> Annotated[list[str], DBusSignature("sss")]:
        return [a, b, c]

    @dbus_signal(name="TransactionFinished")
    def transaction_finished(
        self, a: str, b: str, c: float
    ) -> Annotated[list[Any], DBusSignature("ssd")]:
        return [a, b, c]

    # ------------------------------------------------------------ properties
    @dbus_property(access=PropertyAccess.READ, name="State")
    def state(self) -> S:
        return (
            "Charging" if self.current > 0 else ("PrepareCharging" if self.session_id else "Idle")
        )

    @dbus_property(access=PropertyAccess.READ, name="Enabled")
    def enabled(self) -> B:
        return True

    @dbus_property(access=PropertyAccess.READ, name="WaitingFor")
    def waiting_for(self) -> Annotated[list[str], DBusSignature("as")]:
        return []

    @dbus_property(access=PropertyAccess.READ, name="SessionId")
    def session_id_prop(self) -> S:
        return self.session_id

    @dbus_property(access=PropertyAccess.READ, name="TransactionId")
    def transaction_id(self) -> S:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="Authorized")
    def authorized(self) -> B:
        return self.auth_polls > 1

    @dbus_property(access=PropertyAccess.READ, name="ReservationId")
    def reservation_id(self) -> S:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="EvseId")
    def evse_id(self) -> S:
        return EVSE_ID

    @dbus_property(access=PropertyAccess.READ, name="ConnectorLimits")
    def connector_limits(self) -> Annotated[list[float], DBusSignature("(ddddd)")]:
        return LIMITS[:5]

    @dbus_property(access=PropertyAccess.READ, name="EffectiveLimits")
    def effective_limits(self) -> Annotated[list[float], DBusSignature("(ddddd)")]:
        return LIMITS[:5]

    @dbus_property(access=PropertyAccess.READ, name="ExternalLimits")
    def external_limits(self) -> Annotated[list[float], DBusSignature("(ddd)")]:
        return [math.nan, math.nan, 0.0]

    @dbus_property(access=PropertyAccess.READ, name="PresentVoltage")
    def present_voltage(self) -> D:
        return self.voltage

    @dbus_property(access=PropertyAccess.READ, name="PresentCurrent")
    def present_current(self) -> D:
        return self.current

    @dbus_property(access=PropertyAccess.READ, name="TargetVoltage")
    def target_voltage(self) -> D:
        return self.voltage

    @dbus_property(access=PropertyAccess.READ, name="TargetCurrent")
    def target_current(self) -> D:
        return self.current

    @dbus_property(access=PropertyAccess.READ, name="EnergyDelivered")
    def energy_delivered(self) -> D:
        return math.nan

    @dbus_property(access=PropertyAccess.READ, name="Notification")
    def notification_prop(self) -> S:
        return self.notification

    @dbus_property(access=PropertyAccess.READ, name="Timing")
    def timing(self) -> Annotated[dict[str, float], DBusSignature("a{sd}")]:
        return {}


async def serve(calls: Path) -> None:
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    bus.export(OBJECT_PATH, EvsePeer(calls))
    await bus.request_name(BUS_NAME)
    print("READY", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    bus.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, required=True)
    asyncio.run(serve(parser.parse_args().calls))
    sys.exit(0)


if __name__ == "__main__":
    main()
