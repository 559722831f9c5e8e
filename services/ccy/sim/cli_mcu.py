# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim`` commands that drive the MCU simulator of a run folder (``--dir DIR``).

    plug | unplug                 vehicle in / out
    ce STATE                      EV-side CE: A, B0, B, C, E, EC, Invalid
    estop REASON|clear            E-stop condition (an EstopReason, e.g. EmergencyInput)
    temp CHANNEL DEGC|unused      PT1000 reading of channel 1..4
    mcu-error MODULE REASON on|off  MCU ErrorMessage (module name or number, reason number)
    silence SECONDS               the MCU sends nothing for SECONDS
    corrupt KIND [COUNT]          garbage | bad_crc | truncated, on the next COUNT frames
    estop-confirm --delay-ms N | --never
                                  when the MCU confirms the host's CCSReady=EmergencyStop
    mcu-host-timeout MS           the MCU's ComTimeout (an assumption; default 1000 ms)
    mcu-reset-min-pulse MS        reset pulses shorter than MS are no reset (default 1 ms)
    mcu-status                    the simulator's state

Each prints the simulator's JSON reply and exits 1 when the command was refused.
"""

import argparse
import json
from pathlib import Path
from typing import Any, TypeAlias

from ccy.sim.mcu.control import ControlError, mcu_control_path, send_command

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _int(text: str) -> int:
    return int(text, 0)


def _temperature(text: str) -> float | None:
    if text.lower() == "unused":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither a number nor 'unused'") from None


def _on_off(text: str) -> bool:
    if text.lower() in ("on", "off"):
        return text.lower() == "on"
    raise argparse.ArgumentTypeError(f"'{text}' is neither 'on' nor 'off'")


def _run(command: dict[str, Any], args: argparse.Namespace) -> int:
    try:
        reply = send_command(mcu_control_path(args.dir), command)
    except ControlError as exc:
        print(f"ccy-sim: {exc} (is `ccy-sim up --dir {args.dir}` running?)")
        return 1
    print(json.dumps(reply, indent=2 if command["cmd"] == "status" else None))
    return 0 if reply.get("ok") else 1


def _add(sub: Subparsers, name: str, help_: str, build: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_)
    parser.add_argument("--dir", type=Path, required=True, help="the run folder of ccy-sim up")
    parser.set_defaults(func=lambda args: _run(build(args), args))
    return parser


def register(subparsers: Subparsers) -> None:
    """Add the MCU simulator's drive commands to ``ccy-sim``."""
    _add(subparsers, "plug", "MCU sim: plug the vehicle in", lambda a: {"cmd": "plug"})
    _add(subparsers, "unplug", "MCU sim: unplug the vehicle", lambda a: {"cmd": "unplug"})
    p = _add(
        subparsers,
        "ce",
        "MCU sim: set the EV-side CE state",
        lambda a: {"cmd": "set_ce", "state": a.state},
    )
    p.add_argument("state", metavar="STATE", help="A, B0, B, C, E, EC or Invalid")
    p = _add(
        subparsers,
        "estop",
        "MCU sim: set or clear the E-stop reason",
        lambda a: {"cmd": "estop", "reason": a.reason},
    )
    p.add_argument("reason", metavar="REASON|clear", help="e.g. EmergencyInput, or clear")
    p = _add(
        subparsers,
        "temp",
        "MCU sim: set a PT1000 reading",
        lambda a: {"cmd": "temp", "channel": a.channel, "degC": a.degC},
    )
    p.add_argument("channel", metavar="CHANNEL", type=int, help="1..4")
    p.add_argument("degC", metavar="DEGC|unused", type=_temperature)
    p = _add(
        subparsers,
        "mcu-error",
        "MCU sim: raise or clear an MCU error message",
        lambda a: {"cmd": "error", "module": a.module, "reason": a.reason, "active": a.active},
    )
    p.add_argument("module", metavar="MODULE", help="e.g. APP_HVSWITCH, or a number")
    p.add_argument("reason", metavar="REASON", type=_int, help="reason number (0x… allowed)")
    p.add_argument("active", metavar="on|off", type=_on_off)
    p = _add(
        subparsers,
        "silence",
        "MCU sim: send nothing for a while",
        lambda a: {"cmd": "silence", "seconds": a.seconds},
    )
    p.add_argument("seconds", metavar="SECONDS", type=float)
    p = _add(
        subparsers,
        "corrupt",
        "MCU sim: corrupt the next frames",
        lambda a: {"cmd": "corrupt", "kind": a.kind, "count": a.count},
    )
    p.add_argument("kind", metavar="KIND", help="garbage, bad_crc or truncated")
    p.add_argument("count", metavar="COUNT", type=int, nargs="?", default=1)
    p = _add(
        subparsers,
        "estop-confirm",
        "MCU sim: how the MCU confirms a host EmergencyStop",
        _estop_confirm,
    )
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--delay-ms", type=float, metavar="N", help="confirm after N ms (0: at once)")
    when.add_argument("--never", action="store_true", help="never confirm (a broken MCU)")
    p = _add(
        subparsers,
        "mcu-host-timeout",
        "MCU sim: the MCU's ComTimeout when ChargeControl2 stops",
        lambda a: {"cmd": "host_timeout", "ms": a.ms},
    )
    p.add_argument("ms", metavar="MS", type=float)
    p = _add(
        subparsers,
        "mcu-reset-min-pulse",
        "MCU sim: the shortest reset pulse that resets the MCU",
        lambda a: {"cmd": "reset_min_pulse", "ms": a.ms},
    )
    p.add_argument("ms", metavar="MS", type=float)
    _add(subparsers, "mcu-status", "MCU sim: show its state", lambda a: {"cmd": "status"})


def _estop_confirm(args: argparse.Namespace) -> dict[str, Any]:
    if args.never:
        return {"cmd": "estop_confirm", "never": True}
    return {"cmd": "estop_confirm", "delay_ms": args.delay_ms}
