# SPDX-License-Identifier: Apache-2.0
"""SessionStop: Terminate ends the V2G session; Pause keeps a pause context.

The pause context (the whole SessionContext, by SessionID) lets a later SessionSetupReq
with the same SessionID join the session again (OK_OldSessionJoined, see setup.py) and jump
to DC_ChargeParameterDiscovery. ServiceRenegotiation is not supported
(ServiceRenegotiationSupported is always false): FAILED_NoServiceRenegotiationSupported.
"""

from ccy.evse.contract import ChargingSession
from ccy.v2g.exi.message import Node
from ccy.v2g.session import names
from ccy.v2g.session.base import Answer, Env, State
from ccy.v2g.session.context import SessionContext
from ccy.v2g.session.port import EvsePortError

MAX_PAUSED = 4
"""Pause contexts kept at most (oldest dropped first): one connector, a few vehicles."""


class SessionStop(State):
    """SessionStopReq → ccy-evse's SessionStop; the connection closes after the answer."""

    request = names.SESSION_STOP
    requirement = "ISO 15118-20 SessionStop; design/v2g.md (Pause keeps a pause context)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        try:
            kind = ChargingSession(str(body.ChargingSession))
        except ValueError:
            ctx.last_error = f"SessionStop {body.ChargingSession}: not supported"
            return Answer(
                {"ResponseCode": "FAILED_NoServiceRenegotiationSupported"}, frozenset(), end=True
            )
        try:
            await env.evse.session_stop(kind)
        except EvsePortError as exc:
            ctx.last_error = f"SessionStop: {exc}"
            env.log.warning("SessionStop: ccy-evse refused: %s", exc)
            # The vehicle leaves either way; ccy-evse learns it from EndV2gSession.
            return Answer({"ResponseCode": "FAILED"}, frozenset(), end=True)
        ctx.stopped = True
        if kind is ChargingSession.PAUSE:
            ctx.paused = True
            while len(env.paused) >= MAX_PAUSED:
                env.paused.pop(next(iter(env.paused)))
            env.paused[ctx.session_id] = ctx
        return Answer({"ResponseCode": "OK"}, frozenset(), end=True)


__all__ = ["SessionStop", "names"]
