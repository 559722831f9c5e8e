# SPDX-License-Identifier: Apache-2.0
"""AuthorizationSetup and Authorization: EIM while ccy-evse decides, PnC to ccy-auth."""

import base64
from typing import Any

import pytest
from secc_support import EVSE_SESSION, AuthPeer, Clock, EvsePeer, make, run
from test_pnc_signature import der, request, sign

from ccy.evse.contract import AuthorizationStatus as A
from ccy.pki.v2g_dev import V2gDevPki, make_v2g_dev_pki
from ccy.v2g.exi import Namespace
from ccy.v2g.session import AuthService, SessionSettings
from ccy.v2g.session.timeouts import AUTHORIZATION_EIM

EIM_PNC = SessionSettings(authorization_services=(AuthService.EIM, AuthService.PNC))


def test_eim_only_is_offered_by_default() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        await ev.session_setup()
        answer = await ev.authorization_setup()
        assert answer.body["AuthorizationServices"] == ["EIM"]
        assert answer.body["CertificateInstallationService"] is False
        assert answer.body["EIM_ASResAuthorizationMode"] == {}

    run(go())


def test_eim_answers_ongoing_until_ccy_evse_accepts() -> None:
    async def go() -> None:
        _, ev, evse = make(EvsePeer(auth=[A.ONGOING, A.ONGOING, A.ACCEPTED]))
        await ev.sap()
        await ev.session_setup()
        await ev.authorization_setup()
        seen = [(await ev.authorization_eim()).body["EVSEProcessing"] for _ in range(3)]
        assert seen == ["Ongoing", "Ongoing", "Finished"]
        assert evse.names().count("AuthorizationStatus") == 3
        assert (await ev.service_discovery()).code == "OK"

    run(go())


def test_eim_rejected_is_a_warning_and_only_session_stop_follows() -> None:
    async def go() -> None:
        _, ev, _ = make(EvsePeer(auth=[A.REJECTED]))
        await ev.sap()
        await ev.session_setup()
        await ev.authorization_setup()
        answer = await ev.authorization_eim()
        assert (answer.code, answer.body["EVSEProcessing"]) == (
            "WARNING_EIMAuthorizationFailure",
            "Finished",
        )
        assert (await ev.service_discovery()).code == "FAILED_SequenceError"

    run(go())


def test_eim_without_decision_in_time_fails() -> None:
    async def go() -> None:
        clock = Clock()
        _, ev, _ = make(EvsePeer(auth=[A.ONGOING]), clock=clock)
        await ev.sap()
        await ev.session_setup()
        await ev.authorization_setup()
        assert (await ev.authorization_eim()).body["EVSEProcessing"] == "Ongoing"
        clock.now += AUTHORIZATION_EIM.seconds + 1
        answer = await ev.authorization_eim()
        assert answer.code == "FAILED" and answer.close

    run(go())


def test_pnc_is_not_offered_without_tls_or_without_ccy_auth() -> None:
    async def go(tls: bool, auth: AuthPeer | None) -> list[str]:
        _, ev, _ = make(settings=EIM_PNC, auth=auth, tls=tls)
        await ev.sap()
        await ev.session_setup()
        return list((await ev.authorization_setup()).body["AuthorizationServices"])

    assert run(go(False, AuthPeer())) == ["EIM"]
    assert run(go(True, None)) == ["EIM"]
    assert run(go(True, AuthPeer())) == ["EIM", "PnC"]


def test_selecting_a_service_not_offered_is_a_warning() -> None:
    async def go() -> None:
        _, ev, _ = make()
        await ev.sap()
        await ev.session_setup()
        await ev.authorization_setup()
        body = {
            "SelectedAuthorizationService": "PnC",
            "PnC_AReqAuthorizationMode": {
                "Id": "id1",
                "GenChallenge": base64.b64encode(bytes(16)).decode(),
                "ContractCertificateChain": {
                    "Certificate": base64.b64encode(b"leaf").decode(),
                    "SubCertificates": {"Certificate": [base64.b64encode(b"sub").decode()]},
                },
            },
        }
        answer = await ev.send(Namespace.CM, "AuthorizationReq", body)
        assert answer.code == "WARNING_AuthorizationSelectionInvalid"
        assert (await ev.authorization_eim()).code == "OK"

    run(go())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    return make_v2g_dev_pki(tmp_path_factory.mktemp("pki") / "certs")


def _pnc_body(pki: V2gDevPki, challenge: str, session_id: str) -> dict[str, Any]:
    """A PnC AuthorizationReq signed with the development contract key (test_pnc_signature)."""
    body = sign(request(pki, base64.b64decode(challenge)), pki.issued["CONTRACT_LEAF"].key)
    body["Header"]["SessionID"] = session_id
    return body


def test_pnc_pushes_the_contract_once_then_follows_ccy_evse(pki: V2gDevPki) -> None:
    async def go() -> None:
        auth = AuthPeer()
        _, ev, _evse = make(EvsePeer(auth=[A.ONGOING, A.ACCEPTED]), EIM_PNC, auth=auth, tls=True)
        await ev.sap()
        await ev.session_setup()
        setup = await ev.authorization_setup()
        challenge = setup.body["PnC_ASResAuthorizationMode"]["GenChallenge"]
        assert len(base64.b64decode(challenge)) == 16
        first = await ev.send(
            Namespace.CM, "AuthorizationReq", _pnc_body(pki, challenge, ev.session_id)
        )
        second = await ev.send(
            Namespace.CM, "AuthorizationReq", _pnc_body(pki, challenge, ev.session_id)
        )
        assert [first.body["EVSEProcessing"], second.body["EVSEProcessing"]] == [
            "Ongoing",
            "Finished",
        ]
        ((session, contract),) = auth.contracts
        assert session == EVSE_SESSION
        assert contract.leaf_der == der(pki, "CONTRACT_LEAF")
        assert contract.sub_ca_der == (der(pki, "MO_SUB_CA2"), der(pki, "MO_SUB_CA1"))

    run(go())


def test_pnc_with_a_wrong_challenge_is_refused(pki: V2gDevPki) -> None:
    async def go() -> None:
        auth = AuthPeer()
        _, ev, _ = make(settings=EIM_PNC, auth=auth, tls=True)
        await ev.sap()
        await ev.session_setup()
        await ev.authorization_setup()
        wrong = base64.b64encode(b"\x01" * 16).decode()
        answer = await ev.send(
            Namespace.CM, "AuthorizationReq", _pnc_body(pki, wrong, ev.session_id)
        )
        assert answer.code == "WARNING_ChallengeInvalid"
        assert auth.contracts == []

    run(go())


def test_authorization_before_setup_is_a_sequence_error() -> None:
    async def go() -> None:
        _, ev, evse = make()
        await ev.sap()
        await ev.session_setup()
        answer = await ev.authorization_eim()
        assert answer.code == "FAILED_SequenceError" and answer.close
        assert "AuthorizationStatus" not in evse.names()

    run(go())
