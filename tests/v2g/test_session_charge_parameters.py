# SPDX-License-Identifier: Apache-2.0
"""DC_ChargeParameterDiscovery and ScheduleExchange (Dynamic and Scheduled)."""

import math
from typing import Any

from secc_support import EvsePeer, make, num, run

from ccy.evse.contract import ControlMode, Processing


def test_charge_parameters_go_to_ccy_evse_and_its_limits_come_back() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_selection()
        answer = await ev.charge_parameter_discovery()
        assert answer.code == "OK"
        mode = answer.body["DC_CPDResEnergyTransferMode"]
        assert num(mode["EVSEMaximumVoltage"]) == 1250
        assert num(mode["EVSEMaximumChargeCurrent"]) == 3000
        assert num(mode["EVSEMaximumChargePower"]) == 3_000_000
        assert num(mode["EVSEMinimumVoltage"]) == 150
        ((limits,),) = [args for name, args in evse.calls if name == "ChargeParameters"]
        assert (limits.max_voltage, limits.max_current, limits.max_power) == (1000, 3000, 3e6)
        assert (limits.min_voltage, limits.min_current, limits.min_power) == (200, 10, 100)
        assert ev.handler.ctx.ev_limits["max_current"] == 3000

    run(go())


def test_bpt_selection_answers_with_the_bpt_element() -> None:
    from ccy.v2g.session import ServiceId, SessionSettings

    async def go() -> None:
        settings = SessionSettings(services=(ServiceId.MCS_BPT, ServiceId.DC))
        _, ev, _ = make(settings=settings)
        await ev.through_selection(service=9)
        answer = await ev.charge_parameter_discovery()
        mode = answer.body["BPT_DC_CPDResEnergyTransferMode"]
        assert num(mode["EVSEMaximumDischargePower"]) == 0

    run(go())


def _zero_price(schedule: dict[str, Any], duration: int) -> None:
    """A zero AbsolutePriceSchedule: one stack of one rule (libcbv2g: 64 stacks, 8 rules)."""
    assert schedule["Currency"] == "EUR" and schedule["Language"] == "ENG"
    assert schedule["PriceAlgorithm"] == "urn:iso:std:iso:15118:-20:PriceAlgorithm:1-Power"
    assert schedule["PriceScheduleID"] == 1
    (stack,) = schedule["PriceRuleStacks"]["PriceRuleStack"]
    assert stack["Duration"] == duration
    (rule,) = stack["PriceRule"]
    assert num(rule["EnergyFee"]) == 0 and num(rule["PowerRangeStart"]) == 0


def test_dynamic_schedule_exchange_has_a_price_schedule_only() -> None:
    """Josev's EVCC refuses a Dynamic_SEResControlMode without a price schedule."""

    async def go() -> None:
        _, ev, evse = make()
        await ev.through_selection(ControlMode.DYNAMIC)
        await ev.charge_parameter_discovery()
        answer = await ev.schedule_exchange(ControlMode.DYNAMIC, departure=7200)
        assert answer.body["EVSEProcessing"] == "Finished"
        dynamic = answer.body["Dynamic_SEResControlMode"]
        assert set(dynamic) == {"DepartureTime", "AbsolutePriceSchedule"}
        assert dynamic["DepartureTime"] == 7200
        assert "PriceLevelSchedule" not in dynamic
        _zero_price(dynamic["AbsolutePriceSchedule"], 7200)
        ((mode, departure),) = [a for n, a in evse.calls if n == "Schedule"]
        assert (mode, departure) == (ControlMode.DYNAMIC, 7200.0)

    run(go())


def test_scheduled_exchange_turns_ccy_evse_schedule_into_one_tuple() -> None:
    async def go() -> None:
        peer = EvsePeer(schedule_entries=[(0.0, 150_000.0), (1800.0, 50_000.0)])
        _, ev, evse = make(peer)
        await ev.through_selection(ControlMode.SCHEDULED)
        await ev.charge_parameter_discovery()
        answer = await ev.schedule_exchange(ControlMode.SCHEDULED)
        ((tuple_,),) = [answer.body["Scheduled_SEResControlMode"]["ScheduleTuple"]]
        assert tuple_["ScheduleTupleID"] == 1
        entries = tuple_["ChargingSchedule"]["PowerSchedule"]["PowerScheduleEntries"][
            "PowerScheduleEntry"
        ]
        assert [(e["Duration"], num(e["Power"])) for e in entries] == [
            (1800, 150_000),
            (86400 - 1800, 50_000),
        ]
        schedule = tuple_["ChargingSchedule"]
        assert "PriceLevelSchedule" not in schedule
        _zero_price(schedule["AbsolutePriceSchedule"], 86400)
        anchor = schedule["PowerSchedule"]["TimeAnchor"]
        assert schedule["AbsolutePriceSchedule"]["TimeAnchor"] == anchor
        ((_, departure),) = [a for n, a in evse.calls if n == "Schedule"]
        assert math.isnan(departure)

    run(go())


def test_schedule_entries_stay_below_the_evs_supporting_points() -> None:
    async def go() -> None:
        many = [(float(i * 60), 100_000.0) for i in range(100)]
        _, ev, _ = make(EvsePeer(schedule_entries=many))
        await ev.through_selection(ControlMode.SCHEDULED)
        await ev.charge_parameter_discovery()
        answer = await ev.schedule_exchange(ControlMode.SCHEDULED)  # MaximumSupportingPoints 24
        tuple_ = answer.body["Scheduled_SEResControlMode"]["ScheduleTuple"][0]
        entries = tuple_["ChargingSchedule"]["PowerSchedule"]["PowerScheduleEntries"]
        assert len(entries["PowerScheduleEntry"]) == 24

    run(go())


def test_schedule_exchange_repeats_while_ccy_evse_is_ongoing() -> None:
    async def go() -> None:
        _, ev, _ = make(EvsePeer(schedule_ongoing=2))
        await ev.through_selection(ControlMode.DYNAMIC)
        await ev.charge_parameter_discovery()
        bodies = [(await ev.schedule_exchange(ControlMode.DYNAMIC)).body for _ in range(3)]
        seen = [body["EVSEProcessing"] for body in bodies]
        assert seen == [Processing.ONGOING.value, Processing.ONGOING.value, "Finished"]
        for body in bodies:  # an Ongoing answer must pass Josev's validator as well
            _zero_price(body["Dynamic_SEResControlMode"]["AbsolutePriceSchedule"], 7200)
        assert (await ev.cable_check()).code == "OK"

    run(go())


def test_cable_check_before_schedule_exchange_is_a_sequence_error() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_selection()
        await ev.charge_parameter_discovery()
        answer = await ev.cable_check()
        assert answer.code == "FAILED_SequenceError" and answer.close
        assert "CableCheck" not in evse.names()

    run(go())
