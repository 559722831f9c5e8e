# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim``: run the charger on simulators in a folder.

ccy-sim up --dir DIR       private system bus + simulators + units; prints the bus address
ccy-sim down --dir DIR     stops everything ``up`` started
ccy-sim status --dir DIR   each process of the stack: pid, state, restarts
ccy-sim demo [--dir DIR]   a scripted story, then the merged per-unit journal
ccy-sim plug|unplug|ce|estop|temp|… --dir DIR   drive the MCU simulator
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ccy.sim import cli_mcu
from ccy.sim.demo import run_demo
from ccy.sim.stack import Stack, StackError
from ccy.testing.bus_daemon import ADDRESS_ENV


def _up(args: argparse.Namespace) -> int:
    address = Stack(args.dir).up()
    print(f"{ADDRESS_ENV}={address}")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = Stack(args.dir).down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(args: argparse.Namespace) -> int:
    stack = Stack(args.dir)
    processes = stack.processes()
    if not processes:
        print(f"no stack runs in {args.dir} (ccy-sim up --dir {args.dir})")
        return 3
    for name, record in processes.items():
        print(
            f"{name:<12} pid {record.get('pid', '-'):<8} {record.get('state', '?'):<10} "
            f"restarts {record.get('restarts', 0)}"
        )
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
    status = sub.add_parser("status", help="the processes of the stack under DIR")
    status.add_argument("--dir", type=Path, required=True)
    status.set_defaults(func=_status)
    demo = sub.add_parser("demo", help="run the scripted story and print the journal")
    demo.add_argument("--dir", type=Path, help="keep the run in DIR (default: a temp folder)")
    demo.set_defaults(func=_demo)
    cli_mcu.register(sub)
    sub.add_parser(
        "ev", help="the EV simulator against the stack (ccy-sim ev --help)", add_help=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    rest = list(sys.argv[1:] if argv is None else argv)
    if rest[:1] == ["ev"]:  # its own options: ccy.sim.ev.cli
        from ccy.sim.ev.cli import main as ev_main

        sys.exit(ev_main(rest[1:]))
    args = build_parser().parse_args(argv)
    try:
        sys.exit(args.func(args))
    except StackError as exc:
        print(f"ccy-sim: {exc}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:  # a folder or socket the checks above could not foresee
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"ccy-sim: {exc.strerror or exc}{where}; check --dir and try again", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
