# SPDX-License-Identifier: Apache-2.0
"""RationalNumberType (Value × 10^Exponent, Value an xs:short, Exponent an xs:byte) ↔ float."""

import math
from collections.abc import Mapping
from typing import Any

SHORT_MAX = 32767
EXPONENT_MIN = -3
"""Finest resolution sent (1 mV, 1 mA, 1 mW): what the reference SECCs send at most."""


class RationalError(ValueError):
    """A value that cannot be a RationalNumber (NaN, infinite, or beyond 32767 × 10^127)."""


def to_float(number: Mapping[str, Any]) -> float:
    """The value of a RationalNumber in the JSON view ({"Exponent": e, "Value": v})."""
    return float(number["Value"]) * 10.0 ** int(number["Exponent"])


def from_float(value: float) -> dict[str, int]:
    """The RationalNumber with the finest exponent ≥ −3 whose Value fits an xs:short."""
    if math.isnan(value) or math.isinf(value):
        raise RationalError(f"{value} is not a number a RationalNumber can carry")
    exponent = EXPONENT_MIN
    while exponent <= 127:
        scaled = round(value / 10.0**exponent)
        if abs(scaled) <= SHORT_MAX:
            if scaled == 0:
                return {"Exponent": 0, "Value": 0}
            while scaled % 10 == 0 and exponent < 127:  # shortest form: 3000 A → (0, 3000)
                scaled //= 10
                exponent += 1
            return {"Exponent": exponent, "Value": int(scaled)}
        exponent += 1
    raise RationalError(f"{value} is too large for a RationalNumber")


def optional(body: Mapping[str, Any], key: str) -> float:
    """The float of an optional RationalNumber element, NaN when absent."""
    number = body.get(key)
    return math.nan if number is None else to_float(number)
