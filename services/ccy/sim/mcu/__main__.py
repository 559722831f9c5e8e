# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.sim.mcu --tty-link PATH --reset-fifo PATH --control PATH [settings]``.

Runs the MCU simulator in the foreground; SIGTERM or SIGINT end it cleanly (exit status 0).
Settings of the MCU's checks (each also a scenario command, see commands.py):
``--host-timeout-ms`` (the MCU's ComTimeout, an assumption: default 1000),
``--estop-confirm-delay-ms`` / ``--estop-never-confirm`` and ``--reset-min-pulse-ms``
(default 1).
"""

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ccy.runtime.journal import setup_logging
from ccy.sim.mcu.model import (
    ESTOP_CONFIRM_DELAY_S,
    HOST_TIMEOUT_S,
    MIN_RESET_PULSE_S,
    McuModel,
    ScenarioError,
)
from ccy.sim.mcu.reset_fifo import ResetFifoError
from ccy.sim.mcu.run import run_mcu_simulator


def _model(args: argparse.Namespace) -> McuModel:
    """The model with the command line's settings; ScenarioError for values out of range."""
    model = McuModel()
    model.set_host_timeout(args.host_timeout_ms / 1000)
    model.set_reset_min_pulse(args.reset_min_pulse_ms / 1000)
    never = args.estop_never_confirm
    model.set_estop_confirmation(None if never else args.estop_confirm_delay_ms / 1000)
    return model


async def _main(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await run_mcu_simulator(args.tty_link, args.reset_fifo, args.control, model=args.model)
    except asyncio.CancelledError:
        logging.getLogger("ccy.sim.mcu").info("MCU simulator stopped")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ccy.sim.mcu", description=__doc__)
    parser.add_argument("--tty-link", type=Path, required=True, help="symlink to the pty slave")
    parser.add_argument("--reset-fifo", type=Path, required=True, help="reset line FIFO")
    parser.add_argument("--control", type=Path, required=True, help="scenario control socket")
    parser.add_argument(
        "--host-timeout-ms",
        type=float,
        default=HOST_TIMEOUT_S * 1000,
        help="no ChargeControl2 for this long: ComTimeout (an assumption, default %(default)s)",
    )
    confirm = parser.add_mutually_exclusive_group()
    confirm.add_argument(
        "--estop-confirm-delay-ms",
        type=float,
        default=ESTOP_CONFIRM_DELAY_S * 1000,
        help="confirm a host EmergencyStop after this long (default %(default)s)",
    )
    confirm.add_argument(
        "--estop-never-confirm", action="store_true", help="never confirm a host EmergencyStop"
    )
    parser.add_argument(
        "--reset-min-pulse-ms",
        type=float,
        default=MIN_RESET_PULSE_S * 1000,
        help="shorter reset pulses are not a reset (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    args = parser.parse_args(argv)
    try:
        args.model = _model(args)
    except ScenarioError as exc:
        parser.error(str(exc))
    setup_logging("ccy-sim-mcu", logging.DEBUG if args.verbose else logging.INFO, force_stderr=True)
    try:
        asyncio.run(_main(args))
    except (ResetFifoError, OSError) as exc:
        print(f"ccy.sim.mcu: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
