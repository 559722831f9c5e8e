# SPDX-License-Identifier: Apache-2.0
"""The clamp: what the EVSE may deliver now, from every limit that applies, each the smaller.

Sources (dbus/org.ccy.Evse1.xml, EffectiveLimits): the configured connector limits (MCS
defaults 1,250 V / 3,000 A), the power stage's dynamic limits (the PLC derates), ccy-bsp's
temperature derating factor (on the connector's current: the cable and inlet heat with
current), the site's grid connection limit (the seed's energy manager, "Change HLC Limits:
22080W/…") and an external limit with its end time (an operator, later a back office).

Pure and small on purpose: tests/unit/test_evse_limits.py checks with hypothesis that the
result never exceeds any limit and that raising a limit never lowers the result.
"""

import math
from dataclasses import dataclass

INF = math.inf


@dataclass(frozen=True)
class Limits:
    """Maximum and minimum voltage (V), current (A) and maximum power (W)."""

    max_voltage_v: float
    min_voltage_v: float
    max_current_a: float
    min_current_a: float
    max_power_w: float

    def as_wire(self) -> list[float]:
        """(max V, min V, max A, min A, max W): ConnectorLimits / EffectiveLimits."""
        return [
            self.max_voltage_v,
            self.min_voltage_v,
            self.max_current_a,
            self.min_current_a,
            self.max_power_w,
        ]


UNLIMITED = Limits(INF, 0.0, INF, 0.0, INF)


@dataclass(frozen=True)
class Setpoint:
    """A clamped setpoint and which limit bound it (ChargeLoop's *_limit_achieved flags)."""

    voltage: float
    current: float
    voltage_limited: bool
    current_limited: bool
    power_limited: bool


def effective_limits(
    connector: Limits,
    stage: Limits | None,
    derating: float,
    grid_power_w: float,
    external_power_w: float = INF,
    external_current_a: float = INF,
) -> Limits:
    """Every limit combined, each maximum the smallest and each minimum the largest.

    ``stage`` None: no power stage (nothing may flow: all maxima 0). ``derating`` is clipped
    into 0..1 and scales the connector's current. A NaN limit counts as "no limit".
    """
    if stage is None:
        return Limits(0.0, connector.min_voltage_v, 0.0, connector.min_current_a, 0.0)
    factor = min(max(_num(derating, 1.0), 0.0), 1.0)
    return Limits(
        max_voltage_v=min(connector.max_voltage_v, _num(stage.max_voltage_v, INF)),
        min_voltage_v=max(connector.min_voltage_v, _num(stage.min_voltage_v, 0.0)),
        max_current_a=min(
            connector.max_current_a * factor,
            _num(stage.max_current_a, INF),
            _num(external_current_a, INF),
        ),
        min_current_a=max(connector.min_current_a, _num(stage.min_current_a, 0.0)),
        max_power_w=min(
            connector.max_power_w,
            _num(stage.max_power_w, INF),
            _num(grid_power_w, INF),
            _num(external_power_w, INF),
        ),
    )


def clamp_setpoint(voltage: float, current: float, limits: Limits) -> Setpoint:
    """The setpoint to send for a requested one: voltage at most the maximum voltage, current
    at most the maximum current and at most maximum power / voltage (negative → 0)."""
    v = min(max(voltage, 0.0), limits.max_voltage_v)
    a = min(max(current, 0.0), limits.max_current_a)
    power_limited = False
    if v > 0 and a * v > limits.max_power_w:
        a = limits.max_power_w / v
        power_limited = True
    return Setpoint(
        voltage=v,
        current=a,
        voltage_limited=v < voltage,
        current_limited=not power_limited and a < current,
        power_limited=power_limited,
    )


def current_limit_at(limits: Limits, voltage: float) -> float:
    """The current the limits allow at ``voltage`` (the HLC current limit; ≤ 0 V: no power
    term, as the seed's "Change HLC Limits: 22080W/50A, target_voltage 0")."""
    if voltage <= 0:
        return limits.max_current_a
    return min(limits.max_current_a, limits.max_power_w / voltage)


def _num(value: float, default: float) -> float:
    return default if math.isnan(value) else value
