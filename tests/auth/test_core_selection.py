# SPDX-License-Identifier: Apache-2.0
"""Selection, connection timeout, tokens in use and the master pass (core, fake clock)."""

from pathlib import Path

import pytest
from auth_kit import REDACTOR, TIMEOUT_S, kinds, make_core, token

from ccy.auth.contract import (
    AuthStatus,
    Outcome,
    ProvideStatus,
    SelectionAlgorithm,
    Stage,
    TokenType,
)
from ccy.auth.core import (
    Announce,
    Authorize,
    CommandRefused,
    Deauthorize,
    Finished,
    StopTransaction,
    Validate,
)
from ccy.auth.validators.base import Verdict

OK = Verdict(AuthStatus.ACCEPTED, "accept_all")


def test_the_seed_flow_session_first_then_token(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    assert core.session_started(1, "s-1", 0.0) == []
    t = token()
    status, reason, effects = core.provide(t, 0.1)
    assert (status, reason, effects) == (ProvideStatus.PENDING, "", [Validate(t)])
    effects = core.validated(t.hash, OK, 0.35)
    assert effects[0] == Announce(t, OK)
    assert effects[1] == Authorize(1, "s-1", t)
    assert [h.stage for h in core.tokens()] == [Stage.AUTHORIZING]
    assert core.authorize_done(1, t.hash, True, "", 0.4) == [Finished(t, Outcome.AUTHORIZED, 1)]
    assert [h.stage for h in core.tokens()] == [Stage.IN_USE]


def test_a_token_before_the_plug_in_waits_for_it(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    t = token()
    core.provide(t, 0.0)
    assert kinds(core.validated(t.hash, OK, 0.1)) == ["Announce"]
    assert [h.stage for h in core.tokens()] == [Stage.WAITING_FOR_PLUG_IN]
    assert core.tick(TIMEOUT_S - 1) == []
    assert core.session_started(1, "s-1", TIMEOUT_S - 0.5) == [Authorize(1, "s-1", t)]


def test_no_plug_in_within_the_connection_timeout_drops_the_token(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    t = token()
    core.provide(t, 0.0)
    core.validated(t.hash, OK, 1.0)
    assert core.tick(1.0 + TIMEOUT_S - 0.01) == []
    assert core.tick(1.0 + TIMEOUT_S) == [Finished(t, Outcome.TIMED_OUT, 0)]
    assert core.tokens() == []
    assert core.session_started(1, "s-1", 100.0) == []  # nothing left to authorize
    # and the token may be presented again
    assert core.provide(t, 101.0)[0] is ProvideStatus.PENDING


def test_a_refused_token_is_announced_and_finished(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    t = token()
    core.provide(t, 0.0)
    blocked = Verdict(AuthStatus.BLOCKED, "local_list: blocked")
    assert core.validated(t.hash, blocked, 0.1) == [
        Announce(t, blocked),
        Finished(t, Outcome.REFUSED, 0),
    ]
    assert core.tokens() == []


def test_a_refused_contract_refuses_the_session_that_waits_for_it(tmp_path: Path) -> None:
    """A PnC contract comes from the vehicle of the waiting session: Evse1.Deauthorize, so
    ccy-v2g answers WARNING_GeneralPnCAuthorizationError instead of Ongoing."""
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    t = token("DECCY000000001", TokenType.PNC)
    core.provide(t, 0.0)
    invalid = Verdict(AuthStatus.INVALID, "pnc: the chain does not lead to a trusted MO root")
    assert core.validated(t.hash, invalid, 0.1) == [
        Announce(t, invalid),
        Finished(t, Outcome.REFUSED, 0),
        Deauthorize(1, "s-1", f"Invalid: {invalid.reason}"),
    ]
    # without a waiting session there is nobody to refuse
    t2 = token("DECCY000000002", TokenType.PNC)
    core2, _ = make_core(tmp_path / "2")
    core2.provide(t2, 1.0)
    assert kinds(core2.validated(t2.hash, invalid, 1.1)) == ["Announce", "Finished"]


def test_a_token_in_use_is_refused_until_its_transaction_ends(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    t = token()
    core.provide(t, 0.0)
    assert core.provide(t, 0.1)[0] is ProvideStatus.CONCURRENT_TX  # while validating
    core.session_started(1, "s-1", 0.2)
    core.validated(t.hash, OK, 0.3)
    assert core.provide(t, 0.35)[0] is ProvideStatus.CONCURRENT_TX  # while authorizing
    core.authorize_done(1, t.hash, True, "", 0.4)
    core.transaction_started(1, "tx-1", t.hash)
    status, reason, effects = core.provide(t, 1.0)
    assert (status, effects) == (ProvideStatus.CONCURRENT_TX, [])
    assert "in use" in reason
    core.transaction_finished(1, "tx-1", 2.0)
    assert core.provide(t, 3.0)[0] is ProvideStatus.PENDING


def test_a_transaction_started_elsewhere_blocks_its_token_too(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    t = token()
    core.transaction_started(1, "tx-9", t.hash)
    assert core.provide(t, 1.0)[0] is ProvideStatus.CONCURRENT_TX
    core.session_finished(1, "s-1", 2.0)
    assert core.provide(t, 3.0)[0] is ProvideStatus.PENDING


def test_an_authorized_session_takes_no_second_token(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    a, b = token("AAAAAAAA"), token("BBBBBBBB")
    core.provide(a, 0.0)
    core.validated(a.hash, OK, 0.1)
    core.authorize_done(1, a.hash, True, "", 0.2)
    core.provide(b, 0.3)
    assert kinds(core.validated(b.hash, OK, 0.4)) == ["Announce"]
    assert [h.stage for h in core.tokens()] == [Stage.IN_USE, Stage.WAITING_FOR_PLUG_IN]


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [(SelectionAlgorithm.FIND_FIRST, 1), (SelectionAlgorithm.PLUG_EVENTS, 2)],
)
def test_find_first_takes_the_lowest_connector_plug_events_the_first_plugged(
    tmp_path: Path, algorithm: SelectionAlgorithm, expected: int
) -> None:
    core, _ = make_core(tmp_path, connectors=2, algorithm=algorithm)
    core.session_started(2, "s-2", 0.0)  # plugged first
    core.session_started(1, "s-1", 5.0)
    t = token()
    core.provide(t, 6.0)
    (auth,) = [e for e in core.validated(t.hash, OK, 6.1) if isinstance(e, Authorize)]
    assert auth.connector == expected
    assert auth.session_id == f"s-{expected}"


def test_a_token_keeps_to_its_connectors(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path, connectors=2)
    core.session_started(1, "s-1", 0.0)
    t = token(connectors=(2,))
    core.provide(t, 0.0)
    assert kinds(core.validated(t.hash, OK, 0.1)) == ["Announce"]
    assert core.session_started(2, "s-2", 1.0) == [Authorize(2, "s-2", t)]
    with pytest.raises(CommandRefused, match="connector 3 does not exist"):
        core.provide(token("CCCCCCCC", connectors=(3,)), 2.0)


def test_two_tokens_two_sessions_in_plug_order(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path, connectors=2, algorithm=SelectionAlgorithm.PLUG_EVENTS)
    a, b = token("AAAAAAAA"), token("BBBBBBBB")
    for t in (a, b):
        core.provide(t, 0.0)
        core.validated(t.hash, OK, 0.1)
    assert core.session_started(2, "s-2", 1.0) == [Authorize(2, "s-2", a)]
    assert core.session_started(1, "s-1", 2.0) == [Authorize(1, "s-1", b)]


def test_a_failed_authorize_finishes_the_token_and_frees_the_session(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    t = token()
    core.provide(t, 0.0)
    core.validated(t.hash, OK, 0.1)
    assert core.authorize_done(1, t.hash, False, "NotPermitted", 0.2) == [
        Finished(t, Outcome.FAILED, 1)
    ]
    assert core.connectors[1].waiting()
    other = token("BBBBBBBB")
    core.provide(other, 0.3)
    assert Authorize(1, "s-1", other) in core.validated(other.hash, OK, 0.4)


def test_evse_lost_puts_authorizing_tokens_back_to_waiting(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    t = token()
    core.provide(t, 0.0)
    core.validated(t.hash, OK, 0.1)
    core.evse_lost()
    assert [h.stage for h in core.tokens()] == [Stage.WAITING_FOR_PLUG_IN]
    assert core.evse_snapshot(1, "s-1", False, "", 1.0) == [Authorize(1, "s-1", t)]


# ---------------------------------------------------------------- master pass
def test_master_pass_stops_the_running_transaction_and_authorizes_nothing(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path, connectors=2, master_group="MASTER")
    core.session_started(1, "s-1", 0.0)
    core.transaction_started(1, "tx-1", token("AAAAAAAA").hash)
    core.session_started(2, "s-2", 0.0)  # plugged, not authorized: no transaction to stop
    master = token("99999999", parent_id="MASTER")
    core.provide(master, 1.0)
    effects = core.validated(master.hash, OK, 1.1)
    assert effects[1:] == [StopTransaction(1), Finished(master, Outcome.MASTER_PASS, 1)]
    assert not any(isinstance(e, Authorize) for e in effects)
    assert core.tokens() == []


def test_master_pass_by_the_list_group_and_without_a_transaction(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path, master_group="MASTER")
    core.session_started(1, "s-1", 0.0)
    master = token("99999999")
    core.provide(master, 1.0)
    listed = Verdict(AuthStatus.ACCEPTED, "local_list: listed", REDACTOR.redact("MASTER"))
    effects = core.validated(master.hash, listed, 1.1)
    assert effects[1:] == [Finished(master, Outcome.MASTER_PASS, 0)]
    assert core.connectors[1].waiting()  # the master pass did not authorize the session


def test_without_master_group_a_group_token_is_an_ordinary_token(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    t = token(parent_id="MASTER")
    core.provide(t, 0.0)
    assert Authorize(1, "s-1", t) in core.validated(t.hash, OK, 0.1)


def test_an_authorize_answer_after_its_session_ended_touches_no_new_session(tmp_path: Path) -> None:
    core, _ = make_core(tmp_path)
    core.session_started(1, "s-1", 0.0)
    a = token("AAAAAAAA")
    core.provide(a, 0.0)
    core.validated(a.hash, OK, 0.1)  # Authorize(s-1) under way
    core.session_finished(1, "s-1", 0.2)
    core.session_started(1, "s-2", 0.3)  # a new vehicle before the answer came
    assert core.authorize_done(1, a.hash, True, "", 0.4) == [Finished(a, Outcome.AUTHORIZED, 1)]
    assert core.connectors[1].waiting()  # s-2 is not authorized by s-1's answer
    assert core.tokens() == []  # and the token is free again
    b = token("BBBBBBBB")
    core.provide(b, 0.5)
    assert Authorize(1, "s-2", b) in core.validated(b.hash, OK, 0.6)
