# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim``: run the charger on simulators in a folder.

ccy-sim up --dir DIR       private system bus + simulators + units; prints the bus address
ccy-sim down --dir DIR     stops everything ``up`` started
ccy-sim demo [--dir DIR]   a scripted story, then the merged per-unit journal
ccy-sim plug|unplug|ce|estop|temp|… --dir DIR   drive the MCU simulator
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ccy.sim import cli_mcu
from ccy.sim.bus_daemon import ADDRESS_ENV
from ccy.sim.demo import run_demo
from ccy.sim.stack import Stack, StackError


def _up(args: argparse.Namespace) -> int:
    address = Stack(args.dir).up()
    print(f"{ADDRESS_ENV}={address}")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = Stack(args.dir).down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _demo(args: argparse.Namespace) -> int:
    return run_demo(args.dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccy-sim", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    up = sub.add_parser("up", help="start bus, simulators and units under DIR")
    up.add_argument("--dir", type=Path, required=True)
    up.set_defaults(func=_up)
    down = sub.add_parser("down", help="stop what `up` started under DIR")
    down.add_argument("--dir", type=Path, required=True)
    down.set_defaults(func=_down)
    demo = sub.add_parser("demo", help="run the scripted story and print the journal")
    demo.add_argument("--dir", type=Path, help="keep the run in DIR (default: a temp folder)")
    demo.set_defaults(func=_demo)
    cli_mcu.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        sys.exit(args.func(args))
    except StackError as exc:
        print(f"ccy-sim: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
