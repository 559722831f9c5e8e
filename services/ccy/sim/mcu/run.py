# SPDX-License-Identifier: Apache-2.0
"""Run the MCU simulator: pty + tty symlink, reset FIFO, scenario control socket."""

import asyncio
import logging
from pathlib import Path

from ccy.sim.mcu.commands import CommandHandler
from ccy.sim.mcu.control import ControlServer
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.server import McuSimulator


async def run_mcu_simulator(
    tty_link: Path,
    reset_fifo: Path,
    control_socket: Path,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve until cancelled; ``ready`` is set once the link, FIFO and socket exist.

    On cancellation everything it created is removed again (symlink, FIFO, socket).
    """
    log = logging.getLogger("ccy.sim.mcu")
    model = McuModel()
    sim = McuSimulator(model, log)
    slave = sim.open()
    sim.link(tty_link)

    def on_level(released: bool) -> None:
        if released:
            log.info("reset line released: the MCU answers after 300 ms")
            model.release_reset(sim.clock())
        else:
            log.info("reset line asserted: the MCU is held in reset")
            model.hold_reset()

    fifo = ResetFifo(reset_fifo, on_level, log)
    control = ControlServer(control_socket, CommandHandler(sim), log)
    try:
        fifo.open()
        await sim.start()
        await control.start()
        log.info(
            "MCU simulator: %s → %s, reset FIFO %s, control %s",
            tty_link,
            slave,
            reset_fifo,
            control_socket,
        )
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await control.stop()
        await sim.stop()
        fifo.close()
