# SPDX-License-Identifier: Apache-2.0
"""Stack tables for power-stage tests: ``Stack(dir, table="ccy.sim.power_stage.stack:BSP_ONLY")``.

tests/bus/test_profinet_bus.py runs ccy-profinet itself (its own config) beside the real
ccy-bsp on the MCU simulator; this table starts only ccy-bsp (and what it needs), as the main
table's row says, so the test does not depend on the other units of the stack.
"""

from ccy.sim.stack_table import STACK, UnitRow

BSP_ONLY: tuple[UnitRow, ...] = tuple(row for row in STACK if row.name == "ccy-bsp")
