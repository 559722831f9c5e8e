# SPDX-License-Identifier: Apache-2.0
"""``ccyctl update``: software update through RAUC over D-Bus (de.pengutronix.rauc).

    ccyctl update install BUNDLE     InstallBundle; a progress bar fed by Progress;
                                     LastError on failure (one line, exit 1)
    ccyctl update status             slots, booted and primary slot, bundle versions,
                                     boot status
    ccyctl update mark STATE [SLOT]  Mark(good|bad|active, booted|other|<slot>)

The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS (no bus: one line from
ccy.ctl.system_bus). A refused bundle (signature, compatible,
damaged file) leaves every slot as it was: RAUC checks before it writes.
"""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from ccy.ctl.failure import CtlError, ExitCode
from ccy.ctl.system_bus import connect
from ccy.update.client import RaucClient
from ccy.update.errors import (
    BundleNotFoundError,
    InstallBusyError,
    InstallFailedError,
    RaucNotRunningError,
    UpdateError,
    hint,
)
from ccy.update.format import format_status, progress_bar
from ccy.update.install import bundle_source, run_install
from ccy.update.model import Progress


class ProgressPrinter:
    """Draws the bar in place on a terminal, one line per change otherwise (logs, tests)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._last = ""

    def __call__(self, progress: Progress) -> None:
        line = progress_bar(progress)
        if line == self._last:
            return
        self._last = line
        if self._tty:
            self._out.write("\r\x1b[K" + line)
        else:
            self._out.write(line + "\n")
        self._out.flush()

    def finish(self) -> None:
        if self._tty and self._last:
            self._out.write("\n")
            self._out.flush()


async def _install(bundle: Path, printer: ProgressPrinter) -> str:
    source = bundle_source(bundle)
    bus = await connect()
    try:
        client = RaucClient(bus)
        try:
            await run_install(client, source, printer)
        finally:
            printer.finish()
        return await client.primary()
    finally:
        bus.disconnect()


async def _status() -> str:
    bus = await connect()
    try:
        client = RaucClient(bus)
        state = await client.state()
        return format_status(state, await client.slot_status(), await client.primary())
    finally:
        bus.disconnect()


async def _mark(state: str, slot: str) -> str:
    bus = await connect()
    try:
        _name, message = await RaucClient(bus).mark(state, slot)
        return message
    finally:
        bus.disconnect()


def _run(args: argparse.Namespace) -> int:
    try:
        if args.action == "install":
            primary = asyncio.run(_install(Path(args.bundle), ProgressPrinter(sys.stderr)))
            print(f"installed {args.bundle}; primary slot now {primary}: reboot to run it")
        elif args.action == "status":
            print(asyncio.run(_status()))
        else:
            print(asyncio.run(_mark(args.state, args.slot)))
    except UpdateError as exc:
        fix, code = update_fix(exc)
        raise CtlError(f"update: {exc}", fix, code) from None
    return 0


def update_fix(exc: UpdateError) -> tuple[str, ExitCode]:
    """The operator's next step after a failed update command, and the exit code."""
    if isinstance(exc, RaucNotRunningError):
        return "systemctl start rauc", ExitCode.UNAVAILABLE
    if isinstance(exc, InstallBusyError):
        return "follow it with ccyctl update status, then retry", ExitCode.TEMPORARY
    if isinstance(exc, BundleNotFoundError):
        return "check the path of the .raucb file", ExitCode.NO_INPUT
    if isinstance(exc, InstallFailedError):
        # The message ends in RAUC's meaning when one is known (ccy.update.errors.HINTS).
        known = bool(hint(exc.last_error))
        return ("" if known else "the slots are unchanged: see journalctl -u rauc"), ExitCode.OTHER
    return "see journalctl -u rauc", ExitCode.OTHER


def register(sub: Any) -> None:
    parser = sub.add_parser("update", help="software update through RAUC")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = actions.add_parser("install", help="install a signed RAUC bundle")
    install.add_argument("bundle", metavar="BUNDLE", help="path of the .raucb file")
    actions.add_parser("status", help="slots, booted/primary slot, versions, boot status")
    mark = actions.add_parser("mark", help="mark a slot good, bad or active")
    mark.add_argument("state", choices=["good", "bad", "active"])
    mark.add_argument(
        "slot", nargs="?", default="booted", help="booted (default), other or a slot name"
    )
    parser.set_defaults(func=_run)
