# SPDX-License-Identifier: Apache-2.0
"""The bus side of the session's ports: org.ccy.Evse1 (EvsePort) and org.ccy.Auth1 (AuthPort).

Thin: each port method is one method call with the member name from the callee's contract
module (ccy.evse.contract.Method, ccy.auth.contract.Method) and the signature of its XML. A
reply ``org.ccy.Error.<Kind>`` becomes EvseRefused(kind); no owner, a disconnected bus or no
answer within ``timeout_s`` becomes EvseUnavailable. The DC_ChargeLoop hot path is one
``bus.call`` with a prebuilt signature and no introspection.
"""

import asyncio
import base64
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.evse import contract as evse
from ccy.evse.contract import (
    AuthorizationStatus,
    ChargeProgress,
    ChargingSession,
    ControlMode,
    IsolationStatus,
    Method,
    Notification,
    Processing,
)
from ccy.runtime.bus import ERROR_PREFIX
from ccy.v2g.session.port import (
    CableCheckAnswer,
    ChargeLoopAnswer,
    ChargeLoopRequest,
    ContractChain,
    EvChargeLimits,
    EvseLimits,
    EvseRefused,
    EvseUnavailable,
    ScheduleEntry,
    VoltageAnswer,
)

_UNAVAILABLE = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.UnknownObject",
}


class BusPeer:
    """One callee: bus name, object path, interface; ``call`` raises the port errors."""

    def __init__(
        self, bus: MessageBus, name: str, path: str, interface: str, timeout_s: float
    ) -> None:
        self.bus, self.name, self.path, self.interface = bus, name, path, interface
        self.timeout_s = timeout_s

    async def call(
        self, member: str, signature: str = "", body: list[Any] | None = None
    ) -> list[Any]:
        message = Message(
            destination=str(self.name),
            path=str(self.path),
            interface=str(self.interface),
            member=str(member),
            signature=signature,
            body=body or [],
        )
        try:
            async with asyncio.timeout(self.timeout_s):  # no task per call, as wait_for makes
                reply = await self.bus.call(message)
        except TimeoutError as exc:
            raise EvseUnavailable(
                f"{self.name} did not answer {member} within {self.timeout_s} s"
            ) from exc
        except (OSError, EOFError) as exc:
            raise EvseUnavailable(f"{member}: the bus connection failed: {exc}") from exc
        if reply is None:
            raise EvseUnavailable(f"{member}: no reply")
        if reply.message_type is MessageType.ERROR:
            error = str(reply.error_name)
            text = str(reply.body[0]) if reply.body else ""
            if error.startswith(ERROR_PREFIX):
                raise EvseRefused(error.removeprefix(ERROR_PREFIX), text)
            if error in _UNAVAILABLE:
                raise EvseUnavailable(f"{self.name} is not available ({error}: {text})")
            raise EvseRefused(error, text)
        return list(reply.body)


def _d(value: float) -> float:
    return float(value)


class EvseClient:
    """EvsePort on org.ccy.Evse1 (dbus/org.ccy.Evse1.xml)."""

    def __init__(self, bus: MessageBus, timeout_s: float) -> None:
        self.peer = BusPeer(bus, evse.BUS_NAME, evse.OBJECT_PATH, evse.IFACE, timeout_s)

    async def bind_session(
        self, v2g_session_id: str, evccid: str, protocol: str
    ) -> tuple[str, str]:
        session_id, evse_id = await self.peer.call(
            Method.BIND_SESSION, "sss", [v2g_session_id, evccid, protocol]
        )
        return str(session_id), str(evse_id)

    async def authorization_status(self) -> AuthorizationStatus:
        (status,) = await self.peer.call(Method.AUTHORIZATION_STATUS)
        return AuthorizationStatus(status)

    async def charge_parameters(self, ev: EvChargeLimits) -> EvseLimits:
        values = [
            ev.max_voltage,
            ev.min_voltage,
            ev.max_current,
            ev.min_current,
            ev.max_power,
            ev.min_power,
        ]
        (limits,) = await self.peer.call(
            Method.CHARGE_PARAMETERS, "dddddd", [_d(v) for v in values]
        )
        return EvseLimits(*(float(v) for v in limits))

    async def schedule(
        self, control_mode: ControlMode, departure_time_s: float
    ) -> tuple[Processing, list[ScheduleEntry]]:
        processing, entries = await self.peer.call(
            Method.SCHEDULE, "sd", [str(control_mode), _d(departure_time_s)]
        )
        return Processing(processing), [(float(s), float(p)) for s, p in entries]

    async def cable_check(self) -> CableCheckAnswer:
        processing, isolation, notification = await self.peer.call(Method.CABLE_CHECK)
        return CableCheckAnswer(
            Processing(processing), IsolationStatus(isolation), Notification(notification)
        )

    async def pre_charge(self, target_voltage: float, target_current: float) -> VoltageAnswer:
        processing, voltage, notification = await self.peer.call(
            Method.PRE_CHARGE, "dd", [_d(target_voltage), _d(target_current)]
        )
        return VoltageAnswer(Processing(processing), float(voltage), Notification(notification))

    async def power_delivery(self, progress: ChargeProgress) -> Notification:
        (notification,) = await self.peer.call(Method.POWER_DELIVERY, "s", [str(progress)])
        return Notification(notification)

    async def charge_loop(self, request: ChargeLoopRequest) -> ChargeLoopAnswer:
        r = request
        (result,) = await self.peer.call(
            Method.CHARGE_LOOP,
            "ddddddd",
            [
                r.target_voltage,
                r.target_current,
                r.max_voltage,
                r.max_current,
                r.max_power,
                r.present_voltage,
                r.soc,
            ],
        )
        v, i, vlim, ilim, plim, maxv, maxi, maxp, minp, notification = result
        return ChargeLoopAnswer(
            float(v), float(i), bool(vlim), bool(ilim), bool(plim),
            float(maxv), float(maxi), float(maxp), float(minp), Notification(notification),
        )  # fmt: skip

    async def welding_detection(self) -> VoltageAnswer:
        processing, voltage, notification = await self.peer.call(Method.WELDING_DETECTION)
        return VoltageAnswer(Processing(processing), float(voltage), Notification(notification))

    async def session_stop(self, charging_session: ChargingSession) -> None:
        await self.peer.call(Method.SESSION_STOP, "s", [str(charging_session)])

    async def end_v2g_session(self, reason: str) -> None:
        await self.peer.call(Method.END_V2G_SESSION, "s", [reason])


def _pem(der: bytes) -> str:
    text = base64.encodebytes(der).decode().replace("\n", "")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def emaid_of(leaf_der: bytes) -> str:
    """The EMAID of a contract leaf: its subject CN ("" when it cannot be read)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(leaf_der)
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return ""
    return str(names[0].value) if names else ""


class AuthClient:
    """AuthPort on org.ccy.Auth1.ProvideToken (dbus/org.ccy.Auth1.xml); used only while
    org.ccy.Auth is on the bus. Token types and names from ccy.auth.contract."""

    def __init__(self, bus: MessageBus, timeout_s: float) -> None:
        from ccy.auth import contract as auth

        self._auth = auth
        self.peer = BusPeer(bus, auth.BUS_NAME, auth.OBJECT_PATH, auth.IFACE, timeout_s)

    async def _provide(self, token: str, token_type: str, chain: str) -> None:
        _hash, status, reason = await self.peer.call(
            self._auth.Method.PROVIDE_TOKEN, "sssais", [token, token_type, "", [], chain]
        )
        if status != "Pending":
            raise EvseRefused("NotPermitted", f"ccy-auth dropped the token ({status}: {reason})")

    async def provide_contract(self, session_id: str, contract: ContractChain) -> None:
        emaid = emaid_of(contract.leaf_der)
        if not emaid:
            raise EvseRefused("InvalidArgument", "the contract leaf has no readable CN (EMAID)")
        chain = _pem(contract.leaf_der) + "".join(_pem(c) for c in contract.sub_ca_der)
        await self._provide(emaid, str(self._auth.TokenType.PNC), chain)

    async def provide_evccid(self, session_id: str, evccid: str) -> None:
        await self._provide(evccid, str(self._auth.TokenType.AUTOCHARGE), "")


def auth_available() -> bool:
    """ccy-auth's contract module is installed (its XML is part of this build)."""
    import importlib.util

    return importlib.util.find_spec("ccy.auth.contract") is not None


__all__ = ["AuthClient", "EvseClient", "auth_available", "emaid_of"]
