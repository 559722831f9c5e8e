# SPDX-License-Identifier: Apache-2.0
"""The safety-MCU simulator: a pure model (model.py) behind a pty (server.py), a reset FIFO
(reset_fifo.py) and a scenario control socket (control.py, commands.py)."""

from ccy.sim.mcu.run import run_mcu_simulator

__all__ = ["run_mcu_simulator"]
