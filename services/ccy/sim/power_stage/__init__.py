# SPDX-License-Identifier: Apache-2.0
"""The simulated DC power stage as a stand-alone bus service (``python -m ccy.sim.power_stage``).

The model (modes, voltage ramp, EV load, insulation monitor, meter, setpoint lease, fault
injection) and its bus server live in ccy.profinet.stage, because ccy-profinet serves them in
profinet.mode simulated and the product never imports ccy.sim; the modules here re-export
them so simulators and tests keep their import paths.
"""
