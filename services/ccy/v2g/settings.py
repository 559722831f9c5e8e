# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g's settings: the ``v2g`` section of /etc/ccy/config.yaml, typed.

Every key is declared once in config/manifests/v2g.yaml; ``Section.bind`` fills this class
(``_ms`` keys are ``_s`` fields in seconds, enums are the StrEnums below, lists are tuples).
``session_settings`` gives the pure part the session states use.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from ccy.evse.contract import ControlMode
from ccy.runtime.config import Section
from ccy.runtime.paths import Paths
from ccy.v2g.session import (
    AuthService,
    DcConnector,
    McsConnector,
    MobilityNeedsMode,
    Pricing,
    ServiceId,
    SessionSettings,
)


class Security(StrEnum):
    TLS = "tls"
    TLS_OR_NONE = "tls-or-none"
    NONE = "none"


class McsConnectorName(StrEnum):
    MCS = "Mcs"
    CHAOJI = "ChaoJi"
    ULTRA_CHAOJI = "UltraChaoJi"
    R_MCS = "rMcs"
    X_MCS = "xMcs"
    AVIATION = "Aviation"
    MARINE = "Marine"


class DcConnectorName(StrEnum):
    CORE = "Core"
    EXTENDED = "Extended"
    DUAL2 = "Dual2"
    DUAL4 = "Dual4"


class MobilityNeedsName(StrEnum):
    PROVIDED_BY_EVCC = "ProvidedByEvcc"
    PROVIDED_BY_SECC = "ProvidedBySecc"


class PricingName(StrEnum):
    NO_PRICING = "NoPricing"


@dataclass(frozen=True)
class V2gSettings:
    SECTION: ClassVar[str] = "v2g"

    interface: str
    sdp_port: int
    tcp_port: int
    tls_port: int
    security: Security
    tls_ciphersuites: tuple[str, ...]
    tls_groups: tuple[str, ...]
    mutual_tls: bool
    leaf_expiry_warning_days: int
    max_payload_bytes: int
    message_timeout_s: float
    sequence_timeout_s: float
    tls_handshake_timeout_s: float
    offer_mcs: bool
    offer_mcs_bpt: bool
    offer_dc: bool
    mcs_connector: McsConnectorName
    dc_connector: DcConnectorName
    control_modes: tuple[ControlMode, ...]
    mobility_needs_modes: tuple[MobilityNeedsName, ...]
    pricing: PricingName
    authorization_services: tuple[AuthService, ...]
    autocharge: bool
    pre_charge_current_A: float
    journal_charge_loop_every: int
    evse_call_timeout_s: float

    @classmethod
    def from_section(cls, section: Section, paths: Paths) -> "V2gSettings":
        return section.bind(cls, paths)

    def session_settings(self) -> SessionSettings:
        services = [
            service
            for service, on in (
                (ServiceId.MCS, self.offer_mcs),
                (ServiceId.MCS_BPT, self.offer_mcs_bpt),
                (ServiceId.DC, self.offer_dc),
            )
            if on
        ]
        return SessionSettings(
            services=tuple(services),
            mcs_connector=McsConnector(list(McsConnectorName).index(self.mcs_connector) + 1),
            dc_connector=DcConnector(list(DcConnectorName).index(self.dc_connector) + 1),
            control_modes=tuple(dict.fromkeys(self.control_modes)),
            mobility_needs_modes=tuple(
                dict.fromkeys(
                    MobilityNeedsMode(list(MobilityNeedsName).index(m) + 1)
                    for m in self.mobility_needs_modes
                )
            ),
            pricing=Pricing(list(PricingName).index(self.pricing)),
            authorization_services=tuple(dict.fromkeys(self.authorization_services)),
            autocharge=self.autocharge,
            pre_charge_current_A=self.pre_charge_current_A,
        )
