# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.sim.plc --iface IF [--station NAME] [--ip A.B.C.D/P] [--cycle-ms 8|32] …``

Runs the simulated IO controller on interface IF (root or CAP_NET_RAW; normally inside the
PLC's network namespace): DCP Identify (for NAME when given, else any device), DCP Set of the
name and IP when ``--set-name``/``--set-ip`` are given, Connect, WriteMultiple, PrmEnd,
ApplicationReady, then cyclic exchange until SIGTERM/SIGINT or ``--run-s``. ``--vanish-after
S`` stops every frame after S seconds of data exchange without a Release (a PLC losing
power); ``--release`` releases the AR at the end. One line per step on stdout
(``plc: connected …``, ``plc: data exchange after … ms``, ``plc: alarm appears 0x…``).
Failures are one line on stderr (``ccy-sim plc: <cause> (<fix>)``) and exit 1; a bad command
line exits 2 (argparse), a missing interface or raw socket 69.
"""

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ccy.runtime.service import UnitStartError
from ccy.sim.plc.controller import Plc, PlcError


def _say(line: str) -> None:
    print(line, flush=True)


async def run(args: argparse.Namespace) -> int:
    plc = Plc(args.iface, cycle_ms=args.cycle_ms, data_hold_factor=args.dhf, say=_say)
    plc.stage.self_test_fault = args.self_test_fails
    plc.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        device = await plc.identify(args.station)
        if args.set_name is not None or args.set_ip is not None:
            await plc.dcp_set(
                device, name=args.set_name, ip=args.set_ip, permanent=not args.temporary
            )
            device = await plc.identify(args.set_name or args.station)
        await plc.connect(device)
        if args.read_im0:
            im0 = await plc.read_im0()
            _say(f"plc: I&M0 vendor 0x{im0['vendor_id']:04X} order {im0['order_id']}")
        limit = args.vanish_after if args.vanish_after is not None else args.run_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), limit)
        if args.vanish_after is not None:
            plc.vanish()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.run_s)
        elif args.release:
            await plc.release()
        _say(f"plc: done sent {plc.stats.sent} received {plc.stats.received}")
        return 0
    except PlcError as exc:
        print(
            f"ccy-sim plc: {exc} (is ccy-profinet running on the other end of {args.iface}?)",
            file=sys.stderr,
        )
        return 1
    finally:
        plc.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ccy.sim.plc", description=__doc__)
    parser.add_argument("--iface", required=True, help="the interface toward the charger")
    parser.add_argument("--station", default=None, help="station name to look for (default: any)")
    parser.add_argument("--set-name", default=None, help="DCP Set this station name first")
    parser.add_argument("--set-ip", default=None, help="DCP Set this address (A.B.C.D/PREFIX)")
    parser.add_argument("--temporary", action="store_true", help="DCP Set without 'permanent'")
    parser.add_argument("--cycle-ms", type=int, default=8, choices=(1, 2, 4, 8, 16, 32, 64, 128))
    parser.add_argument("--dhf", type=int, default=3, help="DataHoldFactor (cycles)")
    parser.add_argument("--run-s", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--vanish-after", type=float, default=None, metavar="S")
    parser.add_argument("--release", action="store_true", help="release the AR at the end")
    parser.add_argument("--read-im0", action="store_true", help="read I&M0 after the startup")
    parser.add_argument(
        "--self-test-fails", action="store_true", help="the IMD self-test reports SelfTestFailed"
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except UnitStartError as exc:
        print(f"ccy-sim plc: {exc} (run as root inside the PLC namespace)", file=sys.stderr)
        return 69


if __name__ == "__main__":
    sys.exit(main())
