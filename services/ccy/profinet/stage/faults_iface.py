# SPDX-License-Identifier: Apache-2.0
"""Fault injection for the simulated power stage: org.ccy.sim.PowerStageFaults1 (sim only).

Not part of the contract and not in dbus/: ccy-profinet exports it on its own object,
/org/ccy/sim/PowerStage, only when profinet.mode is simulated, so end-to-end tests and
``ccy-sim`` scenarios can make the stage fail as a real one would. Methods:

- ``Inject(s fault)`` / ``Clear(s fault)``: fault one of "supply", "isolation", "self-test",
  "over-current" (ccy.profinet.stage.model.Fault); Inject switches the stage Off where the
  fault does (supply, over-current, an isolation fault while measuring, a self-test that
  runs), Clear clears its error (the stage stays Off until asked again);
- ``SetIsolationResistance(d ohm)``: what the IMD measures from now on (e.g. a Warning);
- ``SetLimits(d max_voltage, d min_voltage, d max_current, d min_current, d max_power)``: new
  dynamic limits (the PLC derates); setpoints in force are clamped again;
- ``SetLoad(d ocv_voltage, d resistance_ohm)``: the EV battery behind its contactors.

Bad arguments are org.ccy.Error.InvalidArgument. Each call runs as one input of the stage's
server, so errors and properties follow as for any other input.
"""

import math
from collections.abc import Callable

from dbus_fast.annotations import DBusDouble, DBusStr
from dbus_fast.service import ServiceInterface, method

from ccy.profinet.contract import FAULTS_IFACE
from ccy.profinet.stage.load import EvLoad
from ccy.profinet.stage.model import Fault, Limits, PowerStageModel
from ccy.runtime import bus


class FaultsInterface(ServiceInterface):
    def __init__(self, model: PowerStageModel, run: Callable[[Callable[[float], object]], None]):
        super().__init__(FAULTS_IFACE)
        self._model = model
        self._run = run

    @staticmethod
    def _fault(name: str) -> Fault:
        try:
            return Fault(name)
        except ValueError:
            values = ", ".join(f.value for f in Fault)
            raise bus.error(bus.INVALID_ARGUMENT, f"unknown fault {name!r} ({values})") from None

    @staticmethod
    def _values(**values: float) -> None:
        for name, value in values.items():
            if not math.isfinite(value) or value < 0:
                raise bus.error(bus.INVALID_ARGUMENT, f"{name} {value} is not a value ≥ 0")

    @method(name="Inject")
    def inject(self, fault: DBusStr) -> None:
        f = self._fault(fault)
        self._run(lambda now: self._model.inject(f, now))

    @method(name="Clear")
    def clear(self, fault: DBusStr) -> None:
        f = self._fault(fault)
        self._run(lambda now: self._model.clear(f, now))

    @method(name="SetIsolationResistance")
    def set_isolation_resistance(self, ohm: DBusDouble) -> None:
        self._values(ohm=ohm)
        self._run(lambda now: self._model.set_isolation_resistance(ohm, now))

    @method(name="SetLimits")
    def set_limits(
        self,
        max_voltage: DBusDouble,
        min_voltage: DBusDouble,
        max_current: DBusDouble,
        min_current: DBusDouble,
        max_power: DBusDouble,
    ) -> None:
        self._values(
            max_voltage=max_voltage,
            min_voltage=min_voltage,
            max_current=max_current,
            min_current=min_current,
            max_power=max_power,
        )
        if min_voltage > max_voltage or min_current > max_current:
            raise bus.error(bus.INVALID_ARGUMENT, "a minimum is above its maximum")
        limits = Limits(max_voltage, min_voltage, max_current, min_current, max_power)
        self._run(lambda now: self._model.set_limits(limits, now))

    @method(name="SetLoad")
    def set_load(self, ocv_voltage: DBusDouble, resistance_ohm: DBusDouble) -> None:
        self._values(ocv_voltage=ocv_voltage, resistance_ohm=resistance_ohm)
        if resistance_ohm <= 0:
            raise bus.error(bus.INVALID_ARGUMENT, "resistance_ohm must be above 0")
        load = EvLoad(ocv_voltage, resistance_ohm)
        self._run(lambda now: self._model.set_load(load, now))
