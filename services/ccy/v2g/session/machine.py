# SPDX-License-Identifier: Apache-2.0
"""The session machine: one :class:`SessionHandler` per TCP/TLS connection.

``SessionManager.handler_factory`` is what v2g-net's ``V2gServer`` calls for each accepted
connection (ccy.v2g.server.ConnectionHandler). A handler decodes each request with the
grammar its V2GTP payload type names, checks the SessionID and the sequence, lets the state
of that request answer, encodes the answer and says whether to close after it.

- Payload type without a codec, or EXI that does not decode: no answer, the connection
  closes (one journal line, ``last_error``); the transport counts it. Requests are decoded
  with :func:`ccy.v2g.exi.lenient.decode`: strictly, and only when that fails with the end
  of full lists as libcbv2g writes it.
- A request of another namespace than its payload type says, one no state handles, or one
  not allowed now: FAILED_SequenceError, and the session ends.
- A SessionID other than the session's: FAILED_UnknownSession, and the session ends.
- TimeStamp values are never checked (real SECCs and EVs send odd ones: design/v2g.md).
"""

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from ccy.v2g.exi import ExiError, Namespace, encode
from ccy.v2g.exi.lenient import decode
from ccy.v2g.exi.message import Node
from ccy.v2g.server import PeerInfo, Reply
from ccy.v2g.session import names
from ccy.v2g.session.auth import Authorization, AuthorizationSetup
from ccy.v2g.session.base import Answer, Body, Env, State, is_failure
from ccy.v2g.session.context import SessionContext, SessionObserver, SessionSettings
from ccy.v2g.session.dc import CableCheck, ChargeLoop, PowerDelivery, PreCharge, WeldingDetection
from ccy.v2g.session.params import ChargeParameterDiscovery, ScheduleExchange
from ccy.v2g.session.port import AuthPort, EvsePort
from ccy.v2g.session.services import ServiceDetail, ServiceDiscovery, ServiceSelection
from ccy.v2g.session.setup import SessionSetup, SupportedAppProtocol
from ccy.v2g.session.stop import SessionStop

STATES: Mapping[str, State] = {
    cls.request: cls()
    for cls in (
        SupportedAppProtocol,
        SessionSetup,
        AuthorizationSetup,
        Authorization,
        ServiceDiscovery,
        ServiceDetail,
        ServiceSelection,
        ChargeParameterDiscovery,
        ScheduleExchange,
        CableCheck,
        PreCharge,
        PowerDelivery,
        ChargeLoop,
        WeldingDetection,
        SessionStop,
    )
}
"""One state per request of the -20 DC session, by request name."""

PAYLOAD_NAMESPACE = {0x8001: Namespace.SAP, 0x8002: Namespace.CM, 0x8004: Namespace.DC}
"""The V2GTP payload types this SECC decodes (design/v2g.md "Transport"); AC (0x8003) and
the others have no session here."""


class _NullObserver:
    def request(self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes) -> None:
        pass

    def response(self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes) -> None:
        pass

    def ended(self, ctx: SessionContext, reason: str) -> None:
        pass


class SessionManager:
    """Holds what outlives one connection (settings, ports, pause contexts) and makes one
    handler per connection."""

    def __init__(
        self,
        settings: SessionSettings,
        evse: EvsePort,
        auth: AuthPort | None = None,
        *,
        observer: SessionObserver | None = None,
        log: logging.Logger | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        redact: Callable[[str], str] = lambda value: value,
        new_session_id: Callable[[], str] | None = None,
    ) -> None:
        settings.check()
        self.env = Env(
            settings=settings,
            evse=evse,
            auth=auth,
            log=log or logging.getLogger("ccy.v2g.session"),
            clock=clock,
            monotonic=monotonic,
            redact=redact,
        )
        if new_session_id is not None:
            self.env.new_session_id = new_session_id
        self.observer: SessionObserver = observer or _NullObserver()
        self.current: SessionHandler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def set_auth(self, auth: AuthPort | None) -> None:
        """ccy-auth appeared or vanished (the unit watches its name)."""
        self.env.auth = auth

    def handler_factory(self, peer: PeerInfo) -> "SessionHandler":
        """What ccy.v2g.server.V2gServer calls for each accepted connection."""
        handler = SessionHandler(self, tls=peer.tls, vehicle_certificate=peer.peer_certificate_der)
        self.current = handler
        return handler

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the EndV2gSession calls still under way (unit stop, tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class SessionHandler:
    """One connection's session (v2g-net's ConnectionHandler)."""

    def __init__(
        self, manager: SessionManager, *, tls: bool, vehicle_certificate: bytes | None
    ) -> None:
        self.manager = manager
        self.env = manager.env
        self.ctx = SessionContext(tls=tls, vehicle_certificate=vehicle_certificate)
        self.allowed: frozenset[str] = frozenset({names.SAP})
        self.closed_reason = ""

    @property
    def log(self) -> logging.Logger:
        return self.env.log

    async def on_message(self, payload_type: int, payload: bytes) -> Reply | None:
        ns = PAYLOAD_NAMESPACE.get(payload_type)
        if ns is None:
            self._drop(f"payload type 0x{payload_type:04X} has no session here")
            return None
        try:
            doc = decode(ns, payload)
        except ExiError as exc:
            self._drop(f"undecodable {ns.name} EXI: {exc}")
            return None
        ((name, raw),) = doc.items()
        ctx = self.ctx
        ctx.requests[name] += 1
        self.manager.observer.request(ctx, name, doc, payload)
        state = STATES.get(name)
        if state is None or state.namespace is not ns:
            return self._unknown(payload_type, ns, name)
        body = Node(raw)
        if ns is not Namespace.SAP and name != names.SESSION_SETUP:
            asked = str(body.Header.SessionID)
            if asked != ctx.session_id:
                ctx.last_error = f"{name} with unknown SessionID {asked}"
                self.log.warning("%s: unknown SessionID %s: FAILED_UnknownSession", name, asked)
                return self._send(
                    state,
                    payload_type,
                    state.failed(self.env, ctx, "FAILED_UnknownSession"),
                    end=True,
                    request_id=asked,
                )
        if name not in self.allowed:
            ctx.last_error = f"{name} out of sequence (expected {', '.join(sorted(self.allowed))})"
            self.log.warning("%s out of sequence: FAILED_SequenceError", name)
            return self._send(
                state, payload_type, state.failed(self.env, ctx, "FAILED_SequenceError"), end=True
            )
        try:
            answer = await state.handle(self.env, ctx, body)
        except Exception as exc:  # a bug or a value the schema allows and we did not foresee
            self.log.exception("%s: handling failed", name)
            ctx.last_error = f"{name}: internal error: {exc}"
            answer = Answer(state.failed(self.env, ctx, "FAILED"), frozenset(), end=True)
        self.allowed = answer.next
        return self._send(state, payload_type, answer.body, end=answer.end)

    def on_closed(self, reason: str) -> None:
        """The transport closed the connection (always once)."""
        self.closed_reason = reason
        ctx = self.ctx
        if ctx.evse_session_id and not ctx.stopped:
            self.log.info("V2G session ended without SessionStop: %s", reason)
            self.manager.spawn(self._end(reason), "end-v2g-session")
        self.manager.observer.ended(ctx, reason)
        if self.manager.current is self:
            self.manager.current = None

    async def _end(self, reason: str) -> None:
        try:
            await self.env.evse.end_v2g_session(reason)
        except Exception as exc:
            self.log.warning("EndV2gSession failed: %s", exc)

    # ---------------------------------------------------------------- answers
    def _send(
        self,
        state: State,
        payload_type: int,
        body: Body,
        *,
        end: bool,
        request_id: str | None = None,
    ) -> Reply | None:
        ctx = self.ctx
        name = state.response()
        if state.namespace is not Namespace.SAP:
            session_id = ctx.session_id or request_id or "00" * 8
            body = {"Header": {"SessionID": session_id, "TimeStamp": int(self.env.clock())}, **body}
        doc = {name: body}
        try:
            exi = encode(state.namespace, doc)
        except ExiError as exc:
            self.log.error("%s could not be encoded (%s): closing", name, exc)
            ctx.last_error = f"{name}: not encodable: {exc}"
            return None
        code = str(body.get("ResponseCode", ""))
        end = end or is_failure(code)
        if end:
            self.allowed = frozenset()
        ctx.responses[name] += 1
        self.manager.observer.response(ctx, name, doc, exi)
        return Reply(exi, payload_type, close_after=end)

    def _unknown(self, payload_type: int, ns: Namespace, name: str) -> Reply | None:
        """A request no state of this session handles: FAILED_SequenceError when its
        response can be built from a Header and a ResponseCode alone, else close."""
        self.ctx.last_error = f"{name} is not part of this session"
        self.log.warning("%s is not part of this session: FAILED_SequenceError", name)
        if ns is Namespace.SAP or not name.endswith("Req"):
            return None
        response = name[: -len("Req")] + "Res"
        body = {
            "Header": {
                "SessionID": self.ctx.session_id or "00" * 8,
                "TimeStamp": int(self.env.clock()),
            },
            "ResponseCode": "FAILED_SequenceError",
        }
        try:
            exi = encode(ns, {response: body})
        except ExiError:
            return None
        self.allowed = frozenset()
        self.ctx.responses[response] += 1
        self.manager.observer.response(self.ctx, response, {response: body}, exi)
        return Reply(exi, payload_type, close_after=True)

    def _drop(self, why: str) -> None:
        self.ctx.last_error = why
        self.log.warning("Closing the V2G connection: %s", why)
        self.allowed = frozenset()
