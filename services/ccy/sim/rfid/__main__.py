# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.sim.rfid --tty-link PATH --control SOCKET``: the RFID reader simulator."""

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from ccy.sim.rfid.control import ControlServer
from ccy.sim.rfid.reader import RfidSimulator


async def run(tty_link: Path, control: Path) -> None:
    log = logging.getLogger("ccy.sim.rfid")
    sim = RfidSimulator()
    slave = sim.open()
    sim.link(tty_link)
    server = ControlServer(control, sim)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        sim.start()
        await server.start()
        log.info("RFID reader simulator: %s → %s, control %s", tty_link, slave, control)
        sim.hello()
        await stop.wait()
    finally:
        await server.stop()
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ccy.sim.rfid")
    parser.add_argument("--tty-link", type=Path, required=True, help="symlink to the pty slave")
    parser.add_argument("--control", type=Path, required=True, help="control socket path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    asyncio.run(run(args.tty_link, args.control))


if __name__ == "__main__":
    main()
