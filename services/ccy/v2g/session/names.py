# SPDX-License-Identifier: Apache-2.0
"""Request names of the -20 DC session (root elements of the JSON view) and the seed's
journal spelling of each message (``DC_ChargeLoopReq`` → ``DcChargeLoopReq``)."""

SAP = "supportedAppProtocolReq"
SESSION_SETUP = "SessionSetupReq"
AUTHORIZATION_SETUP = "AuthorizationSetupReq"
AUTHORIZATION = "AuthorizationReq"
SERVICE_DISCOVERY = "ServiceDiscoveryReq"
SERVICE_DETAIL = "ServiceDetailReq"
SERVICE_SELECTION = "ServiceSelectionReq"
CHARGE_PARAMETER_DISCOVERY = "DC_ChargeParameterDiscoveryReq"
SCHEDULE_EXCHANGE = "ScheduleExchangeReq"
CABLE_CHECK = "DC_CableCheckReq"
PRE_CHARGE = "DC_PreChargeReq"
POWER_DELIVERY = "PowerDeliveryReq"
CHARGE_LOOP = "DC_ChargeLoopReq"
WELDING_DETECTION = "DC_WeldingDetectionReq"
SESSION_STOP = "SessionStopReq"


def allow(*names: str) -> frozenset[str]:
    """The requests allowed next: ``names`` plus SessionStopReq, which the EV may send in
    every state after SessionSetup."""
    return frozenset((*names, SESSION_STOP))


def journal_name(name: str) -> str:
    """The seed's spelling: ``supportedAppProtocolReq`` → ``SupportedAppProtocolReq``,
    ``DC_CableCheckReq`` → ``DcCableCheckReq``; others unchanged."""
    if name.startswith("DC_"):
        return "Dc" + name[3:]
    return name[:1].upper() + name[1:]
