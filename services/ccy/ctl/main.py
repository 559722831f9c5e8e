# SPDX-License-Identifier: Apache-2.0
"""ccyctl entry point: finds the command groups (modules ``ccy.ctl.cmd_*``) and dispatches.

A command group module defines ``register(subparsers)``, which adds one sub-command whose
parser sets ``func`` to a callable taking the parsed ``argparse.Namespace`` and returning the
exit status. Groups: config, exi, update, pki, and the per-unit ones as they arrive.
"""

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import ccy
import ccy.ctl


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccyctl", description="Operate a ccy charge controller.")
    parser.add_argument("--version", action="version", version=f"ccyctl {ccy.__version__}")
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="relocate /etc/ccy, /var/lib/ccy, /var/log/ccy and /run/ccy under DIR",
    )
    sub = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(ccy.ctl.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"ccy.ctl.{info.name}")
            module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())
