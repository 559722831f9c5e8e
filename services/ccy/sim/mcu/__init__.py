# SPDX-License-Identifier: Apache-2.0
"""The safety-MCU simulator: a pure model (model.py) behind a pty (server.py), a reset FIFO
(reset_fifo.py) and a scenario control socket (control.py, commands.py).

Its frame codec (wire.py) and message packing (messages.py) are its own, written from
safety-link.md, never imported from ccy.bsp: the bus tests then cross-check two independent
codecs (tests/sim/test_mcu_independence.py keeps it that way)."""

from ccy.sim.mcu.run import run_mcu_simulator

__all__ = ["run_mcu_simulator"]
