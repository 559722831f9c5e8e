# SPDX-License-Identifier: Apache-2.0
"""The simulated DC power stage: the model behind org.ccy.PowerStage1 without a PLC.

``model`` is pure (inputs carry their time, no bus, no clock of its own): modes, the voltage
ramp, the EV load (``load``), the insulation monitor (``isolation``), the meter and the
setpoint lease, with fault injection for the tests. ccy-evse's tests drive it directly now;
ccy-profinet serves it on the bus when ``profinet.mode`` is ``simulated``.
"""
