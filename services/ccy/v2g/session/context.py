# SPDX-License-Identifier: Apache-2.0
"""What the states share: the offer (settings), the session context, the observer.

``SessionSettings`` is the pure part of the unit's configuration the states need (the unit
builds it from ``ccy.v2g.settings.V2gSettings``). ``SessionContext`` is everything one V2G
session knows; it outlives a TCP connection only as a pause context (SessionStop Pause).
"""

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Protocol

from ccy.evse.contract import ControlMode


class ServiceId(IntEnum):
    """ServiceCategory IDs (design/v2g.md "Services and parameters")."""

    AC = 1
    DC = 2
    WPT = 3
    DC_ACDP = 4
    AC_BPT = 5
    DC_BPT = 6
    DC_ACDP_BPT = 7
    MCS = 8
    MCS_BPT = 9
    AC_DER = 10


BPT_SERVICES = frozenset({ServiceId.MCS_BPT, ServiceId.DC_BPT})
DC_NAMESPACE_SERVICES = frozenset(
    {ServiceId.DC, ServiceId.DC_BPT, ServiceId.MCS, ServiceId.MCS_BPT}
)
"""What this SECC can carry: the -20 DC messages (MCS reuses them, design/v2g.md); at most 4
services, below ServiceDiscoveryRes's 8 (a full list is what libcbv2g mis-decodes)."""


class McsConnector(IntEnum):
    MCS = 1
    CHAOJI = 2
    ULTRA_CHAOJI = 3
    R_MCS = 4
    X_MCS = 5
    AVIATION = 6
    MARINE = 7


class DcConnector(IntEnum):
    CORE = 1
    EXTENDED = 2
    DUAL2 = 3
    DUAL4 = 4


class MobilityNeedsMode(IntEnum):
    PROVIDED_BY_EVCC = 1
    PROVIDED_BY_SECC = 2


class Pricing(IntEnum):
    NO_PRICING = 0
    ABSOLUTE_PRICING = 1
    PRICE_LEVELS = 2


CONTROL_MODE_CODE = {ControlMode.SCHEDULED: 1, ControlMode.DYNAMIC: 2}
MOBILITY_NAME = {
    MobilityNeedsMode.PROVIDED_BY_EVCC: "ProvidedByEvcc",
    MobilityNeedsMode.PROVIDED_BY_SECC: "ProvidedBySecc",
}

MAX_PARAMETER_SETS = 4
MAX_PARAMETERS = 8
"""libcbv2g decodes at most 4 ParameterSets of at most 8 Parameters (design/v2g.md)."""


class AuthService(StrEnum):
    EIM = "EIM"
    PNC = "PnC"


@dataclass(frozen=True)
class ParameterSet:
    """One ServiceDetailRes ParameterSet as the SECC offers it."""

    set_id: int
    control_mode: ControlMode
    mobility_needs: MobilityNeedsMode
    parameters: tuple[tuple[str, int], ...]

    def wire(self) -> dict[str, Any]:
        return {
            "ParameterSetID": self.set_id,
            "Parameter": [{"Name": name, "intValue": value} for name, value in self.parameters],
        }


class OfferError(ValueError):
    """A configuration whose offer a libcbv2g EV could not decode, or that offers nothing."""


@dataclass(frozen=True)
class SessionSettings:
    """The offer and behaviour of the SECC (the pure part of the v2g config section)."""

    evse_id_fallback: str = "ZZ00000"
    """EVSEID sent in a FAILED SessionSetupRes (the element is mandatory)."""
    services: tuple[ServiceId, ...] = (ServiceId.MCS, ServiceId.DC)
    mcs_connector: McsConnector = McsConnector.MCS
    dc_connector: DcConnector = DcConnector.EXTENDED
    control_modes: tuple[ControlMode, ...] = (ControlMode.DYNAMIC, ControlMode.SCHEDULED)
    mobility_needs_modes: tuple[MobilityNeedsMode, ...] = (MobilityNeedsMode.PROVIDED_BY_EVCC,)
    pricing: Pricing = Pricing.NO_PRICING
    currency: str = "EUR"
    """Currency of the (zero) AbsolutePriceSchedule in ScheduleExchangeRes (3 letters)."""
    price_language: str = "ENG"
    """Language of that price schedule (3 letters)."""
    authorization_services: tuple[AuthService, ...] = (AuthService.EIM,)
    autocharge: bool = False
    """Push the EVCCID to ccy-auth as an Autocharge token (when ccy-auth is present)."""
    pre_charge_current_A: float = 2.0
    """The current asked of ccy-evse in DC_PreCharge (DC_PreChargeReq carries none)."""
    resume_requires_vehicle_certificate: bool = True
    """A paused session is joined again only on TLS with the same vehicle certificate."""

    def parameter_sets(self, service: ServiceId) -> tuple[ParameterSet, ...]:
        """The ParameterSets of ``service``: control modes × mobility-needs modes in the
        configured order (Scheduled forces ProvidedByEvcc), IDs from 1."""
        combos: list[tuple[ControlMode, MobilityNeedsMode]] = []
        for mode in self.control_modes:
            for needs in self.mobility_needs_modes:
                if mode is ControlMode.SCHEDULED:
                    needs = MobilityNeedsMode.PROVIDED_BY_EVCC
                if (mode, needs) not in combos:
                    combos.append((mode, needs))
        connector = (
            int(self.mcs_connector)
            if service in (ServiceId.MCS, ServiceId.MCS_BPT)
            else int(self.dc_connector)
        )
        sets = []
        for index, (mode, needs) in enumerate(combos, start=1):
            params: list[tuple[str, int]] = [
                ("Connector", connector),
                ("ControlMode", CONTROL_MODE_CODE[mode]),
                ("MobilityNeedsMode", int(needs)),
                ("Pricing", int(self.pricing)),
            ]
            if service in BPT_SERVICES:
                params += [("BPTChannel", 1), ("GeneratorMode", 1)]
            sets.append(ParameterSet(index, mode, needs, tuple(params)))
        return tuple(sets)

    def check(self) -> None:
        """Raise OfferError when the offer is empty or beyond libcbv2g's limits."""
        if not self.services:
            raise OfferError("no energy transfer service offered (offer_mcs, offer_dc)")
        other = [s.name for s in self.services if s not in DC_NAMESPACE_SERVICES]
        if other or len(set(self.services)) != len(self.services):
            raise OfferError(
                f"services {[s.name for s in self.services]}: each once, and only those the "
                "-20 DC messages carry (DC, DC_BPT, MCS, MCS_BPT)"
            )
        if not self.control_modes:
            raise OfferError("no control mode offered (control_modes)")
        if not self.authorization_services:
            raise OfferError("no authorization service offered (authorization_services)")
        for service in self.services:
            sets = self.parameter_sets(service)
            if len(sets) > MAX_PARAMETER_SETS or any(
                len(s.parameters) > MAX_PARAMETERS for s in sets
            ):
                raise OfferError(
                    f"service {service.name}: {len(sets)} parameter sets; libcbv2g EVs decode "
                    f"at most {MAX_PARAMETER_SETS} sets of {MAX_PARAMETERS} parameters"
                )


def evse_id_ok(evse_id: str) -> bool:
    return 0 < len(evse_id) <= 255 and evse_id.isascii()


@dataclass
class SessionContext:
    """One V2G session: identities, the selection, the EV's last values, counters."""

    session_id: str = ""
    """The V2G SessionID (16 upper-case hex digits); "" before SessionSetup."""
    evse_session_id: str = ""
    """ccy-evse's session UUID (BindSession); the journal's CCY_SESSION."""
    evse_id: str = ""
    evccid: str = ""
    """The clear EVCCID: memory only, never logged or published (see evccid_redacted)."""
    evccid_redacted: str = ""
    protocol: str = ""
    schema_id: int | None = None
    tls: bool = False
    vehicle_certificate: bytes | None = None
    authorization: AuthService | None = None
    gen_challenge: bytes = b""
    contract_pushed: bool = False
    service: ServiceId | None = None
    parameter_set: ParameterSet | None = None
    evse_limits: dict[str, float] = field(default_factory=dict)
    ev_limits: dict[str, float] = field(default_factory=dict)
    ev_targets: dict[str, float] = field(default_factory=dict)
    soc: float = math.nan
    resumed: bool = False
    paused: bool = False
    stopped: bool = False
    """SessionStop answered (Terminate or Pause): closing needs no EndV2gSession."""
    requests: Counter[str] = field(default_factory=Counter)
    responses: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    ongoing_since: dict[str, float] = field(default_factory=dict)
    charge_loops: int = 0

    @property
    def control_mode(self) -> ControlMode | None:
        return None if self.parameter_set is None else self.parameter_set.control_mode

    @property
    def bpt(self) -> bool:
        return self.service in BPT_SERVICES


class SessionObserver(Protocol):
    """What the unit learns from a session (journal lines, properties, V2gMessage)."""

    def request(
        self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes
    ) -> None: ...

    def response(
        self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes
    ) -> None: ...

    def ended(self, ctx: SessionContext, reason: str) -> None: ...
