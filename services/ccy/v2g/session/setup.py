# SPDX-License-Identifier: Apache-2.0
"""SupportedAppProtocol and SessionSetup (design/v2g.md "Session state sequence").

SupportedAppProtocol offers only ISO 15118-20 DC (``urn:iso:std:iso:15118:-20:DC``, major 1);
ISO 15118-2, DIN 70121 and -20 AC are out of scope and answered ``Failed_NoNegotiation``.
SessionSetup makes a new 8-byte SessionID, keeps the EVCCID in memory (redacted everywhere
else) and binds the V2G session to ccy-evse's (Evse1.BindSession), which names the EVSEID.
A SessionSetupReq carrying the SessionID of a paused session joins it again
(OK_OldSessionJoined) when the vehicle presents the same TLS certificate as before.
"""

from typing import Any

from ccy.v2g.exi import Namespace
from ccy.v2g.exi.message import Node
from ccy.v2g.session import names
from ccy.v2g.session.base import Answer, Body, Env, State
from ccy.v2g.session.context import AuthService, SessionContext, evse_id_ok
from ccy.v2g.session.port import EvsePortError

DC_NAMESPACE = Namespace.DC.value
SUPPORTED_MAJOR = 1
NEW_SESSION = "0000000000000000"


def pick_protocol(entries: list[Any]) -> tuple[Any, str] | None:
    """The -20 DC entry of highest priority (lowest Priority value) and its response code."""
    best = None
    for entry in entries:
        if entry.ProtocolNamespace != DC_NAMESPACE or entry.VersionNumberMajor != SUPPORTED_MAJOR:
            continue
        if best is None or entry.Priority < best.Priority:
            best = entry
    if best is None:
        return None
    code = (
        "OK_SuccessfulNegotiation"
        if best.VersionNumberMinor == 0
        else "OK_SuccessfulNegotiationWithMinorDeviation"
    )
    return best, code


class SupportedAppProtocol(State):
    """supportedAppProtocolReq → -20 DC or Failed_NoNegotiation."""

    request = names.SAP
    namespace = Namespace.SAP
    requirement = "ISO 15118-20 SupportedAppProtocol (V2G_CI_AppProtocol.xsd)"

    @classmethod
    def response(cls) -> str:
        return "supportedAppProtocolRes"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        picked = pick_protocol(list(body.AppProtocol))
        if picked is None:
            offered = ", ".join(
                f"{e.ProtocolNamespace} {e.VersionNumberMajor}.{e.VersionNumberMinor}"
                for e in body.AppProtocol
            )
            env.log.warning("No supported protocol offered (%s): Failed_NoNegotiation", offered)
            return Answer({"ResponseCode": "Failed_NoNegotiation"}, frozenset(), end=True)
        entry, code = picked
        ctx.protocol = DC_NAMESPACE
        ctx.schema_id = int(entry.SchemaID)
        return Answer(
            {"ResponseCode": code, "SchemaID": ctx.schema_id},
            frozenset({names.SESSION_SETUP}),
        )

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": "Failed_NoNegotiation"}


def seed_session_id(session_id: str) -> str:
    """The seed's spelling of a SessionID: ``0xE2, 0x80, ...``."""
    return ", ".join(f"0x{session_id[i : i + 2]}" for i in range(0, len(session_id), 2))


class SessionSetup(State):
    """SessionSetupReq → new session (or the paused one joined), bound to ccy-evse."""

    request = names.SESSION_SETUP
    requirement = (
        "ISO 15118-20 SessionSetup; design/v2g.md (resume needs a TLS vehicle certificate)"
    )

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        asked = str(body.Header.SessionID)
        paused = env.paused.get(asked) if asked != NEW_SESSION else None
        joined = paused is not None and self._may_join(env, ctx, paused)
        if joined:
            assert paused is not None
            tls, certificate = ctx.tls, ctx.vehicle_certificate
            ctx.__dict__.update(paused.__dict__)
            ctx.tls, ctx.vehicle_certificate = tls, certificate
            ctx.paused = ctx.stopped = False
            ctx.resumed = True
            ctx.ongoing_since = {}
            del env.paused[asked]
        else:
            ctx.session_id = env.new_session_id()
            ctx.evccid = str(body.EVCCID)
            ctx.evccid_redacted = env.redact(ctx.evccid)
        env.log.info("Received session setup with evccid: %s", ctx.evccid_redacted)
        try:
            ctx.evse_session_id, evse_id = await env.evse.bind_session(
                ctx.session_id, ctx.evccid_redacted, ctx.protocol or DC_NAMESPACE
            )
        except EvsePortError as exc:
            ctx.last_error = f"BindSession: {exc}"
            env.log.warning("SessionSetup refused: ccy-evse BindSession failed: %s", exc)
            return Answer(self.failed(env, ctx, "FAILED"), frozenset(), end=True)
        if not evse_id_ok(evse_id):
            env.log.warning("EVSE ID %r from ccy-evse is not a valid EVSEID", evse_id)
            evse_id = env.settings.evse_id_fallback
        ctx.evse_id = evse_id
        if joined:
            env.log.info("Paused session joined again: %s", seed_session_id(ctx.session_id))
            nxt = names.allow(
                names.AUTHORIZATION_SETUP,
                names.SERVICE_DISCOVERY,
                names.CHARGE_PARAMETER_DISCOVERY,
            )
            return Answer({"ResponseCode": "OK_OldSessionJoined", "EVSEID": evse_id}, nxt)
        env.log.info("New session created with session_id: %s", seed_session_id(ctx.session_id))
        await self._autocharge(env, ctx)
        return Answer(
            {"ResponseCode": "OK_NewSessionEstablished", "EVSEID": evse_id},
            names.allow(names.AUTHORIZATION_SETUP),
        )

    @staticmethod
    def _may_join(env: Env, ctx: SessionContext, paused: SessionContext) -> bool:
        if not env.settings.resume_requires_vehicle_certificate:
            return True
        same = (
            ctx.tls
            and ctx.vehicle_certificate is not None
            and ctx.vehicle_certificate == paused.vehicle_certificate
        )
        if not same:
            env.log.info(
                "SessionSetup names a paused session but without the same TLS vehicle "
                "certificate: a new session is created"
            )
        return bool(same)

    @staticmethod
    async def _autocharge(env: Env, ctx: SessionContext) -> None:
        if not env.settings.autocharge or env.auth is None or not ctx.evccid:
            return
        try:
            await env.auth.provide_evccid(ctx.evse_session_id, ctx.evccid)
        except Exception as exc:  # optional peer: the session goes on with EIM
            env.log.warning("Autocharge: ccy-auth ProvideToken failed: %s", exc)

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {"ResponseCode": code, "EVSEID": ctx.evse_id or env.settings.evse_id_fallback}


def offered_auth_services(env: Env, ctx: SessionContext) -> list[AuthService]:
    """EIM always if configured; PnC only on TLS with ccy-auth present."""
    offered = []
    for service in env.settings.authorization_services:
        if service is AuthService.PNC and (not ctx.tls or env.auth is None):
            continue
        offered.append(service)
    return offered or [AuthService.EIM]
