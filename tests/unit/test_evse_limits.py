# SPDX-License-Identifier: Apache-2.0
"""The clamp (ccy.evse.limits) with hypothesis: never above any limit, monotone in each; the
schedule, the EVSE ID format and the seed's number format."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccy.evse.evse_id import InvalidEvseId, parse_evse_id
from ccy.evse.limits import Limits, clamp_setpoint, effective_limits
from ccy.evse.schedule import schedule
from ccy.evse.wording import f32, hlc_limits_line

volts = st.floats(0, 1500)
amps = st.floats(0, 3000)
watts = st.floats(1, 4.5e6)
factor = st.floats(0, 1)
CONNECTOR = Limits(1250.0, 50.0, 3000.0, 0.0, 3_750_000.0)


def limits(v: float, a: float, w: float) -> Limits:
    return Limits(v, 0.0, a, 0.0, w)


@given(volts, amps, volts, amps, watts)
def test_never_exceeds_any_limit(
    v: float, a: float, max_v: float, max_a: float, max_w: float
) -> None:
    sp = clamp_setpoint(v, a, limits(max_v, max_a, max_w))
    assert 0 <= sp.voltage <= max_v and sp.voltage <= v
    assert 0 <= sp.current <= max_a and sp.current <= a
    assert sp.voltage * sp.current <= max_w * (1 + 1e-9)


@given(volts, amps, volts, amps, watts, st.floats(0, 1000), st.sampled_from(["a", "w"]))
def test_raising_current_or_power_limit_never_lowers_the_setpoint(
    v: float, a: float, max_v: float, max_a: float, max_w: float, more: float, which: str
) -> None:
    low = clamp_setpoint(v, a, limits(max_v, max_a, max_w))
    bigger = (
        limits(max_v, max_a + more, max_w) if which == "a" else limits(max_v, max_a, max_w + more)
    )
    high = clamp_setpoint(v, a, bigger)
    assert high.voltage == low.voltage and high.current >= low.current


@given(volts, amps, volts, amps, watts, st.floats(0, 500))
def test_raising_the_voltage_limit_never_lowers_voltage_or_power(
    v: float, a: float, max_v: float, max_a: float, max_w: float, more: float
) -> None:
    low = clamp_setpoint(v, a, limits(max_v, max_a, max_w))
    high = clamp_setpoint(v, a, limits(max_v + more, max_a, max_w))
    assert high.voltage >= low.voltage
    assert high.voltage * high.current >= low.voltage * low.current * (1 - 1e-9)


@given(factor, factor, watts, watts, amps)
def test_effective_limits_monotone_in_derating_grid_and_external(
    f1: float, f2: float, grid: float, ext_w: float, ext_a: float
) -> None:
    lo, hi = sorted((f1, f2))
    stage = CONNECTOR
    a = effective_limits(CONNECTOR, stage, lo, grid, ext_w, ext_a)
    b = effective_limits(CONNECTOR, stage, hi, grid, ext_w, ext_a)
    assert b.max_current_a >= a.max_current_a
    assert a.max_current_a <= min(CONNECTOR.max_current_a * lo, ext_a)
    assert a.max_power_w <= min(grid, ext_w, CONNECTOR.max_power_w)
    c = effective_limits(CONNECTOR, stage, lo, grid * 2, math.nan, math.nan)
    assert c.max_power_w >= a.max_power_w and c.max_current_a >= a.max_current_a


def test_no_stage_means_nothing_flows() -> None:
    lim = effective_limits(CONNECTOR, None, 1.0, 22080.0)
    assert (lim.max_voltage_v, lim.max_current_a, lim.max_power_w) == (0.0, 0.0, 0.0)


def test_schedule_from_grid_and_external_limit() -> None:
    assert schedule(22080.0, math.inf, 0.0) == [(0.0, 22080.0)]
    assert schedule(22080.0, 11000.0, 600.0, 3600.0) == [(0.0, 11000.0), (600.0, 22080.0)]
    assert schedule(22080.0, 11000.0, 7200.0, 3600.0) == [(0.0, 11000.0)]
    assert schedule(22080.0, 50000.0, 600.0) == [(0.0, 22080.0)]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (22080.0, "22080"),
        (22080 / 850, "25.97647"),
        (22080 / 810, "27.25926"),
        (0.1, "0.1"),
        (850.0, "850"),
        (50.0, "50"),
    ],
)
def test_seed_number_format(value: float, text: str) -> None:
    assert f32(value) == text


def test_hlc_line() -> None:
    assert hlc_limits_line(22080.0, 50.0, 0.0, 800.0) == (
        "EVSE ISO Change HLC Limits: 22080W/50A, target_voltage 0, actual_voltage 800, "
        "hack_bpt false"
    )


@pytest.mark.parametrize(
    "good", ["MY*CUS*T654321*1", "DE*ABC*E123456*1", "DEABCE1234561", "NL*XYZ*E1"]
)
def test_evse_id_accepted(good: str) -> None:
    parsed = parse_evse_id(good)
    assert parsed.country == good[:2]
    assert parsed.standard_type == (parsed.id_type == "E")


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("", "empty"),
        ("de*abc*e1", "upper case"),
        ("D*ABC*E1", "not <country"),
        ("DE*ABC*E", "no outlet"),
        ("DE*ABC*E" + "1" * 40, "at most 37"),
        ("DE*AB*E1", "not <country"),
    ],
)
def test_evse_id_refused(bad: str, says: str) -> None:
    with pytest.raises(InvalidEvseId, match=says.replace("<", ".")):
        parse_evse_id(bad)
