# SPDX-License-Identifier: Apache-2.0
"""AuthorizationSetup and Authorization (EIM and Plug & Charge).

Every decision is ccy-evse's (contracts.md): Authorization answers ``EVSEProcessing =
Ongoing`` while Evse1.AuthorizationStatus is Ongoing, ``Finished`` with OK once it is
Accepted, and WARNING_EIMAuthorizationFailure (or WARNING_GeneralPnCAuthorizationError for
PnC) when it is Rejected, after which only SessionStop is allowed. For Plug & Charge the
contract chain of the first AuthorizationReq is pushed to ccy-auth (Auth1.ProvideToken);
ccy-auth validates it and authorizes the session on ccy-evse.

The XMLDSig signature of a PnC AuthorizationReq is verified first (ccy.v2g.pnc_signature:
SHA-512 of the PnC_AReqAuthorizationMode fragment, ECDSA P-521 of SignedInfo with the contract
leaf's key); a failure answers FAILED_SignatureError and ends the session, as Josev's SECC
does. Whether the contract chain is trusted is ccy-auth's decision.
"""

import base64
import secrets

from ccy.evse.contract import AuthorizationStatus
from ccy.v2g.exi.message import Node
from ccy.v2g.pnc_signature import SignatureFailure, verify_authorization_req
from ccy.v2g.session import names, timeouts
from ccy.v2g.session.base import Answer, Body, Env, State, ongoing_done, ongoing_expired
from ccy.v2g.session.context import AuthService, SessionContext
from ccy.v2g.session.port import ContractChain, EvsePortError
from ccy.v2g.session.setup import offered_auth_services

GEN_CHALLENGE_BYTES = 16


class AuthorizationSetup(State):
    """AuthorizationSetupReq → the offered services (EIM; PnC on TLS with ccy-auth)."""

    request = names.AUTHORIZATION_SETUP
    requirement = "ISO 15118-20 AuthorizationSetup"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        offered = offered_auth_services(env, ctx)
        reply: Body = {
            "ResponseCode": "OK",
            "AuthorizationServices": [str(s) for s in offered],
            "CertificateInstallationService": False,
        }
        if AuthService.PNC in offered:
            ctx.gen_challenge = secrets.token_bytes(GEN_CHALLENGE_BYTES)
            reply["PnC_ASResAuthorizationMode"] = {
                "GenChallenge": base64.b64encode(ctx.gen_challenge).decode()
            }
        else:
            reply["EIM_ASResAuthorizationMode"] = {}
        return Answer(reply, names.allow(names.AUTHORIZATION))

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {
            "ResponseCode": code,
            "AuthorizationServices": ["EIM"],
            "CertificateInstallationService": False,
            "EIM_ASResAuthorizationMode": {},
        }


class Authorization(State):
    """AuthorizationReq → Ongoing until ccy-evse decides (EIM), or the PnC contract pushed to
    ccy-auth and then the same."""

    request = names.AUTHORIZATION
    requirement = "ISO 15118-20 Authorization; design/v2g.md (EIM Ongoing up to minutes)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        again = names.allow(names.AUTHORIZATION)
        try:
            selected = AuthService(str(body.SelectedAuthorizationService))
        except ValueError:
            selected = None
        if selected is None or selected not in offered_auth_services(env, ctx):
            env.log.warning("Authorization: %s was not offered", body.SelectedAuthorizationService)
            return Answer(
                {
                    "ResponseCode": "WARNING_AuthorizationSelectionInvalid",
                    "EVSEProcessing": "Finished",
                },
                again,
            )
        ctx.authorization = selected
        if selected is AuthService.PNC and body.get("PnC_AReqAuthorizationMode") is not None:
            try:
                verify_authorization_req(body.to_json())
            except SignatureFailure as exc:
                ctx.last_error = f"PnC signature: {exc}"
                env.log.warning("Authorization: %s: %s", type(exc).__name__, exc)
                return Answer(self.failed(env, ctx, exc.response_code), frozenset(), end=True)
        if selected is AuthService.PNC:
            refused = await self._push_contract(env, ctx, body)
            if refused is not None:
                return Answer({"ResponseCode": refused, "EVSEProcessing": "Finished"}, again)
        try:
            status = await env.evse.authorization_status()
        except EvsePortError as exc:
            ctx.last_error = f"AuthorizationStatus: {exc}"
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if status is AuthorizationStatus.ONGOING:
            if ongoing_expired(env, ctx, "Authorization", timeouts.AUTHORIZATION_EIM.seconds):
                ctx.last_error = "no authorization decision in time"
                env.log.warning(
                    "Authorization: no decision within %s s", timeouts.AUTHORIZATION_EIM.seconds
                )
                return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
            return Answer({"ResponseCode": "OK", "EVSEProcessing": "Ongoing"}, again)
        ongoing_done(ctx, "Authorization")
        if status is AuthorizationStatus.REJECTED:
            code = (
                "WARNING_GeneralPnCAuthorizationError"
                if selected is AuthService.PNC
                else "WARNING_EIMAuthorizationFailure"
            )
            ctx.last_error = "authorization rejected"
            return Answer({"ResponseCode": code, "EVSEProcessing": "Finished"}, names.allow())
        nxt = names.allow(names.SERVICE_DISCOVERY)
        if ctx.resumed:
            nxt = names.allow(names.SERVICE_DISCOVERY, names.CHARGE_PARAMETER_DISCOVERY)
        return Answer({"ResponseCode": "OK", "EVSEProcessing": "Finished"}, nxt)

    @staticmethod
    async def _push_contract(env: Env, ctx: SessionContext, body: Node) -> str | None:
        """Push the contract once; the ResponseCode of a refusal, or None."""
        mode = body.get("PnC_AReqAuthorizationMode")
        if mode is None:
            return "WARNING_AuthorizationSelectionInvalid"
        if base64.b64decode(mode.GenChallenge) != ctx.gen_challenge:
            return "WARNING_ChallengeInvalid"
        if ctx.contract_pushed:
            return None
        chain = mode.ContractCertificateChain
        contract = ContractChain(
            leaf_der=base64.b64decode(chain.Certificate),
            sub_ca_der=tuple(base64.b64decode(c) for c in chain.SubCertificates.Certificate),
            gen_challenge=ctx.gen_challenge,
        )
        if env.auth is None:
            return "WARNING_AuthorizationSelectionInvalid"
        try:
            await env.auth.provide_contract(ctx.evse_session_id, contract)
        except Exception as exc:  # ccy-auth is optional: say so, let the EV fall back
            env.log.warning("PnC: ccy-auth ProvideToken failed: %s", exc)
            return "WARNING_GeneralPnCAuthorizationError"
        ctx.contract_pushed = True
        return None

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": code, "EVSEProcessing": "Finished"}
