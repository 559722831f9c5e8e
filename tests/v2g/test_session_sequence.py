# SPDX-License-Identifier: Apache-2.0
"""Sequence rules across the whole session, hostile input inside valid V2GTP, and the
requests of Josev's EVCC (recorded in tests/data/vectors) answered request by request."""

from typing import Any

import pytest
from secc_support import PT, EvsePeer, make, run

from ccy.testing.vectors import josev_transcript
from ccy.v2g.exi import Namespace, decode, encode
from ccy.v2g.server import Reply
from ccy.v2g.session import STATES

NS = {"SAP": Namespace.SAP, "CM": Namespace.CM, "DC": Namespace.DC}


def test_every_request_of_the_session_has_one_state() -> None:
    assert sorted(STATES) == sorted(
        [
            "supportedAppProtocolReq",
            "SessionSetupReq",
            "AuthorizationSetupReq",
            "AuthorizationReq",
            "ServiceDiscoveryReq",
            "ServiceDetailReq",
            "ServiceSelectionReq",
            "DC_ChargeParameterDiscoveryReq",
            "ScheduleExchangeReq",
            "DC_CableCheckReq",
            "DC_PreChargeReq",
            "PowerDeliveryReq",
            "DC_ChargeLoopReq",
            "DC_WeldingDetectionReq",
            "SessionStopReq",
        ]
    )
    for state in STATES.values():
        assert state.requirement, type(state).__name__


def test_every_failed_answer_is_schema_valid() -> None:
    """The smallest FAILED response of every state encodes (mandatory elements filled)."""
    manager, ev, _ = make()
    for state in STATES.values():
        body = state.failed(manager.env, ev.handler.ctx, "FAILED_SequenceError")
        if state.namespace is not Namespace.SAP:
            body = {"Header": {"SessionID": "00" * 8, "TimeStamp": 0}, **body}
        encode(state.namespace, {state.response(): body})


def test_josev_evcc_requests_get_ok_answers() -> None:
    """Every EV request of the recorded Josev session (SessionID replaced by ours), in order:
    each answer decodes and is OK (or OK_*), and the EV's ServiceSelection of DC set 1 works
    because DC is offered beside MCS."""
    from ccy.evse.contract import ControlMode
    from ccy.v2g.session import SessionSettings

    async def go() -> list[str]:
        settings = SessionSettings(control_modes=(ControlMode.SCHEDULED, ControlMode.DYNAMIC))
        _, ev, _ = make(EvsePeer(cable_check_steps=2), settings)
        codes = []
        for vector in josev_transcript():
            if ":EV->:" not in vector.ident:
                continue
            ns = NS[vector.ns]
            doc: dict[str, Any] = vector.view
            ((name, body),) = doc.items()
            if ns is not Namespace.SAP:
                body = dict(body, Header={**body["Header"], "SessionID": ev.session_id})
            reply = await ev.handler.on_message(PT[ns], encode(ns, {name: body}))
            assert isinstance(reply, Reply), name
            ((res_name, res),) = decode(ns, reply.payload).items()
            assert res_name == name[:-3] + "Res"
            if name == "SessionSetupReq":
                ev.session_id = res["Header"]["SessionID"]
            codes.append(f"{name}:{res['ResponseCode']}")
        return codes

    codes = run(go())
    assert codes[0] == "supportedAppProtocolReq:OK_SuccessfulNegotiation"
    assert codes[-1] == "SessionStopReq:OK"
    bad = [c for c in codes if not c.split(":")[1].startswith("OK")]
    assert bad == []
    assert sum(c.startswith("DC_ChargeLoopReq") for c in codes) == 4


@pytest.mark.parametrize("payload_type", [0x8003, 0x8005, 0x9000, 0x1234])
def test_payload_types_without_a_session_close_without_answer(payload_type: int) -> None:
    async def go() -> None:
        _, ev, _ = make()
        assert await ev.raw(payload_type, b"\x80\x00") is None
        assert "payload type" in ev.handler.ctx.last_error

    run(go())


@pytest.mark.parametrize(
    "payload", [b"", b"\x00", b"\x80", b"\x80\xff\xff\xff\xff", bytes(range(256))]
)
def test_undecodable_exi_closes_without_answer(payload: bytes) -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        assert await ev.raw(0x8002, payload) is None
        assert "undecodable" in ev.handler.ctx.last_error

    run(go())


def test_a_dc_message_sent_as_common_messages_is_a_sequence_error() -> None:
    """A DC request under the CM payload type decodes (if at all) to another message: the
    machine checks each state's namespace, never answering with the wrong grammar."""

    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        await ev.session_setup()
        loop = encode(
            Namespace.DC,
            {"DC_CableCheckReq": {"Header": {"SessionID": ev.session_id, "TimeStamp": 1}}},
        )
        reply = await ev.raw(0x8002, loop)
        assert reply is None or (isinstance(reply, Reply) and reply.close_after)

    run(go())


def test_a_request_of_another_session_type_is_a_sequence_error() -> None:
    """A CM request no state of the DC session handles (VehicleCheckIn) gets
    FAILED_SequenceError, built from Header and ResponseCode, and the session ends."""

    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        await ev.session_setup()
        body = {
            "Header": {"SessionID": ev.session_id, "TimeStamp": 1},
            "EVCheckInStatus": "CheckIn",
            "ParkingMethod": "Manual",
        }
        reply = await ev.raw(0x8002, encode(Namespace.CM, {"VehicleCheckInReq": body}))
        assert isinstance(reply, Reply) and reply.close_after
        res = decode(Namespace.CM, reply.payload)["VehicleCheckInRes"]
        assert res["ResponseCode"] == "FAILED_SequenceError"
        assert res["Header"]["SessionID"] == ev.session_id
        assert "not part of this session" in ev.handler.ctx.last_error

    run(go())


def test_out_of_sequence_request_ends_the_session_and_nothing_follows() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.through_authorization()
        answer = await ev.pre_charge()
        assert answer.code == "FAILED_SequenceError" and answer.close
        assert (await ev.service_discovery()).code == "FAILED_SequenceError"
        assert "PreCharge" not in evse.names()

    run(go())


def test_timestamps_are_never_checked() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        await ev.session_setup()
        body = {"Header": {"SessionID": ev.session_id, "TimeStamp": 2**64 - 1}}
        reply = await ev.raw(0x8002, encode(Namespace.CM, {"AuthorizationSetupReq": body}))
        assert isinstance(reply, Reply)
        res = decode(Namespace.CM, reply.payload)["AuthorizationSetupRes"]
        assert res["ResponseCode"] == "OK"

    run(go())


def test_counters_follow_requests_and_responses() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.through_authorization()
        ctx = ev.handler.ctx
        assert ctx.requests["SessionSetupReq"] == 1 and ctx.responses["AuthorizationRes"] == 1
        assert sum(ctx.requests.values()) == sum(ctx.responses.values()) == 4

    run(go())
