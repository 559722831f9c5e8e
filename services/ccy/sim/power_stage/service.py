# SPDX-License-Identifier: Apache-2.0
"""The power-stage server, now in ccy.profinet.stage.server (ccy-profinet serves the same
server in profinet.mode simulated); re-exported for ``python -m ccy.sim.power_stage``."""

from ccy.profinet.stage.server import TICK_S, BusLostError, PowerStageServer, serve

__all__ = ["TICK_S", "BusLostError", "PowerStageServer", "serve"]
