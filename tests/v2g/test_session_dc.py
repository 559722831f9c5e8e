# SPDX-License-Identifier: Apache-2.0
"""DC_CableCheck, DC_PreCharge, PowerDelivery, DC_ChargeLoop, DC_WeldingDetection, and the
EVSE notifications ccy-evse's answers carry (Pause, Terminate, EmergencyShutdown)."""

import math

import pytest
from secc_support import Clock, EvsePeer, RefusingEvse, make, num, run

from ccy.evse.contract import ChargeProgress, ControlMode, IsolationStatus, Notification
from ccy.v2g.session.timeouts import CABLE_CHECK


def test_cable_check_repeats_ongoing_until_finished() -> None:
    async def go() -> None:
        _, ev, evse = make(EvsePeer(cable_check_steps=3))
        await ev.through_selection()
        await ev.charge_parameter_discovery()
        await ev.schedule_exchange(ControlMode.DYNAMIC)
        seen = [(await ev.cable_check()).body["EVSEProcessing"] for _ in range(3)]
        assert seen == ["Ongoing", "Ongoing", "Finished"]
        assert evse.names().count("CableCheck") == 3
        assert (await ev.pre_charge()).code == "OK"

    run(go())


def test_cable_check_isolation_fault_fails_the_session() -> None:
    async def go() -> None:
        _, ev, _ = make(EvsePeer(cable_check_steps=3, isolation=IsolationStatus.FAULT))
        await ev.through_selection()
        await ev.charge_parameter_discovery()
        await ev.schedule_exchange(ControlMode.DYNAMIC)
        answer = await ev.cable_check()
        assert answer.code == "FAILED" and answer.close

    run(go())


def test_cable_check_ongoing_past_its_limit_fails() -> None:
    async def go() -> None:
        clock = Clock()
        _, ev, _ = make(EvsePeer(cable_check_steps=100), clock=clock)
        await ev.through_selection()
        await ev.charge_parameter_discovery()
        await ev.schedule_exchange(ControlMode.DYNAMIC)
        assert (await ev.cable_check()).body["EVSEProcessing"] == "Ongoing"
        clock.now += CABLE_CHECK.seconds + 0.5
        assert (await ev.cable_check()).code == "FAILED"

    run(go())


def test_cable_check_refused_by_ccy_evse_fails() -> None:
    async def go() -> None:
        _, ev, _ = make(RefusingEvse("CableCheck"))
        await ev.through_selection()
        await ev.charge_parameter_discovery()
        await ev.schedule_exchange(ControlMode.DYNAMIC)
        answer = await ev.cable_check()
        assert answer.code == "FAILED" and "NotPermitted" in ev.handler.ctx.last_error

    run(go())


def test_precharge_forwards_the_target_and_answers_the_present_voltage() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_precharge()
        answer = await ev.pre_charge(650)
        assert num(answer.body["EVSEPresentVoltage"]) == 650
        (_, (volts, amps)) = [c for c in evse.calls if c[0] == "PreCharge"][-1]
        assert (volts, amps) == (650, 2.0)

    run(go())


def test_power_delivery_start_ongoing_waits_without_asking_ccy_evse() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_precharge()
        for _ in range(3):
            assert (await ev.power_delivery("Start", "Ongoing")).code == "OK"
        assert "PowerDelivery" not in evse.names()
        assert (await ev.power_delivery("Start")).code == "OK"
        assert [a for n, a in evse.calls if n == "PowerDelivery"] == [(ChargeProgress.START,)]

    run(go())


def test_power_delivery_refused_is_failed_power_delivery_not_applied() -> None:
    async def go() -> None:
        _, ev, _ = make(RefusingEvse("PowerDelivery"))
        await ev.through_precharge()
        answer = await ev.power_delivery("Start")
        assert answer.code == "FAILED_PowerDeliveryNotApplied" and answer.close

    run(go())


@pytest.mark.parametrize("mode", [ControlMode.DYNAMIC, ControlMode.SCHEDULED])
def test_each_charge_loop_is_exactly_one_ccy_evse_call(mode: ControlMode) -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_charging(mode)
        before = len(evse.calls)
        for soc in (20, 30, 40):
            answer = await ev.charge_loop(mode, amps=250, soc=soc)
            assert answer.code == "OK"
        loops = evse.calls[before:]
        assert [n for n, _ in loops] == ["ChargeLoop"] * 3
        request = loops[-1][1][0]
        assert request.soc == 40 and request.present_voltage == 780
        if mode is ControlMode.SCHEDULED:
            assert (request.target_current, request.target_voltage) == (250, 800)
            assert "Scheduled_DC_CLResControlMode" in answer.body
        else:
            assert math.isnan(request.target_current) and request.max_current == 250
            dyn = answer.body["Dynamic_DC_CLResControlMode"]
            assert num(dyn["EVSEMaximumChargeCurrent"]) == 3000
        assert num(answer.body["EVSEPresentVoltage"]) == 400
        assert "EVSEStatus" not in answer.body
        assert ev.handler.ctx.charge_loops == 3

    run(go())


def test_pause_and_terminate_ride_on_the_charge_loop_answer() -> None:
    async def go() -> None:
        peer = EvsePeer()
        _, ev, _ = make(peer)
        await ev.through_charging()
        peer.notification = Notification.PAUSE
        paused = await ev.charge_loop(ControlMode.DYNAMIC)
        assert paused.code == "OK" and paused.body["EVSEStatus"]["EVSENotification"] == "Pause"
        peer.notification = Notification.TERMINATE
        stop = await ev.charge_loop(ControlMode.DYNAMIC)
        assert stop.code == "OK" and stop.body["EVSEStatus"]["EVSENotification"] == "Terminate"
        assert not stop.close
        assert (await ev.power_delivery("Stop")).code == "OK"

    run(go())


def test_emergency_shutdown_is_failed_with_terminate_and_ends_the_session() -> None:
    async def go() -> None:
        peer = EvsePeer()
        _, ev, _ = make(peer)
        await ev.through_charging()
        peer.notification = Notification.EMERGENCY_SHUTDOWN
        answer = await ev.charge_loop(ControlMode.DYNAMIC)
        assert answer.code == "FAILED" and answer.close
        assert answer.body["EVSEStatus"]["EVSENotification"] == "Terminate"

    run(go())


def test_terminate_before_charging_fails_the_precharge() -> None:
    async def go() -> None:
        peer = EvsePeer()
        _, ev, _ = make(peer)
        await ev.through_precharge()
        peer.notification = Notification.TERMINATE
        assert (await ev.pre_charge()).code == "FAILED"

    run(go())


def test_stop_then_welding_detection_then_stop() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_charging()
        await ev.charge_loop(ControlMode.DYNAMIC)
        assert (await ev.power_delivery("Stop")).code == "OK"
        answer = await ev.welding_detection()
        assert num(answer.body["EVSEPresentVoltage"]) == 20
        assert (await ev.welding_detection("Finished")).code == "OK"
        assert (await ev.session_stop()).code == "OK"
        assert evse.names()[-5:] == [
            "ChargeLoop",
            "PowerDelivery",
            "WeldingDetection",
            "WeldingDetection",
            "SessionStop",
        ]

    run(go())


def test_charge_loop_after_stop_is_a_sequence_error() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.through_charging()
        await ev.power_delivery("Stop")
        answer = await ev.charge_loop(ControlMode.DYNAMIC)
        assert answer.code == "FAILED_SequenceError" and answer.close
        assert "Dynamic_DC_CLResControlMode" in answer.body

    run(go())
