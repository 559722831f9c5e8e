# SPDX-License-Identifier: Apache-2.0
"""ccy-auth: the unit that owns org.ccy.Auth (token providers, validators, selection,
reservations).

The glue around the pure core (:mod:`ccy.auth.core`). Every input — a token from a provider,
a validator's verdict, ccy-evse's session signals, an Authorize answer, the tick, an operator
command — runs as *core call → effects → one PropertiesChanged* through the StatePublisher.
The effects are carried out here: the validator chain runs as a task per token, Evse1 calls
go out as tasks whose answers come back as inputs, ValidationResult/TokenFinished signals
are emitted, and the RFID reader gets its answer line.

Journal lines follow the seed's wording (auth:Auth, token_provider, token_validator):
"Publishing new dummy token", "Received new token", "Got validation request for token",
"Returning validation status: Accepted", "Providing authorization to evse#1", "Result for
token: [redacted] hash: …: ACCEPTED". Every identity is passed through the runtime's
redaction function (ctx.redactor) before it reaches a log call, the bus or a signal.

Start-up: open the reservation store (a damaged one is moved aside and reported), load the
local list and the trust store, connect, export org.ccy.Auth1 + org.ccy.Errors1, watch
org.ccy.Evse, own org.ccy.Auth, then the tick, the list watcher and the RFID reader run.
ccy-auth becomes READY without ccy-evse (WaitingFor shows it).
"""

import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError

from ccy.auth.contract import (
    BUS_NAME,
    LOCAL_LIST_INVALID,
    OBJECT_PATH,
    RESERVATION_STORE_DAMAGED,
    RFID_READER_LOST,
    TRUST_STORE_EMPTY,
    ProvideStatus,
    TokenType,
)
from ccy.auth.core import (
    Announce,
    AuthCore,
    Authorize,
    CommandRefused,
    Deauthorize,
    Effect,
    Finished,
    SetReservation,
    StopTransaction,
    Validate,
)
from ccy.auth.dbus_iface import AuthInterface
from ccy.auth.evse_peer import EvseListener, EvsePeer, EvseUnavailable, Snapshot
from ccy.auth.properties import AUTH_TABLE, View
from ccy.auth.providers.rfid import RfidReader
from ccy.auth.reservations import ReservationStore, StoreError
from ccy.auth.settings import PROVIDER_OF_TYPE, AuthSettings, Provider, ValidatorName
from ccy.auth.tokens import MAX_TOKEN_LENGTH, Token, TokenProblem, check_id, make_token, normalize
from ccy.auth.validators.accept_all import AcceptAll
from ccy.auth.validators.base import Validator, run_chain
from ccy.auth.validators.local_list import LocalList
from ccy.evse.contract import BUS_NAME as EVSE_BUS_NAME
from ccy.runtime import bus, notify
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.errors_iface import ErrorsInterface, publish_errors
from ccy.runtime.redact import is_redacted
from ccy.runtime.service import UnitContext, UnitStartError, run_unit
from ccy.runtime.state import StateDiff, StatePublisher

if TYPE_CHECKING:
    from ccy.auth.validators.pnc import PncValidator

TICK_PERIOD_S = 0.2
"""Connection timeouts and reservation expiry are checked this often."""
CONNECTOR = 1
"""The one connector the bus side watches (org.ccy.Evse at /org/ccy/Evse)."""
ID_TOKEN_TYPES: dict[TokenType, str] = {
    TokenType.RFID: "ISO14443",
    TokenType.EIM: "Local",
    TokenType.AUTOCHARGE: "MacAddress",
    TokenType.PNC: "eMAID",
    TokenType.OPERATOR: "Central",
}
"""OCPP 2.0.1 IdTokenEnumType of each token type, for the journal's token objects."""


class AuthUnit:
    def __init__(self, ctx: UnitContext, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.clock = clock
        self.redactor = ctx.redactor
        self.settings = s = AuthSettings.from_section(ctx.config.section("auth"), ctx.paths)
        self.errors = ErrorRegistry(ctx.log)
        state_dir = ctx.paths.state_dir("ccy-auth")
        try:
            store, damaged = ReservationStore.open(state_dir)
        except (StoreError, OSError) as exc:
            raise UnitStartError(f"reservation store in {state_dir}: {exc}") from exc
        if damaged is not None:
            text = f"{damaged.file}: {damaged.reason}; moved aside to {damaged.moved_to.name}"
            self.log.warning("Reservation store damaged, starting an empty one: %s", text)
            self.errors.raise_error(RESERVATION_STORE_DAMAGED, message=text)
        self.local_list = LocalList(s.local_list_file, self.redactor.redact)
        self.pnc: PncValidator | None = None
        """Built only when auth.validators names pnc: its X.509 code (the ``cryptography``
        package, 3 MiB) is imported here, at start, never on a token's path."""
        if ValidatorName.PNC in s.validators:
            from ccy.auth.validators import pnc

            self.pnc = pnc.PncValidator(s.pnc_trust_store, [str(c) for c in s.pnc_curves])
        self.validators: list[Validator] = []
        for name in s.validators:
            if name is ValidatorName.ACCEPT_ALL:
                self.validators.append(AcceptAll(s.accept_all_delay_s))
            elif name is ValidatorName.LOCAL_LIST:
                self.validators.append(self.local_list)
            elif self.pnc is not None:
                self.validators.append(self.pnc)
        self.core = AuthCore(
            s.connectors,
            s.selection_algorithm,
            float(s.connection_timeout_s),
            store,
            ctx.log,
            self._master_pass_hash,
        )
        self.core.state.waiting_for = [EVSE_BUS_NAME]
        self.iface = AuthInterface(self._view, self, ctx.log)
        self.errors_iface = ErrorsInterface(self.errors, emit_active=False)
        self.publisher = StatePublisher(ctx.log)
        self.publisher.add(AUTH_TABLE, self._view, self.iface.emit_properties_changed)
        publish_errors(self.publisher, self.errors, self.errors_iface)
        self.publisher.listen(self._status)
        self.bus: MessageBus | None = None
        self.peer: EvsePeer | None = None
        self.rfid: RfidReader | None = None
        self._last_tick = clock()
        self._loops: list[asyncio.Task[Any]] = []

    def _view(self) -> View:
        return View(self.core.state, self.settings)

    def _master_pass_hash(self) -> str:
        group = self.local_list.master_pass_group_id or self.settings.master_pass_group_id
        return self.redactor.redact(group) if group else ""

    # ---------------------------------------------------------------- inputs
    def _input(self, call: Callable[[float], list[Effect]]) -> None:
        with self.publisher.input():
            self.core.state.master_pass_configured = bool(self._master_pass_hash())
            for effect in call(self.clock()):
                self._apply(effect)

    def _apply(self, effect: Effect) -> None:
        if isinstance(effect, Validate):
            self._spawn(self._validate(effect.token), "validate")
        elif isinstance(effect, Authorize):
            self._spawn(self._authorize(effect), "authorize")
        elif isinstance(effect, Deauthorize):
            if self.peer is not None and self.peer.owner:
                call = self.peer.deauthorize(effect.session_id, effect.reason)
                self._spawn(self._evse_call("Deauthorize", call), "deauthorize")
        elif isinstance(effect, StopTransaction):
            self._spawn(self._evse_call("StopTransaction", self._stop()), "stop-transaction")
        elif isinstance(effect, SetReservation):
            if self.peer is not None and self.peer.owner:
                call = self.peer.set_reservation(effect.reservation_id, effect.expires_at)
                self._spawn(self._evse_call("SetReservation", call), "set-reservation")
        elif isinstance(effect, Announce):
            v = effect.verdict
            t = effect.token
            self.iface.validation_result(t.hash, str(t.type), str(v.status), v.reason)
            if effect.token.source == Provider.RFID and self.rfid is not None:
                self.rfid.tell(v.status)
        elif isinstance(effect, Finished):
            self.iface.token_finished(effect.token.hash, str(effect.outcome), effect.connector)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> "asyncio.Task[Any]":
        return self.ctx.supervise(asyncio.get_running_loop().create_task(coro, name=name))

    async def _validate(self, token: Token) -> None:
        self.log.info("Got validation request for token: %s", token.hash)
        verdict = await run_chain(self.validators, token)
        self.log.info("Returning validation status: %s", verdict.status)
        if verdict.reason and not verdict.accepted:
            self.log.info("Token %s: %s", token.hash, verdict.reason)
        self._input(lambda now: self.core.validated(token.hash, verdict, now))

    async def _authorize(self, a: Authorize) -> None:
        ok, reason = True, ""
        try:
            if self.peer is None:
                raise EvseUnavailable(f"{EVSE_BUS_NAME} is not on the bus")
            await self.peer.authorize(a.session_id, a.token.hash, a.token.type)
        except (DBusError, EvseUnavailable, TimeoutError) as exc:
            ok, reason = False, _why(exc)
        self._input(
            lambda now: self.core.authorize_done(a.connector, a.token.hash, ok, reason, now)
        )

    async def _stop(self) -> None:
        if self.peer is None:
            raise EvseUnavailable(f"{EVSE_BUS_NAME} is not on the bus")
        await self.peer.stop_transaction()

    async def _evse_call(self, what: str, call: Coroutine[Any, Any, None]) -> None:
        try:
            await call
        except (DBusError, EvseUnavailable, TimeoutError) as exc:
            self.log.warning("Evse1.%s failed: %s", what, _why(exc))

    # ---------------------------------------------------------------- providers
    def take(self, token: Token) -> tuple[ProvideStatus, str]:
        """A well-formed token from any provider: logged, then the core decides."""
        self.log.info("Received new token: %s", self._token_json(token))
        result: list[tuple[ProvideStatus, str]] = []

        def call(now: float) -> list[Effect]:
            status, reason, effects = self.core.provide(token, now)
            result.append((status, reason))
            return effects

        self._input(call)
        return result[0]

    def _token_json(self, token: Token) -> str:
        view: dict[str, Any] = {
            "authorization_type": str(token.type),
            "id_token": {"type": ID_TOKEN_TYPES[token.type], "value": token.value},
        }
        if token.parent_value:
            view["parent_id_token"] = {"type": "Local", "value": token.parent_value}
        if token.connectors:
            view["connectors"] = list(token.connectors)
        return json.dumps(self.redactor.redact_fields(view), indent=4)

    def _dummy(self, session_id: str) -> None:
        s = self.settings
        if Provider.DUMMY not in s.providers:
            return

        async def publish() -> None:
            if s.dummy_token_delay_s > 0:
                await asyncio.sleep(s.dummy_token_delay_s)
            try:
                token = make_token(
                    s.dummy_token_id, s.dummy_token_type, self.redactor.redact, source="dummy"
                )
            except TokenProblem as exc:
                self.log.warning("dummy token provider: dummy_token_id: %s", exc)
                return
            self.log.info("Publishing new dummy token: %s", self._token_json(token))
            self.take(token)

        self._spawn(publish(), "dummy-token")

    def _rfid_card(self, uid: str) -> None:
        try:
            token = make_token(uid, TokenType.RFID, self.redactor.redact, source="rfid")
        except TokenProblem as exc:
            self.log.warning("RFID reader: card dropped: %s", exc)
            return
        status, reason = self.take(token)
        if status is not ProvideStatus.PENDING and self.rfid is not None:
            self.rfid.tell(str(status))
            self.log.info("RFID card %s: %s", token.hash, reason)

    # ---------------------------------------------------------------- bus commands
    def provide_token(
        self, token: str, token_type: str, parent_id: str, connectors: list[int], chain: str
    ) -> list[str]:
        try:
            kind = TokenType(token_type)
        except ValueError:
            raise CommandRefused(
                "InvalidArgument", f"token_type must be one of {', '.join(TokenType)}"
            ) from None
        provider = PROVIDER_OF_TYPE[kind]
        if provider not in self.settings.providers:
            raise CommandRefused(
                "NotSupported",
                f"the {provider} provider (token type {kind}) is switched off (auth.providers)",
            )
        try:
            t = make_token(
                token,
                kind,
                self.redactor.redact,
                parent_id=parent_id,
                connectors=tuple(connectors),
                certificate_chain=chain,
                source=str(provider),
            )
        except TokenProblem as exc:
            hashed = self.redactor.redact(token[:MAX_TOKEN_LENGTH])
            self.log.info("Token %s (%s) refused: %s", hashed or "''", kind, exc)
            return [hashed, ProvideStatus.INVALID.value, str(exc)]
        status, reason = self.take(t)
        return [t.hash, status.value, reason]

    def list_tokens(self) -> list[list[object]]:
        return [
            [h.token.hash, h.token.type.value, h.stage.value, h.connector, h.received_wall]
            for h in self.core.tokens()
        ]

    def reserve(self, token: str, parent_id: str, connector: int, expires_at: float) -> str:
        try:
            token_hash = token if is_redacted(token) else self.redactor.redact(_reserved(token))
            parent = self.redactor.redact(check_id(parent_id, "parent id")) if parent_id else ""
        except TokenProblem as exc:
            raise CommandRefused("InvalidArgument", str(exc)) from None
        result: list[str] = []

        def call(_now: float) -> list[Effect]:
            try:
                r, effects = self.core.reserve(token_hash, parent, connector, expires_at)
            except StoreError as exc:
                raise CommandRefused("Failed", str(exc)) from None
            result.append(r.id)
            return effects

        self._input(call)
        return result[0]

    def cancel_reservation(self, reservation_id: str) -> None:
        self._input(lambda _now: self.core.cancel(reservation_id))

    # ---------------------------------------------------------------- ccy-evse
    def _evse_listener(self) -> EvseListener:
        def appeared(s: Snapshot) -> None:
            def call(now: float) -> list[Effect]:
                self.core.state.waiting_for = []
                snap = self.core.evse_snapshot(
                    CONNECTOR, s.session_id, s.authorized, s.transaction_id, now
                )
                return snap + self.core.reservation_effects()

            self.log.info("%s is on the bus", EVSE_BUS_NAME)
            self._input(call)

        def vanished() -> None:
            def call(_now: float) -> list[Effect]:
                self.core.state.waiting_for = [EVSE_BUS_NAME]
                return self.core.evse_lost()

            self.log.info("Waiting for %s", EVSE_BUS_NAME)
            self._input(call)

        def session_started(session_id: str) -> None:
            if self.core.connectors[CONNECTOR].session_id == session_id:
                return
            self._input(lambda now: self.core.session_started(CONNECTOR, session_id, now))
            self._dummy(session_id)

        return EvseListener(
            appeared=appeared,
            vanished=vanished,
            session_started=session_started,
            session_finished=lambda sid: self._input(
                lambda now: self.core.session_finished(CONNECTOR, sid, now)
            ),
            transaction_started=lambda tx, token: self._input(
                lambda _now: self.core.transaction_started(CONNECTOR, tx, token)
            ),
            transaction_finished=lambda tx: self._input(
                lambda now: self.core.transaction_finished(CONNECTOR, tx, now)
            ),
        )

    # ---------------------------------------------------------------- loops
    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_PERIOD_S)
            self._last_tick = self.clock()
            self._input(self.core.tick)

    async def _list_loop(self) -> None:
        while True:
            await self._reload_list()
            await asyncio.sleep(self.settings.local_list_poll_s)

    async def _reload_list(self) -> None:
        # A 100,000-entry list takes seconds to parse: off the loop, swapped in on it.
        problems = await asyncio.to_thread(self.local_list.reload_if_changed)
        if problems is None:
            return
        with self.publisher.input():
            if problems:
                for line in problems:
                    self.log.warning("%s", line)
                self.errors.raise_error(
                    LOCAL_LIST_INVALID, message=f"{len(problems)} problems; see the journal"
                )
            else:
                self.log.info(
                    "Local list %s: %d tokens", self.local_list.path, len(self.local_list.current)
                )
                self.errors.clear_error(LOCAL_LIST_INVALID)
            self.core.state.master_pass_configured = bool(self._master_pass_hash())

    def _load_trust_store(self) -> None:
        if self.pnc is None:
            return
        store = self.pnc.reload()
        for problem in store.problems:
            self.log.warning("Trust store: %s", problem)
        if not store.roots:
            self.errors.raise_error(
                TRUST_STORE_EMPTY, message=f"no readable MO root in {self.settings.pnc_trust_store}"
            )
        else:
            self.log.info(
                "Trust store %s: %d MO roots", self.settings.pnc_trust_store, len(store.roots)
            )

    # ---------------------------------------------------------------- unit
    async def start(self) -> None:
        s = self.settings
        if ValidatorName.PNC in s.validators:
            with self.publisher.input():
                self._load_trust_store()
        if ValidatorName.LOCAL_LIST in s.validators:
            await self._reload_list()
        self.bus = b = await bus.connect_system_bus()
        b.export(OBJECT_PATH, self.iface)
        b.export(OBJECT_PATH, self.errors_iface)
        self._forever(_bus_connection(b), "bus-connection")
        self.peer = EvsePeer(b, self._evse_listener(), self._spawn)
        await self.peer.start()
        await bus.own_name(b, BUS_NAME)
        self._forever(self._tick_loop(), "tick")
        if ValidatorName.LOCAL_LIST in s.validators and s.local_list_file is not None:
            self._forever(self._list_loop(), "local-list")
        if Provider.RFID in s.providers:
            self.rfid = RfidReader(
                s.rfid_port,
                s.rfid_baud_Bd,
                s.rfid_debounce_s,
                self._rfid_card,
                self.log,
                on_lost=lambda reason: self._errors_input(
                    lambda: self.errors.raise_error(
                        RFID_READER_LOST, str(s.rfid_port), message=reason
                    )
                ),
                on_back=lambda: self._errors_input(
                    lambda: self.errors.clear_error(RFID_READER_LOST, str(s.rfid_port))
                ),
            )
            self._forever(self.rfid.run(), "rfid-reader")

    def _errors_input(self, change: Callable[[], object]) -> None:
        with self.publisher.input():
            change()

    def _forever(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._loops.append(task)
        self.ctx.supervise(task, forever=True)

    def _status(self, _diff: StateDiff) -> None:
        notify.status(self.status_text())

    def status_text(self) -> str:
        evse = "waiting for ccy-evse" if self.core.state.waiting_for else "ccy-evse seen"
        return (
            f"{len(self.core.held)} tokens held, {len(self.core.state.reservations)} "
            f"reservations, {evse}"
        )

    def healthy(self) -> bool:
        return self.clock() - self._last_tick < 10 * TICK_PERIOD_S + 5.0

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self.core.store.close()
        if self.bus is not None:
            self.bus.disconnect()


def _why(exc: BaseException) -> str:
    if isinstance(exc, DBusError):
        return f"{exc.type}: {exc.text}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc)


def _reserved(token: str) -> str:
    """A reserved token in the normal form of the type its form shows (see Reserve)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return normalize(token, TokenType.EIM)  # raises the named problem
    for kind in (TokenType.RFID, TokenType.AUTOCHARGE, TokenType.PNC):
        try:
            return normalize(token, kind)
        except TokenProblem:
            continue
    return check_id(token, "token")


async def _bus_connection(b: MessageBus) -> None:
    await b.wait_for_disconnect()  # type: ignore[no-untyped-call]
    raise ConnectionError("the system bus connection was lost")


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_unit("ccy-auth", AuthUnit, argv))


if __name__ == "__main__":
    main()
