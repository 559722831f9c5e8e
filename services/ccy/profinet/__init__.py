# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet: the Profinet IO device toward the PLC and org.ccy.PowerStage1 (issue 14).

So far only the contract of the power stage it serves (``contract``), which ccy-evse and the
simulated power stage (ccy.sim.power_stage) use now.
"""
