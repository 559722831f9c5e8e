# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g: the ISO 15118-20 SECC (org.ccy.V2g on the system bus).

The glue around the session machine (:mod:`ccy.v2g.session`, no bus code) and the transport
(SDP, V2GTP over TCP and TLS 1.3: ccy.v2g.sdp, ccy.v2g.server, ccy.v2g.tls,
ccy.v2g.cert_store). Every decision of a session is ccy-evse's: the machine asks Evse1
through :class:`ccy.v2g.evse_client.EvseClient` and answers the vehicle with what it returns.

Start-up: connect to the bus; export org.ccy.V2g1 + org.ccy.Errors1; watch org.ccy.Evse
(EvseMissing while it is away: SessionSetup is then answered FAILED) and org.ccy.Auth
(Plug & Charge and Autocharge only while it is there); look for a valid SECC leaf
("Found valid leaf: [...]"); start the TLS server if there is one and the TCP server if
the config allows sessions without TLS; start SDP with those ports; own org.ccy.V2g; READY=1.
An hourly check withdraws TLS when the leaf expires (NoValidLeaf) and warns ahead of it.
"""

import asyncio
import contextlib
import datetime
import gc
import math
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from dbus_fast.aio import MessageBus

from ccy.pki.layout import CertsLayout
from ccy.runtime import bus, notify
from ccy.runtime.config import ConfigError
from ccy.runtime.config.problems import ConfigProblem
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface, publish_errors
from ccy.runtime.heap import release_free_heap_soon
from ccy.runtime.service import UnitContext, UnitStartError, run_unit
from ccy.runtime.state import StateDiff, StatePublisher
from ccy.v2g import cert_store, tls
from ccy.v2g.contract import (
    AUTH_BUS_NAME,
    BUS_NAME,
    EVSE_BUS_NAME,
    EVSE_MISSING,
    LEAF_EXPIRES_SOON,
    NO_VALID_LEAF,
    OBJECT_PATH,
    SecurityMode,
    SessionState,
)
from ccy.v2g.dbus_iface import V2gInterface
from ccy.v2g.evse_client import AuthClient, EvseClient, auth_available
from ccy.v2g.exi import Namespace, codec
from ccy.v2g.journal_lines import SessionJournal
from ccy.v2g.properties import V2G_TABLE, V2gState
from ccy.v2g.sdp import NoLinkLocalAddress, SdpConfig, SdpResponder
from ccy.v2g.server import PeerInfo, ServerConfig, SessionGate, TransportCounters, V2gServer
from ccy.v2g.session import OfferError, SessionContext, SessionHandler, SessionManager
from ccy.v2g.session.base import is_failure
from ccy.v2g.settings import Security, V2gSettings

LEAF_CHECK_PERIOD_S = 3600.0
"""How often the SECC leaf's validity is checked again (expiry withdraws TLS)."""
SESSION_NAMESPACES = (Namespace.SAP, Namespace.CM, Namespace.DC)
"""The EXI grammars compiled before READY (see ``V2gUnit.start``)."""


class V2gUnit:
    """Wires session machine, transport and bus together."""

    def __init__(self, ctx: UnitContext) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.settings = s = V2gSettings.from_section(ctx.config.section("v2g"), ctx.paths)
        self.session_settings = s.session_settings()
        problems = []
        try:
            self.session_settings.check()
        except OfferError as exc:
            problems.append(ConfigProblem("config", 0, "v2g", str(exc)))
        try:
            tls.check_settings(ciphersuites=s.tls_ciphersuites, groups=s.tls_groups)
        except tls.InsecureTlsSetting as exc:
            problems.append(ConfigProblem("config", 0, "v2g", str(exc)))
        if problems:
            raise ConfigError(problems)
        self.layout = CertsLayout.for_paths(ctx.paths)
        self.state = V2gState()
        self.errors = ErrorRegistry(ctx.log)
        self.counters = TransportCounters()
        self.gate = SessionGate()
        self.ev_targets: dict[str, float] = {}
        self.message_counts: dict[str, int] = {}
        self.iface = V2gInterface(lambda: self.state, self._ev_targets, self._counters)
        self.errors_iface = ErrorsInterface(self.errors, emit_active=False)
        self.publisher = StatePublisher(ctx.log)
        self.publisher.add(V2G_TABLE, lambda: self.state, self.iface.emit_properties_changed)
        publish_errors(self.publisher, self.errors, self.errors_iface)
        self.publisher.listen(self._status)
        self.journal = SessionJournal(
            ctx.log,
            ctx.redactor.redact_fields,
            self.iface.v2g_message,
            self._session_changed,
            s.journal_charge_loop_every,
        )
        self.bus: MessageBus | None = None
        self.manager: SessionManager | None = None
        self.servers: list[V2gServer] = []
        self.sdp: SdpResponder | None = None
        self.tls_server: V2gServer | None = None
        self.leaf: cert_store.Leaf | None = None
        self._loops: list[asyncio.Task[Any]] = []
        self._last_status = ""

    # ---------------------------------------------------------------- bus views
    def _ev_targets(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.ev_targets.items() if not math.isinf(v)}

    def _counters(self) -> dict[str, int]:
        out = {k: v for k, v in self.message_counts.items() if v}
        out.update({f"transport_{k}": v for k, v in self.counters.as_dict().items() if v})
        return out

    # ---------------------------------------------------------------- session → state
    def _handler(self, peer: PeerInfo) -> SessionHandler:
        assert self.manager is not None
        handler = self.manager.handler_factory(peer)
        with self.publisher.input():
            st = self.state
            st.session_state = SessionState.CONNECTED
            st.security = SecurityMode.TLS if peer.tls else SecurityMode.NONE
            st.protocol, st.session_id, st.evse_session_id, st.evccid = ("", 0), "", "", ""
            st.selected_service, st.selected_parameters, st.ev_limits = (0, 0), {}, {}
            self.ev_targets = {}
        return handler

    def _session_changed(self, ctx: SessionContext, response: str | None, code: str) -> None:
        """After each response (its name and ResponseCode) and when the connection ended."""
        if (
            response == "DC_ChargeLoopRes"
            and code == "OK"
            and self.state.session_state is SessionState.CHARGE_LOOP
        ):
            # The hot path: only EvTargets and MessageCounters move (neither is emitted);
            # no state diff per loop.
            self._count(ctx)
            self.ev_targets = dict(ctx.ev_targets)
            self.ev_targets["SOC"] = ctx.soc
            return
        with self.publisher.input():
            st = self.state
            self._count(ctx)
            if response is None:
                st.session_state = SessionState.PAUSED if ctx.paused else SessionState.IDLE
                st.security = SecurityMode.NO_CONNECTION
            elif is_failure(code):
                st.session_state = SessionState.FAILED
            elif response == "SessionStopRes" and ctx.paused:
                st.session_state = SessionState.PAUSED
            else:
                st.session_state = SessionState.of_request(response[: -len("Res")] + "Req")
            st.protocol = (ctx.protocol, ctx.schema_id or 0)
            st.session_id, st.evse_session_id = ctx.session_id, ctx.evse_session_id
            st.evccid = ctx.evccid_redacted
            if ctx.service is not None and ctx.parameter_set is not None:
                st.selected_service = (int(ctx.service), ctx.parameter_set.set_id)
                st.selected_parameters = dict(ctx.parameter_set.parameters)
            st.ev_limits = dict(ctx.ev_limits)
            st.last_error = ctx.last_error or st.last_error
            self.ev_targets = dict(ctx.ev_targets)
            if not math.isnan(ctx.soc):
                self.ev_targets["SOC"] = ctx.soc
        if response is None:  # the connection ended: its TLS, EXI and state freed
            release_free_heap_soon()

    def _count(self, ctx: SessionContext) -> None:
        """Move the session's message counts into the unit's (MessageCounters)."""
        for counts in (ctx.requests, ctx.responses):
            for name, n in counts.items():
                self.message_counts[name] = self.message_counts.get(name, 0) + n
            counts.clear()

    # ---------------------------------------------------------------- peers
    def _on_evse_owner(self, old: str, new: str) -> None:
        with self.publisher.input():
            if new:
                self.errors.clear_error(EVSE_MISSING)
                self.state.waiting_for = tuple(
                    n for n in self.state.waiting_for if n != EVSE_BUS_NAME
                )
                self.log.info("%s is on the bus: vehicle sessions are accepted", EVSE_BUS_NAME)
            else:
                self.errors.raise_error(EVSE_MISSING, message=EVSE_MISSING.description)
                if EVSE_BUS_NAME not in self.state.waiting_for:
                    self.state.waiting_for = (*self.state.waiting_for, EVSE_BUS_NAME)

    def _on_auth_owner(self, old: str, new: str) -> None:
        if self.manager is None or self.bus is None:
            return
        if new:
            self.manager.set_auth(AuthClient(self.bus, self.settings.evse_call_timeout_s))
            self.log.info("%s is on the bus: Plug & Charge and Autocharge go to it", AUTH_BUS_NAME)
        else:
            self.manager.set_auth(None)

    # ---------------------------------------------------------------- certificates
    def _find_leaf(self) -> cert_store.Leaf | None:
        s = self.settings
        try:
            leaf = cert_store.find_valid_leaf(
                self.layout, warn_days=s.leaf_expiry_warning_days, log=self.log
            )
        except cert_store.CertStoreError as exc:
            self.errors.raise_error(NO_VALID_LEAF, subtype="", message=str(exc))
            self.log.error("%s: TLS is not offered", exc)
            return None
        self.errors.clear_type(NO_VALID_LEAF)
        left = leaf.not_after - datetime.datetime.now(datetime.UTC)
        if left < datetime.timedelta(days=s.leaf_expiry_warning_days):
            self.errors.raise_error(
                LEAF_EXPIRES_SOON,
                message=f"the SECC leaf expires {leaf.not_after:%Y-%m-%d %H:%M} UTC",
            )
        else:
            self.errors.clear_error(LEAF_EXPIRES_SOON)
        return leaf

    def _server_config(self, port: int, context: Any) -> ServerConfig:
        s = self.settings
        return ServerConfig(
            host="::",
            port=port,
            max_payload_bytes=s.max_payload_bytes,
            message_timeout_s=s.message_timeout_s,
            idle_timeout_s=s.sequence_timeout_s,
            tls=context,
            tls_handshake_timeout_s=s.tls_handshake_timeout_s,
        )

    async def _start_transport(self) -> None:
        s = self.settings
        with self.publisher.input():
            self.leaf = self._find_leaf() if s.security is not Security.NONE else None
        if self.leaf is not None:
            context = tls.server_context(
                self.leaf,
                ciphersuites=s.tls_ciphersuites,
                groups=s.tls_groups,
                client_ca_file=self.layout.oem_root if s.mutual_tls else None,
            )
            self.tls_server = V2gServer(
                self._server_config(s.tls_port, context),
                self._handler,
                counters=self.counters,
                gate=self.gate,
                log=self.log,
            )
            self.servers.append(self.tls_server)
        if s.security is not Security.TLS:
            self.servers.append(
                V2gServer(
                    self._server_config(s.tcp_port, None),
                    self._handler,
                    counters=self.counters,
                    gate=self.gate,
                    log=self.log,
                )
            )
        for server in self.servers:
            try:
                await server.start()
            except OSError as exc:
                raise UnitStartError(f"V2G server: cannot listen: {exc}") from exc
        tls_port = self.tls_server.port if self.tls_server is not None else None
        tcp_servers = [x for x in self.servers if x is not self.tls_server]
        tcp_port = tcp_servers[0].port if tcp_servers else None
        self.sdp = SdpResponder(
            SdpConfig(s.interface, s.sdp_port, tls_port=tls_port, tcp_port=tcp_port),
            counters=self.counters,
            log=self.log,
        )
        try:
            await self.sdp.start()
        except (OSError, NoLinkLocalAddress) as exc:
            raise UnitStartError(f"SDP on {s.interface} UDP {s.sdp_port}: {exc}") from exc
        with self.publisher.input():
            st = self.state
            st.sdp_port, st.tls_port, st.tcp_port = self.sdp.port, tls_port or 0, tcp_port or 0
            if self.leaf is not None:
                st.leaf = (str(self.leaf.chain_file), self.leaf.not_after.timestamp())
        if not self.servers:
            self.log.error("No V2G session is offered: security is tls and no SECC leaf is valid")

    async def _leaf_loop(self) -> None:
        while True:
            await asyncio.sleep(LEAF_CHECK_PERIOD_S)
            if self.tls_server is None or self.sdp is None:
                continue
            with self.publisher.input():
                leaf = self._find_leaf()
                if leaf is None:
                    self.sdp.set_ports(tls_port=None, tcp_port=self.state.tcp_port or None)
                    self.state.tls_port, self.state.leaf = 0, ("", 0.0)

    # ---------------------------------------------------------------- unit
    async def start(self) -> None:
        self.bus = b = await bus.connect_system_bus()
        b.export(OBJECT_PATH, self.iface)
        b.export(OBJECT_PATH, self.errors_iface)
        self._spawn_forever(_bus_connection(b), "bus-connection")
        self.manager = SessionManager(
            self.session_settings,
            EvseClient(b, self.settings.evse_call_timeout_s),
            None,
            observer=self.journal,
            log=self.log,
            redact=self.ctx.redactor.redact,
        )
        owner = await bus.watch_name_owner(b, EVSE_BUS_NAME, self._on_evse_owner)
        self._on_evse_owner("", owner)
        if auth_available():
            owner = await bus.watch_name_owner(b, AUTH_BUS_NAME, self._on_auth_owner)
            if owner:
                self._on_auth_owner("", owner)
        await self._start_transport()
        self._spawn_forever(self._leaf_loop(), "leaf-check")
        # The grammars every DC session speaks (SAP, CommonMessages, DC), compiled now rather
        # than by the first session's first messages (import and compile: tens of ms there).
        # AC and the lenient fallback grammars of ccy.v2g.exi.lenient stay built on first use.
        for ns in SESSION_NAMESPACES:
            codec.grammars(ns.name)
        await bus.own_name(b, BUS_NAME)
        # What start-up built (the codec's grammars, config, certificates) lives as long as
        # the unit: out of the collector's sight, so no full collection walks it during a
        # charge loop.
        gc.collect()
        gc.freeze()

    def _spawn_forever(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._loops.append(task)
        self.ctx.supervise(task, forever=True)

    def _status(self, diff: StateDiff) -> None:
        """STATUS= only when its coarse text changes (not once per message: the charge loop
        must not pay a datagram per request)."""
        text = self.status_text()
        if text != self._last_status:
            self._last_status = text
            notify.status(text)

    def status_text(self) -> str:
        st = self.state
        if st.session_state is SessionState.IDLE:
            phase = "no vehicle connected"
        elif st.session_state in (SessionState.PAUSED, SessionState.FAILED):
            phase = f"last session {st.session_state.value.lower()}"
        else:
            phase = f"session with a vehicle ({st.security.value or 'connecting'})"
        ports = f"SDP {st.sdp_port}, TCP {st.tcp_port or '-'}, TLS {st.tls_port or '-'}"
        waiting = f"; waiting for {', '.join(st.waiting_for)}" if st.waiting_for else ""
        return f"{phase}; {ports}{waiting}"

    def healthy(self) -> bool:
        return self.bus is not None and self.bus.connected

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self.sdp is not None:
            await self.sdp.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.close()
        if self.manager is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.manager.drain(), 2.0)
        if self.bus is not None:
            self.bus.disconnect()


async def _bus_connection(b: MessageBus) -> None:
    await b.wait_for_disconnect()  # type: ignore[no-untyped-call]
    raise ConnectionError("the system bus connection was lost")


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_unit("ccy-v2g", V2gUnit, argv))


if __name__ == "__main__":
    main()
