# SPDX-License-Identifier: Apache-2.0
"""Test support for the SECC session states: an EV driver on our codec and an Evse1 peer.

``EvsePeer`` is ccy-evse's side of the EvsePort as a test peer: it answers what the test
scripts (authorization decisions, cable-check steps, notifications) and records every call,
so a test can assert the one-call-per-request rule. ``Ev`` plays the vehicle: it builds the
request documents of a -20 DC session in the JSON view, encodes them with our codec, hands
the bytes to a SessionHandler as the transport would, and decodes the answer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ccy.evse.contract import (
    AuthorizationStatus,
    ChargeProgress,
    ChargingSession,
    ControlMode,
    IsolationStatus,
    Notification,
    Processing,
)
from ccy.v2g.exi import Namespace, decode, encode
from ccy.v2g.server import PeerInfo, Reply
from ccy.v2g.session import (
    CableCheckAnswer,
    ChargeLoopAnswer,
    ChargeLoopRequest,
    ContractChain,
    EvChargeLimits,
    EvseLimits,
    EvseRefused,
    SessionHandler,
    SessionManager,
    SessionSettings,
    VoltageAnswer,
)

T = TypeVar("T")
PT = {Namespace.SAP: 0x8001, Namespace.CM: 0x8002, Namespace.DC: 0x8004}
EVCCID = "WMIV1234567890ABCDEX"
EVSE_ID = "DE*CCY*E12345*1"
EVSE_SESSION = "6f1c7d2e-0000-4000-8000-000000000001"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def rn(value: float) -> dict[str, int]:
    return {"Exponent": 0, "Value": int(value)}


def num(r: dict[str, Any]) -> float:
    return float(r["Value"]) * 10.0 ** int(r["Exponent"])


@dataclass
class EvsePeer:
    """ccy-evse's vehicle-session methods with scripted answers and a call log."""

    auth: list[AuthorizationStatus] = field(default_factory=lambda: [AuthorizationStatus.ACCEPTED])
    cable_check_steps: int = 1
    isolation: IsolationStatus = IsolationStatus.VALID
    notification: Notification = Notification.NONE
    schedule_ongoing: int = 0
    schedule_entries: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 150000.0)])
    present_voltage: float = 400.0
    bind_error: Exception | None = None
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def bind_session(
        self, v2g_session_id: str, evccid: str, protocol: str
    ) -> tuple[str, str]:
        self.calls.append(("BindSession", (v2g_session_id, evccid, protocol)))
        if self.bind_error is not None:
            raise self.bind_error
        return EVSE_SESSION, EVSE_ID

    async def authorization_status(self) -> AuthorizationStatus:
        self.calls.append(("AuthorizationStatus", ()))
        return self.auth.pop(0) if len(self.auth) > 1 else self.auth[0]

    async def charge_parameters(self, ev: EvChargeLimits) -> EvseLimits:
        self.calls.append(("ChargeParameters", (ev,)))
        return EvseLimits(1250.0, 150.0, 3000.0, 0.0, 3_000_000.0, 0.0)

    async def schedule(
        self, control_mode: ControlMode, departure_time_s: float
    ) -> tuple[Processing, list[tuple[float, float]]]:
        self.calls.append(("Schedule", (control_mode, departure_time_s)))
        if self.schedule_ongoing > 0:
            self.schedule_ongoing -= 1
            return Processing.ONGOING, []
        if control_mode is ControlMode.DYNAMIC:
            return Processing.FINISHED, []
        return Processing.FINISHED, list(self.schedule_entries)

    async def cable_check(self) -> CableCheckAnswer:
        self.calls.append(("CableCheck", ()))
        self.cable_check_steps -= 1
        done = Processing.FINISHED if self.cable_check_steps <= 0 else Processing.ONGOING
        return CableCheckAnswer(done, self.isolation, self.notification)

    async def pre_charge(self, target_voltage: float, target_current: float) -> VoltageAnswer:
        self.calls.append(("PreCharge", (target_voltage, target_current)))
        return VoltageAnswer(Processing.FINISHED, target_voltage, self.notification)

    async def power_delivery(self, progress: ChargeProgress) -> Notification:
        self.calls.append(("PowerDelivery", (progress,)))
        return self.notification

    async def charge_loop(self, request: ChargeLoopRequest) -> ChargeLoopAnswer:
        self.calls.append(("ChargeLoop", (request,)))
        current = 0.0 if math.isnan(request.target_current) else request.target_current
        return ChargeLoopAnswer(
            self.present_voltage, current, False, False, False,
            1250.0, 3000.0, 3_000_000.0, 0.0, self.notification,
        )  # fmt: skip

    async def welding_detection(self) -> VoltageAnswer:
        self.calls.append(("WeldingDetection", ()))
        return VoltageAnswer(Processing.FINISHED, 20.0, self.notification)

    async def session_stop(self, charging_session: ChargingSession) -> None:
        self.calls.append(("SessionStop", (charging_session,)))

    async def end_v2g_session(self, reason: str) -> None:
        self.calls.append(("EndV2gSession", (reason,)))


class RefusingEvse(EvsePeer):
    """An Evse1 peer that refuses one method with a named error."""

    def __init__(self, method: str, kind: str = "NotPermitted") -> None:
        super().__init__()
        self.method, self.kind = method, kind

    async def cable_check(self) -> CableCheckAnswer:
        if self.method == "CableCheck":
            self.calls.append(("CableCheck", ()))
            raise EvseRefused(self.kind, "refused by the test peer")
        return await super().cable_check()

    async def power_delivery(self, progress: ChargeProgress) -> Notification:
        if self.method == "PowerDelivery":
            self.calls.append(("PowerDelivery", (progress,)))
            raise EvseRefused(self.kind, "refused by the test peer")
        return await super().power_delivery(progress)


@dataclass
class AuthPeer:
    """ccy-auth's ProvideToken as a test peer (records what it was given)."""

    contracts: list[tuple[str, ContractChain]] = field(default_factory=list)
    evccids: list[tuple[str, str]] = field(default_factory=list)

    async def provide_contract(self, session_id: str, contract: ContractChain) -> None:
        self.contracts.append((session_id, contract))

    async def provide_evccid(self, session_id: str, evccid: str) -> None:
        self.evccids.append((session_id, evccid))


def peer(tls: bool = False, cert: bytes | None = None) -> PeerInfo:
    return PeerInfo("::1", 50000, tls, cert, 1)


@dataclass
class Answered:
    name: str
    body: dict[str, Any]
    close: bool

    @property
    def code(self) -> str:
        return str(self.body["ResponseCode"])


class Ev:
    """The vehicle: requests in the JSON view through our codec into one SessionHandler."""

    def __init__(self, handler: SessionHandler) -> None:
        self.handler = handler
        self.session_id = "0000000000000000"
        self.closed = False

    async def send(self, ns: Namespace, name: str, body: dict[str, Any]) -> Answered:
        if ns is not Namespace.SAP:
            body = {"Header": {"SessionID": self.session_id, "TimeStamp": 1725456327}, **body}
        reply = await self.handler.on_message(PT[ns], encode(ns, {name: body}))
        assert isinstance(reply, Reply), f"{name}: no answer (connection closed)"
        assert reply.payload_type in (None, PT[ns])
        ((res_name, res_body),) = decode(ns, reply.payload).items()
        if ns is not Namespace.SAP and name == "SessionSetupReq":
            self.session_id = res_body["Header"]["SessionID"]
        self.closed = reply.close_after
        return Answered(res_name, res_body, reply.close_after)

    async def raw(self, payload_type: int, payload: bytes) -> Reply | bytes | None:
        return await self.handler.on_message(payload_type, payload)

    # ------------------------------------------------------------ the -20 DC requests
    async def sap(self, entries: list[dict[str, Any]] | None = None) -> Answered:
        if entries is None:
            entries = [dc_protocol()]
        return await self.send(Namespace.SAP, "supportedAppProtocolReq", {"AppProtocol": entries})

    async def session_setup(self, evccid: str = EVCCID) -> Answered:
        return await self.send(Namespace.CM, "SessionSetupReq", {"EVCCID": evccid})

    async def authorization_setup(self) -> Answered:
        return await self.send(Namespace.CM, "AuthorizationSetupReq", {})

    async def authorization_eim(self) -> Answered:
        body = {"SelectedAuthorizationService": "EIM", "EIM_AReqAuthorizationMode": {}}
        return await self.send(Namespace.CM, "AuthorizationReq", body)

    async def service_discovery(self, ids: list[int] | None = None) -> Answered:
        body: dict[str, Any] = {}
        if ids is not None:
            body["SupportedServiceIDs"] = {"ServiceID": ids}
        return await self.send(Namespace.CM, "ServiceDiscoveryReq", body)

    async def service_detail(self, service_id: int) -> Answered:
        return await self.send(Namespace.CM, "ServiceDetailReq", {"ServiceID": service_id})

    async def service_selection(self, service_id: int, set_id: int) -> Answered:
        body = {
            "SelectedEnergyTransferService": {"ServiceID": service_id, "ParameterSetID": set_id}
        }
        return await self.send(Namespace.CM, "ServiceSelectionReq", body)

    async def charge_parameter_discovery(self) -> Answered:
        mode = {
            "EVMaximumChargePower": rn(3000) | {"Exponent": 3},
            "EVMinimumChargePower": rn(100),
            "EVMaximumChargeCurrent": rn(3000),
            "EVMinimumChargeCurrent": rn(10),
            "EVMaximumVoltage": rn(1000),
            "EVMinimumVoltage": rn(200),
        }
        body = {"DC_CPDReqEnergyTransferMode": mode}
        return await self.send(Namespace.DC, "DC_ChargeParameterDiscoveryReq", body)

    async def schedule_exchange(self, mode: ControlMode, departure: int | None = None) -> Answered:
        if mode is ControlMode.DYNAMIC:
            req: dict[str, Any] = {
                "EVTargetEnergyRequest": rn(40) | {"Exponent": 3},
                "EVMaximumEnergyRequest": rn(60) | {"Exponent": 3},
                "EVMinimumEnergyRequest": rn(1),
            }
            req = {"DepartureTime": 7200 if departure is None else departure, **req}
            body = {"MaximumSupportingPoints": 1024, "Dynamic_SEReqControlMode": req}
        else:
            req = {
                "EVTargetEnergyRequest": rn(10) | {"Exponent": 3},
                "EVMaximumEnergyRequest": rn(20) | {"Exponent": 3},
                "EVMinimumEnergyRequest": rn(5),
            }
            if departure is not None:
                req = {"DepartureTime": departure, **req}
            body = {"MaximumSupportingPoints": 24, "Scheduled_SEReqControlMode": req}
        return await self.send(Namespace.CM, "ScheduleExchangeReq", body)

    async def cable_check(self) -> Answered:
        return await self.send(Namespace.DC, "DC_CableCheckReq", {})

    async def pre_charge(self, volts: float = 400, processing: str = "Ongoing") -> Answered:
        body = {
            "EVProcessing": processing,
            "EVPresentVoltage": rn(volts),
            "EVTargetVoltage": rn(volts),
        }
        return await self.send(Namespace.DC, "DC_PreChargeReq", body)

    async def power_delivery(self, progress: str, processing: str = "Finished") -> Answered:
        body = {"EVProcessing": processing, "ChargeProgress": progress}
        return await self.send(Namespace.CM, "PowerDeliveryReq", body)

    async def charge_loop(self, mode: ControlMode, amps: float = 100, soc: int = 50) -> Answered:
        if mode is ControlMode.SCHEDULED:
            element = "Scheduled_DC_CLReqControlMode"
            control: dict[str, Any] = {"EVTargetCurrent": rn(amps), "EVTargetVoltage": rn(800)}
        else:
            element = "Dynamic_DC_CLReqControlMode"
            control = {
                "EVTargetEnergyRequest": rn(40) | {"Exponent": 3},
                "EVMaximumEnergyRequest": rn(60) | {"Exponent": 3},
                "EVMinimumEnergyRequest": rn(1),
                "EVMaximumChargePower": rn(3000) | {"Exponent": 3},
                "EVMinimumChargePower": rn(0),
                "EVMaximumChargeCurrent": rn(amps),
                "EVMaximumVoltage": rn(1000),
                "EVMinimumVoltage": rn(200),
            }
        body = {
            "DisplayParameters": {"PresentSOC": soc, "ChargingComplete": False},
            "MeterInfoRequested": False,
            "EVPresentVoltage": rn(780),
            element: control,
        }
        return await self.send(Namespace.DC, "DC_ChargeLoopReq", body)

    async def welding_detection(self, processing: str = "Ongoing") -> Answered:
        body = {"EVProcessing": processing}
        return await self.send(Namespace.DC, "DC_WeldingDetectionReq", body)

    async def session_stop(self, kind: str = "Terminate") -> Answered:
        return await self.send(Namespace.CM, "SessionStopReq", {"ChargingSession": kind})

    # ------------------------------------------------------------ phases
    async def through_authorization(self) -> None:
        assert (await self.sap()).code == "OK_SuccessfulNegotiation"
        assert (await self.session_setup()).code == "OK_NewSessionEstablished"
        assert (await self.authorization_setup()).code == "OK"
        answer = await self.authorization_eim()
        assert (answer.code, answer.body["EVSEProcessing"]) == ("OK", "Finished")

    async def through_selection(
        self, mode: ControlMode = ControlMode.DYNAMIC, service: int = 8
    ) -> None:
        await self.through_authorization()
        assert (await self.service_discovery()).code == "OK"
        detail = await self.service_detail(service)
        wanted = 2 if mode is ControlMode.DYNAMIC else 1
        for pset in detail.body["ServiceParameterList"]["ParameterSet"]:
            params = {p["Name"]: p["intValue"] for p in pset["Parameter"]}
            if params["ControlMode"] == wanted:
                assert (await self.service_selection(service, pset["ParameterSetID"])).code == "OK"
                return
        raise AssertionError(f"no parameter set with control mode {mode}")

    async def through_precharge(self, mode: ControlMode = ControlMode.DYNAMIC) -> None:
        await self.through_selection(mode)
        assert (await self.charge_parameter_discovery()).code == "OK"
        exchange = await self.schedule_exchange(mode)
        assert (exchange.code, exchange.body["EVSEProcessing"]) == ("OK", "Finished")
        while (await self.cable_check()).body["EVSEProcessing"] == "Ongoing":
            pass
        assert (await self.pre_charge()).code == "OK"

    async def through_charging(self, mode: ControlMode = ControlMode.DYNAMIC) -> None:
        await self.through_precharge(mode)
        assert (await self.power_delivery("Start")).code == "OK"


def dc_protocol(priority: int = 1, minor: int = 0, schema: int = 1) -> dict[str, Any]:
    return {
        "ProtocolNamespace": "urn:iso:std:iso:15118:-20:DC",
        "VersionNumberMajor": 1,
        "VersionNumberMinor": minor,
        "SchemaID": schema,
        "Priority": priority,
    }


def iso2_protocol(priority: int = 1, schema: int = 2) -> dict[str, Any]:
    return {
        "ProtocolNamespace": "urn:iso:15118:2:2013:MsgDef",
        "VersionNumberMajor": 2,
        "VersionNumberMinor": 0,
        "SchemaID": schema,
        "Priority": priority,
    }


@dataclass
class Clock:
    """A monotonic clock the test moves."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    evse: EvsePeer | None = None,
    settings: SessionSettings | None = None,
    *,
    auth: AuthPeer | None = None,
    tls: bool = False,
    cert: bytes | None = None,
    clock: Clock | None = None,
) -> tuple[SessionManager, Ev, EvsePeer]:
    evse = evse or EvsePeer()
    manager = SessionManager(
        settings or SessionSettings(),
        evse,
        auth,
        monotonic=clock or Clock(),
        redact=lambda value: f"[redacted] hash: {abs(hash(value)) % 10**15:015d}",
    )
    return manager, Ev(manager.handler_factory(peer(tls, cert))), evse
