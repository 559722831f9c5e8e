# SPDX-License-Identifier: Apache-2.0
"""``ccyctl bsp``: the board link (org.ccy.Bsp1) for operators.

    ccyctl bsp status                 every property and the active errors
    ccyctl bsp enable on|off          Enable(b)
    ccyctl bsp ccs-ready STATE        SetCcsReady(s): NotReady | Ready | EmergencyStop
    ccyctl bsp power-on on|off        AllowPowerOn(b) (``allow|deny``, the old words, still work)
    ccyctl bsp reset                  ResetSafetyController()

The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS (the simulator prints it). Failures
(no bus, ccy-bsp not running, access denied, a refusal such as ``org.ccy.Error.NotReady``, no
answer within ``--timeout``) are reported by ccy.ctl.main as one line naming cause and fix.
"""

import argparse
import asyncio
import math
from typing import Any

from ccy.bsp.client import BspClient
from ccy.bsp.contract import UNIT, CcsReady
from ccy.ctl.system_bus import answer_within, system_bus


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


ON_OFF = ("on", "off")
OLD_WORDS = {"allow": "on", "deny": "off"}
"""``power-on allow|deny`` of ccyctl ≤ 0.1, still accepted (not shown in --help)."""


def on_off(word: str) -> str:
    """The value of an ``on|off`` argument; the old words of ``power-on`` map onto it."""
    return OLD_WORDS.get(word, word)


async def _status(timeout_s: float) -> str:
    async with system_bus(timeout_s) as bus:
        client = BspClient(bus)
        props = await answer_within(client.get_all(), UNIT, timeout_s)
        errors = await answer_within(client.active_errors(), UNIT, timeout_s)
        return format_status(props, errors)


async def _call(timeout_s: float, member: str, *args: object) -> None:
    async with system_bus(timeout_s) as bus:
        await answer_within(getattr(BspClient(bus), member)(*args), UNIT, timeout_s)


def _run(args: argparse.Namespace) -> int:
    """Failures (no bus, ccy-bsp not running, refusals) go up to ccy.ctl.main as one line."""
    timeout_s = args.timeout
    if args.action == "status":
        print(asyncio.run(_status(timeout_s)))
    elif args.action == "enable":
        asyncio.run(_call(timeout_s, "enable", args.value == "on"))
    elif args.action == "ccs-ready":
        asyncio.run(_call(timeout_s, "set_ccs_ready", args.value))
    elif args.action == "power-on":
        asyncio.run(_call(timeout_s, "allow_power_on", args.value == "on"))
    else:
        asyncio.run(_call(timeout_s, "reset"))
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("bsp", help="the safety-MCU link (ccy-bsp)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="every property and the active errors")
    actions.add_parser("enable", help="Enable(b): allow charging on this port").add_argument(
        "value", choices=ON_OFF
    )
    actions.add_parser("ccs-ready", help="SetCcsReady(s): tell the MCU the HLC state").add_argument(
        "value", choices=[state.value for state in CcsReady]
    )
    actions.add_parser("power-on", help="AllowPowerOn(b): close/open the contactor").add_argument(
        "value", type=on_off, choices=ON_OFF
    )
    actions.add_parser("reset", help="ResetSafetyController(): pulse the MCU reset line")
    parser.set_defaults(func=_run)
