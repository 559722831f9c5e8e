# SPDX-License-Identifier: Apache-2.0
"""SessionStop (Terminate, Pause), resuming a paused session, and the end of a connection."""

from secc_support import EVSE_SESSION, Ev, make, peer, run

from ccy.evse.contract import ChargingSession, ControlMode

CERT = b"\x30\x82\x01\x00vehicle"


def test_terminate_closes_and_needs_no_end_call() -> None:
    async def go() -> None:
        manager, ev, evse = make()
        await ev.through_charging()
        await ev.power_delivery("Stop")
        answer = await ev.session_stop("Terminate")
        assert answer.code == "OK" and answer.close
        ev.handler.on_closed("handler closed")
        await manager.drain()
        assert [a for n, a in evse.calls if n == "SessionStop"] == [(ChargingSession.TERMINATE,)]
        assert "EndV2gSession" not in evse.names()

    run(go())


def test_a_connection_lost_mid_session_tells_ccy_evse() -> None:
    async def go() -> None:
        manager, ev, evse = make()
        await ev.through_charging()
        ev.handler.on_closed("peer closed")
        await manager.drain()
        assert [a for n, a in evse.calls if n == "EndV2gSession"] == [("peer closed",)]

    run(go())


def test_a_connection_closed_before_session_setup_calls_nothing() -> None:
    async def go() -> None:
        manager, ev, evse = make()
        await ev.sap()
        ev.handler.on_closed("idle timeout")
        await manager.drain()
        assert evse.calls == []

    run(go())


async def _pause(manager, ev) -> str:  # type: ignore[no-untyped-def]
    await ev.through_charging()
    await ev.power_delivery("Stop")
    await ev.welding_detection("Finished")
    answer = await ev.session_stop("Pause")
    assert answer.code == "OK" and answer.close
    ev.handler.on_closed("handler closed")
    return str(ev.session_id)


def test_pause_then_resume_with_the_same_vehicle_certificate_joins_the_old_session() -> None:
    async def go() -> None:
        manager, ev, evse = make(tls=True, cert=CERT)
        old = await _pause(manager, ev)
        again = Ev(manager.handler_factory(peer(tls=True, cert=CERT)))
        again.session_id = old
        await again.sap()
        joined = await again.session_setup()
        assert joined.code == "OK_OldSessionJoined"
        assert joined.body["Header"]["SessionID"] == old
        binds = [a for n, a in evse.calls if n == "BindSession"]
        assert binds[-1][0] == old and len(binds) == 2
        assert again.handler.ctx.control_mode is ControlMode.DYNAMIC  # the selection stays
        # it jumps to DC_ChargeParameterDiscovery
        assert (await again.charge_parameter_discovery()).code == "OK"
        assert again.handler.ctx.evse_session_id == EVSE_SESSION

    run(go())


def test_resume_without_the_vehicle_certificate_is_a_new_session() -> None:
    async def go() -> None:
        manager, ev, _ = make(tls=True, cert=CERT)
        old = await _pause(manager, ev)
        for tls, cert in ((False, None), (True, None), (True, b"\x30other")):
            again = Ev(manager.handler_factory(peer(tls=tls, cert=cert)))
            again.session_id = old
            await again.sap()
            answer = await again.session_setup()
            assert answer.code == "OK_NewSessionEstablished"
            assert answer.body["Header"]["SessionID"] != old

    run(go())


def test_a_terminated_session_cannot_be_joined() -> None:
    async def go() -> None:
        manager, ev, _ = make(tls=True, cert=CERT)
        await ev.through_charging()
        await ev.power_delivery("Stop")
        await ev.session_stop("Terminate")
        again = Ev(manager.handler_factory(peer(tls=True, cert=CERT)))
        again.session_id = ev.session_id
        await again.sap()
        assert (await again.session_setup()).code == "OK_NewSessionEstablished"

    run(go())


def test_service_renegotiation_is_not_supported() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.through_charging()
        await ev.power_delivery("Stop")
        answer = await ev.session_stop("ServiceRenegotiation")
        assert answer.code == "FAILED_NoServiceRenegotiationSupported" and answer.close

    run(go())


def test_session_stop_is_allowed_right_after_authorization() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_authorization()
        assert (await ev.session_stop()).code == "OK"
        assert evse.names()[-1] == "SessionStop"

    run(go())
