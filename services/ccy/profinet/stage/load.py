# SPDX-License-Identifier: Apache-2.0
"""The vehicle as the power stage sees it: a battery behind its contactors.

A battery is an open-circuit voltage with an internal resistance: charged with current I it
shows U = U_ocv + I * R at the inlet. A current-controlled supply therefore delivers
min(I_target, (U_limit - U_ocv) / R): it stops at the voltage limit. With the EV's
contactors open (cable check, precharge) the only load is the inlet's capacitance, so the
current is zero once the voltage is reached.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EvLoad:
    ocv_v: float = 800.0
    """Open-circuit voltage of the EV battery, V."""
    resistance_ohm: float = 0.05
    """Internal plus cable resistance, ohm (0.05 ohm: 150 V drop at 3000 A would be too much
    for MCS; it keeps the arithmetic of the tests readable)."""

    def current_for(self, target_a: float, voltage_limit_v: float) -> float:
        """The current a supply regulating to ``target_a`` under ``voltage_limit_v`` delivers."""
        headroom = (voltage_limit_v - self.ocv_v) / self.resistance_ohm
        return max(0.0, min(target_a, headroom))

    def voltage_at(self, current_a: float) -> float:
        return self.ocv_v + current_a * self.resistance_ohm
