# SPDX-License-Identifier: Apache-2.0
"""Run the MCU simulator: pty + tty symlink, reset FIFO, scenario control socket."""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ccy.sim.mcu.commands import CommandHandler
from ccy.sim.mcu.control import ControlServer
from ccy.sim.mcu.model import McuModel, ResetOutcome
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.server import McuSimulator


async def run_mcu_simulator(
    tty_link: Path,
    reset_fifo: Path,
    control_socket: Path,
    ready: asyncio.Event | None = None,
    model: McuModel | None = None,
) -> None:
    """Serve until cancelled; ``ready`` is set once the link, FIFO and socket exist.

    ``model`` carries the checks' settings (host timeout, E-stop confirmation, minimum reset
    pulse); a default McuModel otherwise. On cancellation everything it created is removed
    again (symlink, FIFO, socket).
    """
    log = logging.getLogger("ccy.sim.mcu")
    model = model if model is not None else McuModel()
    sim = McuSimulator(model, log)
    slave = sim.open()
    sim.link(tty_link)
    fifo = ResetFifo(reset_fifo, reset_line_handler(model, sim.clock, log), log)
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


def reset_line_handler(
    model: McuModel, clock: Callable[[], float], log: logging.Logger
) -> Callable[[bool, float | None], None]:
    """The FIFO's level callback: each level at the writer's time stamp (when the line carries
    one and it is plausible: not in the future, not older than a second), else at read time,
    so the model can check the pulse width."""

    def on_level(released: bool, stamped: float | None) -> None:
        now = clock()
        if stamped is not None and now - 1.0 <= stamped <= now:
            now = stamped
        if not released:
            log.info("reset line asserted: the MCU is held in reset")
            model.hold_reset(now)
            return
        outcome = model.release_reset(now)
        if outcome is ResetOutcome.RESET:
            log.info("reset line released: the MCU answers after 300 ms")
        elif outcome is ResetOutcome.SHORT_PULSE:
            log.warning(
                "reset pulse shorter than %.1f ms ignored: not a reset (%d so far)",
                model.reset_min_pulse_s * 1000,
                model.short_reset_pulses,
            )
        else:
            log.warning("reset line released while not held: ignored")

    return on_level
