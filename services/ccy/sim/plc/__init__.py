# SPDX-License-Identifier: Apache-2.0
"""A PLC simulator: the IO controller toward ccy-profinet (DCP identify and set, RPC Connect,
record writes, PrmEnd, ApplicationReady, cyclic exchange, alarm ACKs) with a tiny power-stage
model that turns the charger's setpoints into present values. ``python -m ccy.sim.plc``."""
