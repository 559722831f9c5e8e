# SPDX-License-Identifier: Apache-2.0
"""The EV simulator's requests, as JSON views of ISO 15118-20 messages (pure functions).

Shapes follow design/v2g.md and the vectors in tests/data/vectors/iso15118-20 (the Josev
session transcript and the libiso15118 test streams): -20 DC messages for both DC (service 2)
and MCS (service 8), which reuses them; Dynamic or Scheduled control mode.
"""

import enum
from dataclasses import dataclass
from typing import Any

DC_NAMESPACE = "urn:iso:std:iso:15118:-20:DC"

SERVICE_IDS = {"dc": 2, "mcs": 8}
"""ServiceCategory IDs (design/v2g.md): DC 2, MCS 8."""

CONTROL_MODE_IDS = {"scheduled": 1, "dynamic": 2}
"""ServiceDetail parameter ControlMode (Scheduled 1, Dynamic 2)."""

Json = dict[str, Any]


class ControlMode(enum.StrEnum):
    SCHEDULED = "scheduled"
    DYNAMIC = "dynamic"


def rational(value: float) -> Json:
    """A RationalNumberType: exponent 0 when ``value`` is a whole number that fits the 16-bit
    Value, else the exponent nearest 0 (decimals first) that holds it exactly, else the
    smallest exponent that holds it at all (rounded)."""
    fitting: Json | None = None
    for exponent in (0, -1, -2, -3, *range(1, 11)):
        scaled = value / 10.0**exponent
        if abs(round(scaled)) > 32767 or (value != 0 and round(scaled) == 0):
            continue
        if abs(scaled - round(scaled)) < 1e-6:
            return {"Exponent": exponent, "Value": round(scaled)}
        if fitting is None or exponent < fitting["Exponent"]:
            fitting = {"Exponent": exponent, "Value": round(scaled)}
    if fitting is None:
        raise ValueError(f"{value} does not fit a RationalNumberType")
    return fitting


def value_of(number: Json) -> float:
    return float(number["Value"]) * 10.0 ** int(number["Exponent"])


@dataclass(frozen=True)
class Vehicle:
    """What the simulated vehicle is: its limits (SI units) and its identity."""

    evccid: str = "WMIV1234567890ABCDEX"
    max_voltage_V: float = 1000.0
    min_voltage_V: float = 150.0
    max_current_A: float = 1500.0
    min_current_A: float = 10.0
    max_power_W: float = 1_000_000.0
    min_power_W: float = 100.0
    battery_voltage_V: float = 800.0
    target_current_A: float = 1000.0
    soc_start_percent: int = 20
    target_soc_percent: int = 80
    energy_capacity_Wh: float = 600_000.0


def header(session_id: str, timestamp: int) -> Json:
    return {"SessionID": session_id, "TimeStamp": timestamp}


def supported_app_protocol_req() -> Json:
    return {
        "supportedAppProtocolReq": {
            "AppProtocol": [
                {
                    "ProtocolNamespace": DC_NAMESPACE,
                    "VersionNumberMajor": 1,
                    "VersionNumberMinor": 0,
                    "SchemaID": 1,
                    "Priority": 1,
                }
            ]
        }
    }


def session_setup_req(h: Json, ev: Vehicle) -> Json:
    return {"SessionSetupReq": {"Header": h, "EVCCID": ev.evccid}}


def authorization_setup_req(h: Json) -> Json:
    return {"AuthorizationSetupReq": {"Header": h}}


def authorization_req(h: Json) -> Json:
    return {
        "AuthorizationReq": {
            "Header": h,
            "SelectedAuthorizationService": "EIM",
            "EIM_AReqAuthorizationMode": {},
        }
    }


def pnc_authorization_req(
    h: Json, element_id: str, gen_challenge: str, leaf_b64: str, sub_cas_b64: list[str]
) -> Json:
    """A Plug & Charge AuthorizationReq without its signature: PnC_AReqAuthorizationMode with
    ``Id``, the SECC's GenChallenge (base64) and the contract chain (base64 DER: the leaf,
    then Sub-CA 2 and Sub-CA 1; -20 requires at least one Sub-CA). The vehicle signs the
    element into ``Header/Signature`` (:func:`ccy.v2g.pnc_signature.sign_pnc_mode`)."""
    chain: Json = {"Certificate": leaf_b64, "SubCertificates": {"Certificate": list(sub_cas_b64)}}
    return {
        "AuthorizationReq": {
            "Header": h,
            "SelectedAuthorizationService": "PnC",
            "PnC_AReqAuthorizationMode": {
                "Id": element_id,
                "GenChallenge": gen_challenge,
                "ContractCertificateChain": chain,
            },
        }
    }


def service_discovery_req(h: Json) -> Json:
    return {"ServiceDiscoveryReq": {"Header": h}}


def service_detail_req(h: Json, service_id: int) -> Json:
    return {"ServiceDetailReq": {"Header": h, "ServiceID": service_id}}


def service_selection_req(h: Json, service_id: int, parameter_set_id: int) -> Json:
    return {
        "ServiceSelectionReq": {
            "Header": h,
            "SelectedEnergyTransferService": {
                "ServiceID": service_id,
                "ParameterSetID": parameter_set_id,
            },
        }
    }


def dc_charge_parameter_discovery_req(h: Json, ev: Vehicle) -> Json:
    return {
        "DC_ChargeParameterDiscoveryReq": {
            "Header": h,
            "DC_CPDReqEnergyTransferMode": {
                "EVMaximumChargePower": rational(ev.max_power_W),
                "EVMinimumChargePower": rational(ev.min_power_W),
                "EVMaximumChargeCurrent": rational(ev.max_current_A),
                "EVMinimumChargeCurrent": rational(ev.min_current_A),
                "EVMaximumVoltage": rational(ev.max_voltage_V),
                "EVMinimumVoltage": rational(ev.min_voltage_V),
            },
        }
    }


def _energy_needed_Wh(ev: Vehicle, soc: int) -> float:
    return max(0.0, (ev.target_soc_percent - soc) / 100 * ev.energy_capacity_Wh)


def schedule_exchange_req(h: Json, ev: Vehicle, mode: ControlMode, soc: int) -> Json:
    need = _energy_needed_Wh(ev, soc)
    full = (100 - soc) / 100 * ev.energy_capacity_Wh
    if mode is ControlMode.DYNAMIC:
        body: Json = {
            "Dynamic_SEReqControlMode": {
                "DepartureTime": 7200,
                "MinimumSOC": soc,
                "TargetSOC": ev.target_soc_percent,
                "EVTargetEnergyRequest": rational(need),
                "EVMaximumEnergyRequest": rational(full),
                "EVMinimumEnergyRequest": rational(0),
            }
        }
    else:
        body = {
            "Scheduled_SEReqControlMode": {
                "DepartureTime": 7200,
                "EVTargetEnergyRequest": rational(need),
                "EVMaximumEnergyRequest": rational(full),
                "EVMinimumEnergyRequest": rational(0),
            }
        }
    return {"ScheduleExchangeReq": {"Header": h, "MaximumSupportingPoints": 1024, **body}}


def dc_cable_check_req(h: Json) -> Json:
    return {"DC_CableCheckReq": {"Header": h}}


def dc_pre_charge_req(h: Json, ev: Vehicle, present_V: float, finished: bool) -> Json:
    return {
        "DC_PreChargeReq": {
            "Header": h,
            "EVProcessing": "Finished" if finished else "Ongoing",
            "EVPresentVoltage": rational(present_V),
            "EVTargetVoltage": rational(ev.battery_voltage_V),
        }
    }


def power_delivery_req(
    h: Json, start: bool, mode: ControlMode, schedule_tuple_id: int | None = None
) -> Json:
    """With ChargeProgress Start the EV sends its power profile (Josev's SECC refuses a
    Start with EVProcessing Finished and no EVPowerProfile, in either control mode)."""
    body: Json = {"Header": h, "EVProcessing": "Finished"}
    body["ChargeProgress"] = "Start" if start else "Stop"
    if start:
        profile: Json = {
            "TimeAnchor": 0,
            "EVPowerProfileEntries": {
                "EVPowerProfileEntry": [{"Duration": 3600, "Power": rational(100_000)}]
            },
        }
        if mode is ControlMode.SCHEDULED:
            profile["Scheduled_EVPPTControlMode"] = {
                "SelectedScheduleTupleID": schedule_tuple_id or 1,
                "PowerToleranceAcceptance": "PowerToleranceConfirmed",
            }
        else:
            profile["Dynamic_EVPPTControlMode"] = {}
        body["EVPowerProfile"] = profile
    return {"PowerDeliveryReq": body}


def dc_charge_loop_req(
    h: Json, ev: Vehicle, mode: ControlMode, present_V: float, soc: int, complete: bool
) -> Json:
    if mode is ControlMode.DYNAMIC:
        control: Json = {
            "Dynamic_DC_CLReqControlMode": {
                "EVTargetEnergyRequest": rational(_energy_needed_Wh(ev, soc)),
                "EVMaximumEnergyRequest": rational((100 - soc) / 100 * ev.energy_capacity_Wh),
                "EVMinimumEnergyRequest": rational(0),
                "EVMaximumChargePower": rational(ev.max_power_W),
                "EVMinimumChargePower": rational(ev.min_power_W),
                "EVMaximumChargeCurrent": rational(ev.max_current_A),
                "EVMaximumVoltage": rational(ev.max_voltage_V),
                "EVMinimumVoltage": rational(ev.min_voltage_V),
            }
        }
    else:
        control = {
            "Scheduled_DC_CLReqControlMode": {
                "EVTargetCurrent": rational(ev.target_current_A),
                "EVTargetVoltage": rational(ev.battery_voltage_V),
            }
        }
    return {
        "DC_ChargeLoopReq": {
            "Header": h,
            "DisplayParameters": {"PresentSOC": soc, "ChargingComplete": complete},
            "MeterInfoRequested": False,
            "EVPresentVoltage": rational(present_V),
            **control,
        }
    }


def dc_welding_detection_req(h: Json) -> Json:
    return {"DC_WeldingDetectionReq": {"Header": h, "EVProcessing": "Finished"}}


def session_stop_req(h: Json, pause: bool) -> Json:
    return {"SessionStopReq": {"Header": h, "ChargingSession": "Pause" if pause else "Terminate"}}


def seed_name(name: str) -> str:
    """The message name as the seed's journal writes it: ``DC_ChargeLoopReq`` →
    ``DcChargeLoopReq``, ``supportedAppProtocolReq`` → ``SupportedAppProtocolReq``."""
    if name.startswith("DC_"):
        name = "Dc" + name[3:]
    return name[:1].upper() + name[1:]
