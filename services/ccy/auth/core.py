# SPDX-License-Identifier: Apache-2.0
"""The authorization core: tokens, selection, timeouts, master pass, reservations (no bus).

Every input is a method that returns effects for the glue to carry out (validate a token,
call Evse1.Authorize/StopTransaction/SetReservation, announce a result). Times come in as
arguments (``now`` monotonic seconds) or from the injected wall clock (reservations), so the
tests drive it on a fake clock. The selection follows EVerest's Auth module, for N
connectors:

- a token is refused at once when malformed (by the caller, :mod:`ccy.auth.tokens`) or when
  the same token is held already: validating, waiting for a plug-in, authorizing, or in use
  by a session (until its transaction or session ends) → ConcurrentTx;
- an accepted token goes to a connector with a session waiting for authorization (FindFirst:
  the lowest number; PlugEvents: the earliest plug-in), among the token's connectors; a
  reserved connector takes only the reservation's token or a token of its parent id;
- with no such connector it waits ``connection_timeout_s`` for a plug-in, then it is dropped
  (TimedOut);
- a master pass (its group id is the master pass group) stops every transaction on its
  connectors through Evse1.StopTransaction(MasterPass) and never authorizes.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ccy.auth.contract import Outcome, ProvideStatus, SelectionAlgorithm, Stage, TokenType
from ccy.auth.reservations import Reservation, ReservationStore
from ccy.auth.tokens import Token
from ccy.auth.validators.base import Verdict
from ccy.runtime.refusal import Refusal

MAX_RESERVATION_S = 7 * 24 * 3600.0
"""Longest reservation taken (Reserve's documented bound)."""


class CommandRefused(Refusal):
    """A bus command refused: ``kind`` is the org.ccy.Error name (InvalidArgument, …)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(kind, message)


# ---------------------------------------------------------------- effects
@dataclass(frozen=True)
class Validate:
    token: Token


@dataclass(frozen=True)
class Authorize:
    connector: int
    session_id: str
    token: Token


@dataclass(frozen=True)
class StopTransaction:
    connector: int


@dataclass(frozen=True)
class Deauthorize:
    """A vehicle's Plug & Charge contract was refused: its session is told (Evse1.Deauthorize),
    so ccy-v2g answers the vehicle WARNING_GeneralPnCAuthorizationError instead of Ongoing."""

    connector: int
    session_id: str
    reason: str


@dataclass(frozen=True)
class SetReservation:
    connector: int
    reservation_id: str
    """"" clears it."""
    expires_at: float


@dataclass(frozen=True)
class Announce:
    """The validators' result for a token (ValidationResult signal)."""

    token: Token
    verdict: Verdict


@dataclass(frozen=True)
class Finished:
    token: Token
    outcome: Outcome
    connector: int


Effect = Validate | Authorize | Deauthorize | StopTransaction | SetReservation | Announce | Finished


# ---------------------------------------------------------------- state
@dataclass
class Connector:
    number: int
    session_id: str = ""
    plugged_at: float = 0.0
    authorized: bool = False
    authorizing: bool = False
    transaction_id: str = ""
    token_hash: str = ""
    """The token that authorized the session (ours or the one TransactionStarted named)."""

    def waiting(self) -> bool:
        return bool(self.session_id) and not self.authorized and not self.authorizing


@dataclass
class Held:
    token: Token
    stage: Stage
    received_at: float
    received_wall: float
    deadline: float = 0.0
    connector: int = 0
    session_id: str = ""
    """The session Authorize was sent for."""
    group_hash: str = ""


@dataclass
class AuthState:
    """What the properties show (ccy.auth.properties)."""

    reservations: list[Reservation] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)
    master_pass_configured: bool = False


class AuthCore:
    def __init__(
        self,
        connectors: int,
        algorithm: SelectionAlgorithm,
        connection_timeout_s: float,
        store: ReservationStore,
        log: logging.Logger,
        master_pass_hash: Callable[[], str] = lambda: "",
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.connectors = {n: Connector(n) for n in range(1, connectors + 1)}
        self.algorithm = algorithm
        self.timeout_s = connection_timeout_s
        self.store = store
        self.log = log
        self.master_pass_hash = master_pass_hash
        self.wall = wall
        self.held: list[Held] = []
        self.state = AuthState(reservations=store.all())
        self.state.master_pass_configured = bool(master_pass_hash())

    # ------------------------------------------------------------ tokens
    def provide(self, token: Token, now: float) -> tuple[ProvideStatus, str, list[Effect]]:
        """A well-formed token from a provider: taken (Pending) or refused (ConcurrentTx)."""
        for c in token.connectors:
            if c not in self.connectors:
                raise CommandRefused(
                    "InvalidArgument", f"connector {c} does not exist (1..{len(self.connectors)})"
                )
        if self._in_use(token.hash):
            self.log.info("Token %s refused: it is in use already", token.hash)
            return ProvideStatus.CONCURRENT_TX, "the token is in use already", []
        self.held.append(Held(token, Stage.VALIDATING, now, self.wall()))
        return ProvideStatus.PENDING, "", [Validate(token)]

    def _in_use(self, token_hash: str) -> bool:
        return any(h.token.hash == token_hash for h in self.held) or any(
            c.token_hash == token_hash for c in self.connectors.values()
        )

    def _find(self, token_hash: str, stage: Stage | None = None) -> Held | None:
        for h in self.held:
            if h.token.hash == token_hash and (stage is None or h.stage is stage):
                return h
        return None

    def validated(self, token_hash: str, verdict: Verdict, now: float) -> list[Effect]:
        """The validator chain's verdict for a token taken before."""
        held = self._find(token_hash, Stage.VALIDATING)
        if held is None:
            return []
        effects: list[Effect] = [Announce(held.token, verdict)]
        if not verdict.accepted:
            self.held.remove(held)
            self.log.info("Result for token: %s: %s", token_hash, verdict.status.upper())
            effects.append(Finished(held.token, Outcome.REFUSED, 0))
            return effects + self._refused(held, verdict)
        held.group_hash = verdict.group_hash or held.token.parent_hash
        master = self.master_pass_hash()
        if master and held.group_hash == master:
            self.held.remove(held)
            return effects + self._master_pass(held.token)
        held.stage = Stage.WAITING_FOR_PLUG_IN
        held.deadline = now + self.timeout_s
        return effects + self._select(now)

    def _refused(self, held: Held, verdict: Verdict) -> list[Effect]:
        """A refused PnC contract came from the vehicle of the session waiting for it: that
        session is refused too (ccy-v2g ends it), unless more than one session waits and the
        vehicle is not known (then the SECC's Ongoing limit ends it)."""
        if held.token.type is not TokenType.PNC:
            return []
        waiting = [c for c in self._candidates(held.token) if c.waiting()]
        if len(waiting) != 1:
            return []
        why = f"{verdict.status}: {verdict.reason}" if verdict.reason else str(verdict.status)
        return [Deauthorize(waiting[0].number, waiting[0].session_id, why)]

    def _master_pass(self, token: Token) -> list[Effect]:
        stopped = [
            c for c in self._candidates(token) if c.transaction_id or c.authorized or c.authorizing
        ]
        if not stopped:
            self.log.info("Master pass %s: no transaction to stop", token.hash)
        effects: list[Effect] = []
        for c in stopped:
            self.log.info(
                "Master pass %s: stopping the transaction on evse#%d", token.hash, c.number
            )
            effects.append(StopTransaction(c.number))
        first = stopped[0].number if stopped else 0
        return [*effects, Finished(token, Outcome.MASTER_PASS, first)]

    def _candidates(self, token: Token) -> list[Connector]:
        wanted = token.connectors or tuple(self.connectors)
        return [self.connectors[n] for n in sorted(set(wanted))]

    def _reservation(self, connector: int) -> Reservation | None:
        return next((r for r in self.state.reservations if r.connector == connector), None)

    def _admits(self, c: Connector, held: Held) -> bool:
        r = self._reservation(c.number)
        return r is None or r.admits(held.token.hash, held.group_hash)

    def _select(self, now: float) -> list[Effect]:
        effects: list[Effect] = []
        for held in [h for h in self.held if h.stage is Stage.WAITING_FOR_PLUG_IN]:
            ready = [
                c for c in self._candidates(held.token) if c.waiting() and self._admits(c, held)
            ]
            if not ready:
                continue
            if self.algorithm is SelectionAlgorithm.PLUG_EVENTS:
                chosen = min(ready, key=lambda c: (c.plugged_at, c.number))
            else:
                chosen = ready[0]
            held.stage, held.connector = Stage.AUTHORIZING, chosen.number
            held.session_id = chosen.session_id
            chosen.authorizing = True
            self.log.info("Providing authorization to evse#%d", chosen.number)
            effects.append(Authorize(chosen.number, chosen.session_id, held.token))
        return effects

    def authorize_done(
        self, connector: int, token_hash: str, ok: bool, reason: str, now: float
    ) -> list[Effect]:
        """Evse1.Authorize answered (ok) or failed (reason)."""
        c = self.connectors[connector]
        held = self._find(token_hash, Stage.AUTHORIZING)
        if held is None:
            return []
        if held.session_id != c.session_id:
            # the session ended (or another began) while Authorize was under way: the answer
            # concerns a session that is gone; the token is free again
            self.held.remove(held)
            self.log.info("Authorization on evse#%d answered after its session ended", connector)
            outcome = Outcome.AUTHORIZED if ok else Outcome.FAILED
            return [Finished(held.token, outcome, connector)]
        c.authorizing = False
        if not ok:
            self.held.remove(held)
            self.log.warning("Authorization on evse#%d failed: %s", connector, reason)
            return [Finished(held.token, Outcome.FAILED, connector)]
        c.authorized = True
        c.token_hash = token_hash
        held.stage = Stage.IN_USE
        self.log.info("Result for token: %s: ACCEPTED", token_hash)
        effects: list[Effect] = [Finished(held.token, Outcome.AUTHORIZED, connector)]
        r = self._reservation(connector)
        if r is not None and r.admits(token_hash, held.group_hash):
            effects += self._drop_reservation(r, "used by its token")
        return effects

    # ------------------------------------------------------------ ccy-evse
    def session_started(self, connector: int, session_id: str, now: float) -> list[Effect]:
        c = self._connector(connector)
        if c is None or c.session_id == session_id:
            return []
        self._release(c)
        c.session_id, c.plugged_at = session_id, now
        return self._select(now)

    def session_finished(self, connector: int, session_id: str, now: float) -> list[Effect]:
        c = self._connector(connector)
        if c is None or (session_id and c.session_id != session_id):
            return []
        self._release(c)
        return []

    def transaction_started(
        self, connector: int, transaction_id: str, token_hash: str
    ) -> list[Effect]:
        c = self._connector(connector)
        if c is None:
            return []
        c.transaction_id, c.authorized = transaction_id, True
        c.token_hash = c.token_hash or token_hash
        return []

    def transaction_finished(self, connector: int, transaction_id: str, now: float) -> list[Effect]:
        """The token is free again (a new session may use it); the session stays."""
        c = self._connector(connector)
        if c is None:
            return []
        c.transaction_id = ""
        self._release_token(c)
        return []

    def evse_snapshot(
        self, connector: int, session_id: str, authorized: bool, transaction_id: str, now: float
    ) -> list[Effect]:
        """ccy-evse (re)appeared: take its present session as it is."""
        c = self._connector(connector)
        if c is None:
            return []
        if c.session_id != session_id:
            self._release(c)
            c.session_id, c.plugged_at = session_id, now
        c.authorized = c.authorized or authorized
        c.transaction_id = transaction_id
        return self._select(now)

    def evse_lost(self) -> list[Effect]:
        """ccy-evse vanished: its sessions are unknown until it is back."""
        for c in self.connectors.values():
            c.authorizing = False
            c.session_id = ""
        for h in self.held:
            if h.stage is Stage.AUTHORIZING:
                h.stage, h.connector = Stage.WAITING_FOR_PLUG_IN, 0
        return []

    def _connector(self, number: int) -> Connector | None:
        c = self.connectors.get(number)
        if c is None:
            self.log.warning("ccy-evse reported connector %d, which is not configured", number)
        return c

    def _release(self, c: Connector) -> None:
        self._release_token(c)
        c.session_id, c.authorized, c.authorizing, c.transaction_id = "", False, False, ""

    def _release_token(self, c: Connector) -> None:
        self.held = [
            h for h in self.held if not (h.stage is Stage.IN_USE and h.connector == c.number)
        ]
        c.token_hash = ""

    # ------------------------------------------------------------ time
    def tick(self, now: float) -> list[Effect]:
        effects: list[Effect] = []
        for held in [h for h in self.held if h.stage is Stage.WAITING_FOR_PLUG_IN]:
            if now >= held.deadline:
                self.held.remove(held)
                self.log.info(
                    "Token %s: no vehicle plugged in within %g s: dropped",
                    held.token.hash,
                    self.timeout_s,
                )
                effects.append(Finished(held.token, Outcome.TIMED_OUT, 0))
        wall = self.wall()
        for r in list(self.state.reservations):
            if wall >= r.expires_at:
                effects += self._drop_reservation(r, "expired")
        return effects

    # ------------------------------------------------------------ reservations
    def reserve(
        self, token_hash: str, parent_hash: str, connector: int, expires_at: float
    ) -> tuple[Reservation, list[Effect]]:
        if connector not in self.connectors:
            raise CommandRefused(
                "InvalidArgument",
                f"connector {connector} does not exist (1..{len(self.connectors)})",
            )
        wall = self.wall()
        if not expires_at > wall:
            raise CommandRefused("InvalidArgument", "expires_at is not in the future")
        if expires_at - wall > MAX_RESERVATION_S:
            raise CommandRefused("InvalidArgument", "expires_at is more than 7 days ahead")
        if self._reservation(connector) is not None:
            raise CommandRefused("NotPermitted", f"connector {connector} is reserved already")
        try:
            r = self.store.add(token_hash, parent_hash, connector, expires_at, wall)
        except ValueError as exc:
            raise CommandRefused("NotPermitted", str(exc)) from None
        self.state.reservations = self.store.all()
        self.log.info(
            "Reservation %s on evse#%d for token %s until %s",
            r.id,
            connector,
            token_hash,
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at)),
        )
        return r, [SetReservation(connector, r.id, expires_at)]

    def cancel(self, reservation_id: str) -> list[Effect]:
        r = next((r for r in self.state.reservations if r.id == reservation_id), None)
        if r is None:
            raise CommandRefused("InvalidArgument", f"no reservation {reservation_id!r}")
        return self._drop_reservation(r, "cancelled")

    def reservation_effects(self) -> list[Effect]:
        """SetReservation for every reservation (ccy-evse (re)appeared)."""
        return [SetReservation(r.connector, r.id, r.expires_at) for r in self.state.reservations]

    def _drop_reservation(self, r: Reservation, why: str) -> list[Effect]:
        self.store.remove(r.id)
        self.state.reservations = self.store.all()
        self.log.info("Reservation %s on evse#%d %s", r.id, r.connector, why)
        return [SetReservation(r.connector, "", 0.0)]

    # ------------------------------------------------------------ views
    def tokens(self) -> list[Held]:
        return list(self.held)
