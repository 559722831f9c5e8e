# SPDX-License-Identifier: Apache-2.0
"""The power stage behind org.ccy.PowerStage1: the simulated model (``model``, ``load``,
``isolation``), its property table and bus interface, the server that runs either backend
(the model, or ccy.profinet.power_stage_plc), and the sim-only fault interface."""
