# SPDX-License-Identifier: Apache-2.0
"""The EV load of the simulated power stage, now in ccy.profinet.stage.load; re-exported."""

from ccy.profinet.stage.load import EvLoad

__all__ = ["EvLoad"]
