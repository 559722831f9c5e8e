# SPDX-License-Identifier: Apache-2.0
"""The PnC signature in the session: AuthorizationReq over our codec into the SECC's states.

A valid signature lets the contract go to ccy-auth; any signature failure answers
FAILED_SignatureError, pushes nothing and ends the session (as Josev's SECC does).
"""

import base64
from typing import Any

import pytest
from secc_support import EVSE_SESSION, AuthPeer, Ev, EvsePeer, make, run
from test_pnc_signature import der, request, sign

from ccy.evse.contract import AuthorizationStatus as A
from ccy.pki.v2g_dev import V2gDevPki, make_v2g_dev_pki
from ccy.v2g.exi import Namespace
from ccy.v2g.session import AuthService, SessionSettings

EIM_PNC = SessionSettings(authorization_services=(AuthService.EIM, AuthService.PNC))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> V2gDevPki:
    return make_v2g_dev_pki(tmp_path_factory.mktemp("pki") / "certs")


async def _until_setup(ev: Ev) -> bytes:
    await ev.sap()
    await ev.session_setup()
    setup = await ev.authorization_setup()
    return base64.b64decode(setup.body["PnC_ASResAuthorizationMode"]["GenChallenge"])


def _with_session(ev: Ev, body: dict[str, Any]) -> dict[str, Any]:
    body["Header"]["SessionID"] = ev.session_id
    return body


def test_a_signed_request_reaches_ccy_auth(pki: V2gDevPki) -> None:
    async def go() -> None:
        auth = AuthPeer()
        _, ev, _ = make(EvsePeer(auth=[A.ACCEPTED]), EIM_PNC, auth=auth, tls=True)
        challenge = await _until_setup(ev)
        body = sign(request(pki, challenge), pki.issued["CONTRACT_LEAF"].key)
        answer = await ev.send(Namespace.CM, "AuthorizationReq", _with_session(ev, body))
        assert (answer.code, answer.body["EVSEProcessing"]) == ("OK", "Finished")
        assert not answer.close
        ((session, contract),) = auth.contracts
        assert session == EVSE_SESSION
        assert contract.leaf_der == der(pki, "CONTRACT_LEAF")

    run(go())


@pytest.mark.parametrize("case", ["other key", "changed challenge", "no signature"])
def test_a_failed_signature_ends_the_session(pki: V2gDevPki, case: str) -> None:
    async def go() -> None:
        auth = AuthPeer()
        _, ev, _ = make(EvsePeer(auth=[A.ACCEPTED]), EIM_PNC, auth=auth, tls=True)
        challenge = await _until_setup(ev)
        body = request(pki, challenge)
        if case == "other key":
            body = sign(body, pki.issued["OEM_LEAF"].key)
        elif case == "changed challenge":  # signed, then the challenge replaced in transit
            body = sign(request(pki, bytes(16)), pki.issued["CONTRACT_LEAF"].key)
            body["PnC_AReqAuthorizationMode"]["GenChallenge"] = base64.b64encode(challenge).decode()
        answer = await ev.send(Namespace.CM, "AuthorizationReq", _with_session(ev, body))
        assert answer.code == "FAILED_SignatureError"
        assert answer.body["EVSEProcessing"] == "Finished"
        assert answer.close
        assert auth.contracts == []

    run(go())


def test_a_signed_request_with_a_stale_challenge_is_challenge_invalid(pki: V2gDevPki) -> None:
    """The signature holds, but over a challenge this SECC did not send."""

    async def go() -> None:
        auth = AuthPeer()
        _, ev, _ = make(EvsePeer(auth=[A.ACCEPTED]), EIM_PNC, auth=auth, tls=True)
        challenge = await _until_setup(ev)
        stale = bytes(b ^ 0xFF for b in challenge)
        body = sign(request(pki, stale), pki.issued["CONTRACT_LEAF"].key)
        answer = await ev.send(Namespace.CM, "AuthorizationReq", _with_session(ev, body))
        assert answer.code == "WARNING_ChallengeInvalid"
        assert not answer.close
        assert auth.contracts == []

    run(go())
