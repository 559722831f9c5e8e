# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.sim.mcu --tty-link PATH --reset-fifo PATH --control PATH``.

Runs the MCU simulator in the foreground; SIGTERM or SIGINT end it cleanly (exit status 0).
"""

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ccy.runtime.journal import setup_logging
from ccy.sim.mcu.reset_fifo import ResetFifoError
from ccy.sim.mcu.run import run_mcu_simulator


async def _main(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await run_mcu_simulator(args.tty_link, args.reset_fifo, args.control)
    except asyncio.CancelledError:
        logging.getLogger("ccy.sim.mcu").info("MCU simulator stopped")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ccy.sim.mcu", description=__doc__)
    parser.add_argument("--tty-link", type=Path, required=True, help="symlink to the pty slave")
    parser.add_argument("--reset-fifo", type=Path, required=True, help="reset line FIFO")
    parser.add_argument("--control", type=Path, required=True, help="scenario control socket")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    args = parser.parse_args(argv)
    setup_logging("ccy-sim-mcu", logging.DEBUG if args.verbose else logging.INFO, force_stderr=True)
    try:
        asyncio.run(_main(args))
    except (ResetFifoError, OSError) as exc:
        print(f"ccy.sim.mcu: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
