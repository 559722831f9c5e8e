# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.sim.power_stage [--tick-ms 20] [--lease-s 1.0] [-v]``.

Serves org.ccy.PowerStage1 + org.ccy.Errors1 of the simulated power stage on the system bus
($DBUS_SYSTEM_BUS_ADDRESS, e.g. the simulator's private bus) under ccy-profinet's name and
object, in the foreground (ccy.sim.power_stage.service). READY=1 goes to $NOTIFY_SOCKET once
the name is owned; SIGTERM or SIGINT switch the stage Off and end it (exit status 0). Errors
are one line on stderr: no bus or the name not ownable → exit 69, anything else → 1.
"""

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from dbus_fast.errors import DBusError

from ccy.profinet.contract import BUS_NAME, LEASE_S
from ccy.runtime.bus import NameNotOwnedError
from ccy.runtime.journal import setup_logging
from ccy.runtime.service import EX_FAILURE, EX_OK, EX_UNAVAILABLE, UnitStartError
from ccy.sim.power_stage.model import StageConfig
from ccy.sim.power_stage.service import TICK_S, BusLostError, PowerStageServer, serve

PROG = "ccy.sim.power_stage"
TICK_MS_RANGE = (1.0, 1000.0)
LEASE_S_RANGE = (0.1, 10.0)
"""LeaseSeconds' range in dbus/org.ccy.PowerStage1.xml."""


def _in_range(low: float, high: float, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value:g} {unit} is outside {low:g}..{high:g}")
        return value

    return parse


async def _main(server: PowerStageServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(server, stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__)
    parser.add_argument(
        "--tick-ms",
        type=_in_range(*TICK_MS_RANGE, "ms"),
        default=TICK_S * 1000,
        help="how often the model advances (default %(default)s)",
    )
    parser.add_argument(
        "--lease-s",
        type=_in_range(*LEASE_S_RANGE, "s"),
        default=LEASE_S,
        help="the setpoint lease, LeaseSeconds (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    log = setup_logging("ccy-sim-power-stage", level, force_stderr=True)
    server = PowerStageServer(log, StageConfig(lease_s=args.lease_s), args.tick_ms / 1000)
    try:
        asyncio.run(_main(server))
    except UnitStartError as exc:
        print(f"{PROG}: {exc}; start the bus or set DBUS_SYSTEM_BUS_ADDRESS", file=sys.stderr)
        return EX_UNAVAILABLE
    except (NameNotOwnedError, DBusError) as exc:
        print(
            f"{PROG}: cannot own {BUS_NAME}: {exc}; stop its other owner or grant this user "
            "own in the bus policy",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    except BusLostError as exc:
        print(f"{PROG}: {exc}; restart it once the bus is back", file=sys.stderr)
        return EX_UNAVAILABLE
    except Exception as exc:
        print(f"{PROG}: internal error: {exc!r}", file=sys.stderr)
        return EX_FAILURE
    return EX_OK


if __name__ == "__main__":
    sys.exit(main())
