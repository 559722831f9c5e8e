# SPDX-License-Identifier: Apache-2.0
"""The state machine's only view of ccy-evse and ccy-auth: two small async ports.

The session states never name a bus member: they call an :class:`EvsePort` (one method per
vehicle method of dbus/org.ccy.Evse1.xml, same arguments and answers) and, for Plug & Charge,
an optional :class:`AuthPort`. ``ccy.v2g.evse_client`` implements both on the bus; tests
drive the states with any object that implements the protocol (a test peer, never ccy-evse
itself mocked).

Every failure of a call is one of two named errors: :class:`EvseRefused` (ccy-evse answered
with an ``org.ccy.Error.*``) or :class:`EvseUnavailable` (ccy-evse is not on the bus, or did
not answer within the call timeout).
"""

import math
from dataclasses import dataclass
from typing import Protocol

from ccy.evse.contract import (
    AuthorizationStatus,
    ChargeProgress,
    ChargingSession,
    ControlMode,
    IsolationStatus,
    Notification,
    Processing,
)

NAN = math.nan


class EvsePortError(RuntimeError):
    """A call to ccy-evse failed (base class)."""


class EvseRefused(EvsePortError):
    """ccy-evse answered with a named error (``kind``: NotPermitted, InvalidArgument, ...)."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(f"{kind}: {text}")
        self.kind = kind
        self.text = text


class EvseUnavailable(EvsePortError):
    """ccy-evse is not on the bus or did not answer in time."""


@dataclass(frozen=True)
class EvChargeLimits:
    """DC_ChargeParameterDiscoveryReq's EV limits (V, A, W; NaN: not given)."""

    max_voltage: float
    min_voltage: float
    max_current: float
    min_current: float
    max_power: float
    min_power: float


@dataclass(frozen=True)
class EvseLimits:
    """Evse1.ChargeParameters' evse_limits (V, A, W)."""

    max_voltage: float
    min_voltage: float
    max_current: float
    min_current: float
    max_power: float
    min_power: float


@dataclass(frozen=True)
class CableCheckAnswer:
    processing: Processing
    isolation: IsolationStatus
    notification: Notification


@dataclass(frozen=True)
class VoltageAnswer:
    """PreCharge and WeldingDetection: processing, EVSEPresentVoltage (V), notification."""

    processing: Processing
    present_voltage: float
    notification: Notification


@dataclass(frozen=True)
class ChargeLoopRequest:
    """Evse1.ChargeLoop's arguments (NaN: not given / keep)."""

    target_voltage: float = NAN
    target_current: float = NAN
    max_voltage: float = NAN
    max_current: float = NAN
    max_power: float = NAN
    present_voltage: float = NAN
    soc: float = NAN


@dataclass(frozen=True)
class ChargeLoopAnswer:
    """Evse1.ChargeLoop's result struct (ddbbbdddds)."""

    present_voltage: float
    present_current: float
    voltage_limit_achieved: bool
    current_limit_achieved: bool
    power_limit_achieved: bool
    max_voltage: float
    max_current: float
    max_power: float
    min_power: float
    notification: Notification


ScheduleEntry = tuple[float, float]
"""(start, seconds from now; maximum power, W)."""


class EvsePort(Protocol):
    """ccy-evse's vehicle-session methods (dbus/org.ccy.Evse1.xml), as the states use them."""

    async def bind_session(
        self, v2g_session_id: str, evccid: str, protocol: str
    ) -> tuple[str, str]:
        """BindSession → (ccy-evse session UUID, EVSE ID). ``evccid`` is already redacted."""
        ...

    async def authorization_status(self) -> AuthorizationStatus: ...

    async def charge_parameters(self, ev: EvChargeLimits) -> EvseLimits: ...

    async def schedule(
        self, control_mode: ControlMode, departure_time_s: float
    ) -> tuple[Processing, list[ScheduleEntry]]: ...

    async def cable_check(self) -> CableCheckAnswer: ...

    async def pre_charge(self, target_voltage: float, target_current: float) -> VoltageAnswer: ...

    async def power_delivery(self, progress: ChargeProgress) -> Notification: ...

    async def charge_loop(self, request: ChargeLoopRequest) -> ChargeLoopAnswer: ...

    async def welding_detection(self) -> VoltageAnswer: ...

    async def session_stop(self, charging_session: ChargingSession) -> None: ...

    async def end_v2g_session(self, reason: str) -> None: ...


@dataclass(frozen=True)
class ContractChain:
    """A Plug & Charge contract from AuthorizationReq (DER certificates, leaf first)."""

    leaf_der: bytes
    sub_ca_der: tuple[bytes, ...]
    gen_challenge: bytes


class AuthPort(Protocol):
    """ccy-auth's token intake (Auth1.ProvideToken), used only when ccy-auth is present."""

    async def provide_contract(self, session_id: str, contract: ContractChain) -> None:
        """Push a Plug & Charge contract chain for ``session_id`` (ccy-evse's session)."""
        ...

    async def provide_evccid(self, session_id: str, evccid: str) -> None:
        """Push the EVCCID as an Autocharge token (clear value: ccy-auth redacts it)."""
        ...
