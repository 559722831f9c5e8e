# SPDX-License-Identifier: Apache-2.0
"""Reservations: persisted in real SQLite, only their token or parent, expiry, damaged store."""

import sqlite3
from pathlib import Path

import pytest
from auth_kit import REDACTOR, make_core, token

from ccy.auth.contract import AuthStatus, Outcome
from ccy.auth.core import Authorize, CommandRefused, Finished, SetReservation
from ccy.auth.reservations import FILE_NAME, ReservationStore
from ccy.auth.validators.base import Verdict

OK = Verdict(AuthStatus.ACCEPTED, "accept_all")
HOUR = 3600.0


def test_a_reservation_survives_a_restart_and_holds_only_hashes(tmp_path: Path) -> None:
    core, wall = make_core(tmp_path)
    owner = token("0A0B0C0D", parent_id="FLEET-1")
    r, effects = core.reserve(owner.hash, owner.parent_hash, 1, wall.now + HOUR)
    assert effects == [SetReservation(1, r.id, wall.now + HOUR)]
    core.store.close()
    again, _ = make_core(tmp_path, wall=wall)
    assert again.state.reservations == [r]
    assert again.reservation_effects() == [SetReservation(1, r.id, r.expires_at)]
    raw = (tmp_path / FILE_NAME).read_bytes()
    assert b"0A0B0C0D" not in raw and b"FLEET-1" not in raw
    assert owner.hash.encode() in raw


def test_a_reserved_connector_takes_only_its_token(tmp_path: Path) -> None:
    core, wall = make_core(tmp_path)
    owner, stranger = token("0A0B0C0D"), token("BBBBBBBB")
    core.reserve(owner.hash, "", 1, wall.now + HOUR)
    core.session_started(1, "s-1", 0.0)
    core.provide(stranger, 0.0)
    assert [type(e).__name__ for e in core.validated(stranger.hash, OK, 0.1)] == ["Announce"]
    core.provide(owner, 0.2)
    effects = core.validated(owner.hash, OK, 0.3)
    assert Authorize(1, "s-1", owner) in effects
    r = core.state.reservations[0]
    done = core.authorize_done(1, owner.hash, True, "", 0.4)
    assert done == [Finished(owner, Outcome.AUTHORIZED, 1), SetReservation(1, "", 0.0)]
    assert core.state.reservations == [] and core.store.all() == []
    assert r.id  # used up: gone from the store


def test_a_token_of_the_parent_id_may_use_the_reservation(tmp_path: Path) -> None:
    core, wall = make_core(tmp_path)
    core.reserve(token("0A0B0C0D").hash, REDACTOR.redact("FLEET-1"), 1, wall.now + HOUR)
    core.session_started(1, "s-1", 0.0)
    sibling = token("11111111", parent_id="FLEET-1")
    core.provide(sibling, 0.0)
    assert Authorize(1, "s-1", sibling) in core.validated(sibling.hash, OK, 0.1)
    # the group may also come from the local list's verdict
    core2, wall2 = make_core(tmp_path / "b")
    core2.reserve(token("0A0B0C0D").hash, REDACTOR.redact("FLEET-1"), 1, wall2.now + HOUR)
    core2.session_started(1, "s-1", 0.0)
    listed = token("22222222")
    core2.provide(listed, 0.0)
    verdict = Verdict(AuthStatus.ACCEPTED, "local_list", REDACTOR.redact("FLEET-1"))
    assert Authorize(1, "s-1", listed) in core2.validated(listed.hash, verdict, 0.1)


def test_a_reservation_expires_on_time(tmp_path: Path) -> None:
    core, wall = make_core(tmp_path)
    r, _ = core.reserve(token().hash, "", 1, wall.now + 60)
    wall.now += 59.9
    assert core.tick(1.0) == []
    wall.now += 0.1
    assert core.tick(2.0) == [SetReservation(1, "", 0.0)]
    assert core.store.all() == []
    # expired while the unit was down: dropped at the first tick after the restart
    core.reserve(token().hash, "", 1, wall.now + 60)
    core.store.close()
    wall.now += 120
    again, _ = make_core(tmp_path, wall=wall)
    assert again.tick(0.0) == [SetReservation(1, "", 0.0)]
    assert r.id not in [x.id for x in again.store.all()]


def test_cancel_and_the_refusals_of_reserve(tmp_path: Path) -> None:
    core, wall = make_core(tmp_path)
    t = token()
    with pytest.raises(CommandRefused, match="does not exist"):
        core.reserve(t.hash, "", 2, wall.now + HOUR)
    with pytest.raises(CommandRefused, match="not in the future"):
        core.reserve(t.hash, "", 1, wall.now)
    with pytest.raises(CommandRefused, match="7 days"):
        core.reserve(t.hash, "", 1, wall.now + 8 * 24 * HOUR)
    r, _ = core.reserve(t.hash, "", 1, wall.now + HOUR)
    with pytest.raises(CommandRefused) as caught:
        core.reserve(t.hash, "", 1, wall.now + HOUR)
    assert caught.value.kind == "NotPermitted"
    with pytest.raises(CommandRefused, match="no reservation"):
        core.cancel("nope")
    assert core.cancel(r.id) == [SetReservation(1, "", 0.0)]
    assert core.state.reservations == []


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (b"reservations is not a json array", "file is not a database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, ""),
    ],
)
def test_a_damaged_store_is_named_moved_aside_and_replaced(
    tmp_path: Path, damage: bytes, reason: str
) -> None:
    (tmp_path / FILE_NAME).write_bytes(damage)
    store, damaged = ReservationStore.open(tmp_path)
    assert damaged is not None
    assert damaged.file == tmp_path / FILE_NAME
    assert reason in damaged.reason and damaged.reason
    assert damaged.moved_to.name.startswith(FILE_NAME + ".damaged-")
    assert damaged.moved_to.read_bytes() == damage
    assert store.all() == []
    store.add("h", "", 1, 2.0, 1.0)
    assert len(store.all()) == 1


def test_a_store_of_another_shape_is_damaged_too(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute("CREATE TABLE reservations (id TEXT, token TEXT)")
    db.commit()
    db.close()
    _, damaged = ReservationStore.open(tmp_path)
    assert damaged is not None and "columns ['id', 'token']" in damaged.reason
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute("DROP TABLE reservations")
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()
    _, damaged = ReservationStore.open(tmp_path)
    assert damaged is not None and "no table 'reservations'" in damaged.reason


def test_a_good_store_is_not_touched(tmp_path: Path) -> None:
    store, _ = ReservationStore.open(tmp_path)
    store.add("h", "", 1, 2.0, 1.0)
    store.close()
    again, damaged = ReservationStore.open(tmp_path)
    assert damaged is None and len(again.all()) == 1
    assert not list(tmp_path.glob("*.damaged-*"))
