# SPDX-License-Identifier: Apache-2.0
"""SupportedAppProtocol and SessionSetup (ISO 15118-20; design/v2g.md "Session state sequence")."""

import pytest
from secc_support import (
    EVCCID,
    EVSE_ID,
    EVSE_SESSION,
    Ev,
    EvsePeer,
    dc_protocol,
    iso2_protocol,
    make,
    peer,
    run,
)

from ccy.v2g.session import EvseUnavailable


def test_dc_is_negotiated_with_its_schema_id() -> None:
    async def go() -> None:
        _, ev, _ = make()
        answer = await ev.sap([iso2_protocol(priority=1), dc_protocol(priority=2, schema=7)])
        assert answer.name == "supportedAppProtocolRes"
        assert answer.body == {"ResponseCode": "OK_SuccessfulNegotiation", "SchemaID": 7}
        assert not answer.close

    run(go())


def test_minor_deviation_is_named() -> None:
    async def go() -> None:
        _, ev, _ = make()
        answer = await ev.sap([dc_protocol(minor=3)])
        assert answer.code == "OK_SuccessfulNegotiationWithMinorDeviation"

    run(go())


def test_highest_priority_dc_entry_wins() -> None:
    async def go() -> None:
        _, ev, _ = make()
        answer = await ev.sap(
            [dc_protocol(priority=5, schema=3), dc_protocol(priority=2, schema=4)]
        )
        assert answer.body["SchemaID"] == 4

    run(go())


@pytest.mark.parametrize(
    "entries",
    [
        [iso2_protocol()],
        [
            {
                "ProtocolNamespace": "urn:iso:std:iso:15118:-20:AC",
                "VersionNumberMajor": 1,
                "VersionNumberMinor": 0,
                "SchemaID": 1,
                "Priority": 1,
            }
        ],
        [dc_protocol() | {"VersionNumberMajor": 2}],
    ],
    ids=["iso-2", "-20-ac", "-20-dc-major-2"],
)
def test_nothing_supported_is_failed_no_negotiation(entries: list[dict[str, object]]) -> None:
    async def go() -> None:
        _, ev, evse = make()
        answer = await ev.sap(entries)
        assert answer.body == {"ResponseCode": "Failed_NoNegotiation"}
        assert answer.close
        assert evse.calls == []

    run(go())


def test_session_setup_binds_a_new_session_with_the_redacted_evccid() -> None:
    async def go() -> None:
        _manager, ev, evse = make()
        await ev.sap()
        answer = await ev.session_setup()
        assert answer.code == "OK_NewSessionEstablished"
        assert answer.body["EVSEID"] == EVSE_ID
        session_id = answer.body["Header"]["SessionID"]
        assert len(session_id) == 16 and session_id != "0000000000000000"
        ((name, (v2g_id, evccid, protocol)),) = evse.calls
        assert name == "BindSession" and v2g_id == session_id
        assert evccid.startswith("[redacted] hash: ") and EVCCID not in evccid
        assert protocol == "urn:iso:std:iso:15118:-20:DC"
        ctx = ev.handler.ctx
        assert ctx.evse_session_id == EVSE_SESSION and ctx.evccid == EVCCID

    run(go())


def test_each_session_gets_another_id() -> None:
    async def go() -> set[str]:
        ids = set()
        for _ in range(3):
            _, ev, _ = make()
            await ev.sap()
            ids.add((await ev.session_setup()).body["Header"]["SessionID"])
        return ids

    assert len(run(go())) == 3


def test_bind_refused_answers_failed_and_ends() -> None:
    async def go() -> None:
        _, ev, _evse = make(EvsePeer(bind_error=EvseUnavailable("org.ccy.Evse is not on the bus")))
        await ev.sap()
        answer = await ev.session_setup()
        assert answer.code == "FAILED" and answer.close
        assert answer.body["EVSEID"] == "ZZ00000"
        assert "BindSession" in ev.handler.ctx.last_error

    run(go())


def test_session_setup_before_sap_is_a_sequence_error() -> None:
    async def go() -> None:
        _, ev, evse = make()
        answer = await ev.session_setup()
        assert answer.code == "FAILED_SequenceError" and answer.close
        assert evse.calls == []

    run(go())


def test_second_sap_is_a_sequence_error() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        await ev.session_setup()
        answer = await ev.sap()
        assert answer.body == {"ResponseCode": "Failed_NoNegotiation"} and answer.close

    run(go())


def test_unknown_session_id_is_failed_unknown_session() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.sap()
        await ev.session_setup()
        ev.session_id = "0102030405060708"
        answer = await ev.authorization_setup()
        assert answer.code == "FAILED_UnknownSession" and answer.close
        assert evse.names() == ["BindSession"]

    run(go())


def test_autocharge_pushes_the_clear_evccid_to_ccy_auth_only_when_configured() -> None:
    from secc_support import AuthPeer

    from ccy.v2g.session import SessionSettings

    async def go(autocharge: bool) -> list[tuple[str, str]]:
        auth = AuthPeer()
        _, ev, _ = make(settings=SessionSettings(autocharge=autocharge), auth=auth)
        await ev.sap()
        await ev.session_setup()
        return auth.evccids

    assert run(go(True)) == [(EVSE_SESSION, EVCCID)]
    assert run(go(False)) == []


def test_handler_factory_takes_tls_and_certificate_from_the_peer() -> None:
    manager, _, _ = make()
    handler = manager.handler_factory(peer(tls=True, cert=b"\x30\x01"))
    assert handler.ctx.tls and handler.ctx.vehicle_certificate == b"\x30\x01"
    assert isinstance(Ev(handler), Ev)
