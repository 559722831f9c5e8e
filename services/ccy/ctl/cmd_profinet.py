# SPDX-License-Identifier: Apache-2.0
"""``ccyctl profinet``: the Profinet device and the power stage (ccy-profinet) for operators.

    ccyctl profinet status           Profinet1 and PowerStage1 properties, both objects' errors
    ccyctl profinet station          station name, IP, netmask, gateway, MAC, interface
    ccyctl profinet station reset    ResetStation(): forget what the PLC stored permanently
    ccyctl profinet alarms           the diagnoses in force toward the PLC and the last alarm

The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS. Failures (no bus, ccy-profinet not
running, access denied, a refusal such as ``org.ccy.Error.NotPermitted`` while an AR is up, no
answer within ``--timeout``) are reported by ccy.ctl.main as one line naming cause and fix.
"""

import argparse
import asyncio
import math
from typing import Any

from ccy.ctl.system_bus import answer_within, system_bus
from ccy.profinet.client import ProfinetClient
from ccy.profinet.contract import UNIT

STATION_KEYS = ("StationName", "IpAddress", "Netmask", "Gateway", "MacAddress", "Interface")
STAGE_UNITS = {
    "PresentVoltage": "V",
    "PresentCurrent": "A",
    "TargetVoltage": "V",
    "TargetCurrent": "A",
    "MaxVoltage": "V",
    "MinVoltage": "V",
    "MaxCurrent": "A",
    "MinCurrent": "A",
    "MaxPower": "W",
    "MeterEnergy": "Wh",
    "IsolationResistance": "ohm",
    "LeaseSeconds": "s",
    "CycleTime": "s",
}


def _value(key: str, value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "unknown"
        unit = STAGE_UNITS.get(key, "")
        return f"{value:g} {unit}".rstrip()
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "-"
    if value == "":
        return "-"
    return str(value)


def _errors(title: str, errors: list[list[Any]]) -> list[str]:
    lines = [f"{title}: {len(errors)}"]
    lines += [f"  {sev:<6} {typ}/{sub or '-'}: {msg}" for typ, sub, sev, msg, _ in errors]
    return lines


def format_status(
    profinet: dict[str, Any],
    stage: dict[str, Any],
    profinet_errors: list[list[Any]],
    stage_errors: list[list[Any]],
) -> str:
    lines = ["Profinet:"]
    skip = ("ActiveDiagnoses",)
    lines += [f"  {k}: {_value(k, profinet[k])}" for k in sorted(profinet) if k not in skip]
    lines.append(f"  Diagnoses: {len(profinet.get('ActiveDiagnoses', []))}")
    lines.append("PowerStage:")
    lines += [f"  {k}: {_value(k, stage[k])}" for k in sorted(stage)]
    lines += _errors("Profinet errors", profinet_errors)
    lines += _errors("PowerStage errors", stage_errors)
    return "\n".join(lines)


def format_station(profinet: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {_value(k, profinet.get(k, ''))}" for k in STATION_KEYS)


def format_alarms(profinet: dict[str, Any]) -> str:
    diagnoses = profinet.get("ActiveDiagnoses", [])
    lines = [f"Diagnoses in force: {len(diagnoses)}"]
    lines += [f"  {src} {typ}/{sub or '-'}" for src, typ, sub in diagnoses]
    lines.append(f"Last alarm: {_value('LastAlarm', profinet.get('LastAlarm', ''))}")
    return "\n".join(lines)


async def _read(timeout_s: float, action: str) -> str:
    async with system_bus(timeout_s) as bus:
        client = ProfinetClient(bus)
        profinet = await answer_within(client.profinet.get_all(), UNIT, timeout_s)
        if action == "station":
            return format_station(profinet)
        if action == "alarms":
            return format_alarms(profinet)
        stage = await answer_within(client.stage.get_all(), UNIT, timeout_s)
        p_errors = await answer_within(client.profinet.active_errors(), UNIT, timeout_s)
        s_errors = await answer_within(client.stage.active_errors(), UNIT, timeout_s)
        return format_status(profinet, stage, p_errors, s_errors)


async def _reset(timeout_s: float) -> None:
    async with system_bus(timeout_s) as bus:
        await answer_within(ProfinetClient(bus).reset_station(), UNIT, timeout_s)


def _run(args: argparse.Namespace) -> int:
    """Failures go up to ccy.ctl.main as one line."""
    if args.action == "station" and args.verb == "reset":
        asyncio.run(_reset(args.timeout))
        print("station name and IP reset to the configured ones")
        return 0
    print(asyncio.run(_read(args.timeout, args.action)))
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("profinet", help="the Profinet device and power stage (ccy-profinet)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="Profinet1 and PowerStage1 properties and errors")
    station = actions.add_parser("station", help="name and IP as the PLC set them")
    station.add_argument(
        "verb",
        nargs="?",
        choices=("show", "reset"),
        default="show",
        help="reset: ResetStation(), forget the PLC's permanent name and IP",
    )
    actions.add_parser("alarms", help="diagnoses in force toward the PLC, the last alarm")
    parser.set_defaults(func=_run)
