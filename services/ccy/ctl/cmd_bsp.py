# SPDX-License-Identifier: Apache-2.0
"""``ccyctl bsp``: the board link (org.ccy.Bsp1) for operators.

    ccyctl bsp status                 every property and the active errors
    ccyctl bsp enable on|off          Enable(b)
    ccyctl bsp ccs-ready STATE        SetCcsReady(s): NotReady | Ready | EmergencyStop
    ccyctl bsp power-on allow|deny    AllowPowerOn(b)
    ccyctl bsp reset                  ResetSafetyController()

The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS (the simulator prints it). Failures
print the D-Bus error name and message, e.g. ``org.ccy.Error.NotPermitted: …``.
"""

import argparse
import asyncio
import math
import sys
from typing import Any

from dbus_fast import DBusError

from ccy.bsp.client import BspClient
from ccy.runtime.bus import connect_system_bus


def format_status(props: dict[str, Any], errors: list[list[Any]]) -> str:
    """Plain-text status: one ``Key: value`` line per property, then the errors."""
    lines = []
    for key in sorted(props):
        value = props[key]
        if key == "Temperatures":
            for name, degc, status in value:
                shown = "unused" if math.isnan(degc) else f"{degc:.1f} °C"
                lines.append(f"Temperature {name}: {shown} ({status})")
        elif key == "LinkStatistics":
            lines.append(
                "LinkStatistics: " + ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
            )
        else:
            lines.append(f"{key}: {value}")
    lines.append(f"Active errors: {len(errors)}")
    lines += [f"  {sev:<6} {typ}/{sub or '-'}: {msg}" for typ, sub, sev, msg, _ in errors]
    return "\n".join(lines)


async def _status() -> str:
    bus = await connect_system_bus()
    try:
        client = BspClient(bus)
        return format_status(await client.get_all(), await client.active_errors())
    finally:
        bus.disconnect()


async def _call(member: str, *args: object) -> None:
    bus = await connect_system_bus()
    try:
        await getattr(BspClient(bus), member)(*args)
    finally:
        bus.disconnect()


def _run(args: argparse.Namespace) -> int:
    try:
        if args.action == "status":
            print(asyncio.run(_status()))
        elif args.action == "enable":
            asyncio.run(_call("enable", args.value == "on"))
        elif args.action == "ccs-ready":
            asyncio.run(_call("set_ccs_ready", args.value))
        elif args.action == "power-on":
            asyncio.run(_call("allow_power_on", args.value == "allow"))
        else:
            asyncio.run(_call("reset"))
    except DBusError as exc:
        print(f"ccyctl: {exc.type}: {exc.text}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ccyctl: cannot reach the system bus: {exc}", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("bsp", help="the safety-MCU link (ccy-bsp)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="properties and active errors")
    actions.add_parser("enable", help="Enable(b)").add_argument("value", choices=["on", "off"])
    actions.add_parser("ccs-ready", help="SetCcsReady(s)").add_argument(
        "value", choices=["NotReady", "Ready", "EmergencyStop"]
    )
    actions.add_parser("power-on", help="AllowPowerOn(b)").add_argument(
        "value", choices=["allow", "deny"]
    )
    actions.add_parser("reset", help="ResetSafetyController()")
    parser.set_defaults(func=_run)
