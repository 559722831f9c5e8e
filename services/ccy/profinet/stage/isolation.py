# SPDX-License-Identifier: Apache-2.0
"""Insulation monitoring: resistance → IsolationStatus (IEC 61851-23 thresholds).

IEC 61851-23 judges the insulation of the DC output per volt of the measuring voltage: at
least 500 ohm/V is valid, 100..500 ohm/V a warning, below 100 ohm/V a fault. ISO 15118 names
the outcome isolationLevel (Invalid, Valid, Warning, Fault, No_IMD).
"""

import math

from ccy.profinet.contract import IsolationStatus

VALID_OHM_PER_V = 500.0
FAULT_OHM_PER_V = 100.0


def classify(resistance_ohm: float, voltage_v: float) -> IsolationStatus:
    """The status of a measurement of ``resistance_ohm`` taken at ``voltage_v``."""
    if math.isnan(resistance_ohm) or voltage_v <= 0:
        return IsolationStatus.INVALID
    per_volt = resistance_ohm / voltage_v
    if per_volt >= VALID_OHM_PER_V:
        return IsolationStatus.VALID
    if per_volt >= FAULT_OHM_PER_V:
        return IsolationStatus.WARNING
    return IsolationStatus.FAULT
