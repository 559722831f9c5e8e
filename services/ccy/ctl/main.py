# SPDX-License-Identifier: Apache-2.0
"""ccyctl entry point: finds the command groups (modules ``ccy.ctl.cmd_*``) and dispatches.

A command group module defines ``register(subparsers)``, which adds one sub-command whose
parser sets ``func`` to a callable taking the parsed ``argparse.Namespace`` and returning the
exit status. Groups: bsp, config, exi, pki, update, and the per-unit ones as they arrive.

Failures are reported here, once: every exception a command lets out becomes one line
``ccyctl: <cause> (<fix>)`` with a distinct exit code (:mod:`ccy.ctl.failure`); ``--debug``
adds the traceback. A wrong command line is one line too, exit 64. ``ccyctl --help`` lists
every command, generated from the parsers so that none is left out.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import ccy
import ccy.ctl
from ccy.ctl.failure import PROG, CtlError, ExitCode, describe
from ccy.ctl.system_bus import DEFAULT_TIMEOUT_S

COMMAND_COLUMN = 44
"""Width of the command column of the list in ``ccyctl --help``."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line naming the fix, exit 64."""

    def error(self, message: str) -> NoReturn:
        line = CtlError(message, f"see '{self.prog} --help'", ExitCode.USAGE).line()
        self.exit(ExitCode.USAGE, line + "\n")


def command_table(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """(command, what it does) for every leaf command under ``parser``, in order."""
    rows: list[tuple[str, str]] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            if name not in helps:
                continue  # a hidden alias
            below = command_table(sub)
            if below:
                rows += [(f"{name} {command}", what) for command, what in below]
            else:
                rows.append((_usage_of(sub, name), helps[name]))
    return rows


def _usage_of(parser: argparse.ArgumentParser, name: str) -> str:
    """``name``, its required options and positional arguments (the rest: see its --help)."""
    formatter = parser._get_formatter()
    words = [name]
    for action in parser._actions:
        if action.option_strings and action.required:
            metavar = formatter._get_default_metavar_for_optional(action)
            words.append(f"{action.option_strings[0]} {formatter._format_args(action, metavar)}")
        elif not action.option_strings:
            metavar = formatter._get_default_metavar_for_positional(action)
            words.append(formatter._format_args(action, metavar))
    return " ".join(words)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Operate a ccy charge controller.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ccyctl {ccy.__version__}")
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="relocate /etc/ccy, /var/lib/ccy, /var/log/ccy and /run/ccy under DIR",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait for the bus or a unit to answer (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of a failure as well"
    )
    sub = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(ccy.ctl.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"ccy.ctl.{info.name}")
            module.register(sub)
    rows = command_table(parser)
    width = min(max(len(command) for command, _ in rows), COMMAND_COLUMN)
    parser.epilog = "commands:\n" + "\n".join(
        f"  {PROG} {command:<{width}}  {what}" for command, what in rows
    )
    return parser


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Carry out parsed arguments; every failure becomes one line and an exit code."""
    try:
        status: int = args.func(args)
    except Exception as exc:  # every failure is reported as one line, below
        return _report(exc, args.debug)
    except KeyboardInterrupt as exc:
        return _report(exc, args.debug)
    return status


def _report(exc: BaseException, debug: bool) -> int:
    failure = describe(exc)
    if failure is None:  # broken pipe: the reader went away, there is no one to tell
        _quiet_stdout()
        return ExitCode.BROKEN_PIPE
    if debug:
        traceback.print_exception(exc)
    print(failure.line(), file=sys.stderr)
    return failure.code


if __name__ == "__main__":
    sys.exit(main())
