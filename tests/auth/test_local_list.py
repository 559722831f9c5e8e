# SPDX-License-Identifier: Apache-2.0
"""The local allow/deny list: its format, file:line problems, reloads keeping the last good."""

import datetime
import os
from pathlib import Path

import pytest
from auth_kit import REDACTOR, token

from ccy.auth.contract import AuthStatus, TokenType
from ccy.auth.validators.local_list import LocalList, parse_list

NOW = datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)

GOOD = """\
# a list
master_pass_group_id: MASTER-1
tokens:
  - id: deadbeef
    type: RFID
  - id: 0A0B0C0D
    status: Blocked
  - id: FLEET-CARD-7
    group_id: FLEET-7
  - id: OLD-CARD
    expires_at: 2026-01-01T00:00:00Z
  - id: aa:bb:cc:dd:ee:ff
    type: Autocharge
    status: NoCredit
  - id: DE-CCY-000000001
    type: PnC
"""


def listed(tmp_path: Path, text: str) -> LocalList:
    path = tmp_path / "tokens.yaml"
    path.write_text(text)
    v = LocalList(path, REDACTOR.redact, clock=lambda: NOW)
    assert v.reload_if_changed() == []
    return v


def test_lookup_statuses_types_groups_and_expiry(tmp_path: Path) -> None:
    v = listed(tmp_path, GOOD)
    assert v.master_pass_group_id == "MASTER-1"
    assert v.verdict(token("DEADBEEF")).status is AuthStatus.ACCEPTED
    assert v.verdict(token("DEADBEEF", TokenType.EIM)).status is AuthStatus.UNKNOWN  # typed entry
    assert v.verdict(token("0a0b0c0d")).status is AuthStatus.BLOCKED  # case-insensitive
    fleet = v.verdict(token("FLEET-CARD-7", TokenType.EIM))
    assert fleet.accepted and fleet.group_hash == REDACTOR.redact("FLEET-7")
    assert v.verdict(token("OLD-CARD", TokenType.OPERATOR)).status is AuthStatus.EXPIRED
    assert v.verdict(token("AABBCCDDEEFF", TokenType.AUTOCHARGE)).status is AuthStatus.NO_CREDIT
    assert v.verdict(token("DECCY000000001", TokenType.PNC)).accepted
    unknown = v.verdict(token("12345678"))
    assert unknown.status is AuthStatus.UNKNOWN and "not on the list" in unknown.reason


def test_empty_list_forms(tmp_path: Path) -> None:
    assert len(listed(tmp_path, "tokens: []\n").current) == 0
    assert len(listed(tmp_path, "tokens:\n").current) == 0


BAD = [
    ("tokens: [\n", 2, "YAML error"),
    ("tokens:\n  - id: A\n  - id: a\n", 3, "duplicate id (first on line 2)"),
    ("tokens:\n  - id: A\n    colour: red\n", 3, "unknown key 'colour'"),
    ("tokens:\n  - id: A\n    status: Maybe\n", 3, "status must be one of Accepted"),
    ("tokens:\n  - id: A\n    status: ConcurrentTx\n", 3, "decided by ccy-auth"),
    ("tokens:\n  - id: A\n    type: Card\n", 3, "type must be one of RFID"),
    ("tokens:\n  - id: XYZ\n    type: RFID\n", 2, "id: bad characters for an RFID UID"),
    ("tokens:\n  - id: has space\n", 2, "bad characters in the id"),
    ("tokens:\n  - type: RFID\n", 2, "without 'id'"),
    ("tokens:\n  - id:\n", 2, "id has no value"),
    ("tokens:\n  - id: [A, B]\n", 2, "must be a single value"),
    ("tokens:\n  - id: true\n", 2, "must be text, not bool"),
    ("tokens:\n  - just-a-string\n", 2, "must be a mapping"),
    ("tokens:\n  - id: A\n    expires_at: tomorrow\n", 3, "ISO 8601"),
    ("tokens:\n  - id: A\n    expires_at: 2027-01-01T00:00:00\n", 3, "ISO 8601"),
    ("tokens:\n  - id: A\n    group_id: two words\n", 3, "bad characters in the group_id"),
    ("tokens:\n  - &a {id: A}\n  - *a\n", 2, "aliases are not allowed"),
    ("tokens:\n  - id: !!python/object:os.system A\n", 2, "is not allowed"),
    ("tokens: {id: A}\n", 1, "must be a list"),
    ("- id: A\n", 1, "must be a mapping with 'tokens:'"),
    ("master_pass_group_id: M\n", 1, "no 'tokens:' list"),
    ("tokens: []\nextra: 1\n", 2, "unknown key 'extra'"),
    ("tokens: []\ntokens: []\n", 2, "duplicate key 'tokens'"),
    ("", 1, "empty file"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_problems_are_file_line_and_name_the_fault(text: str, line: int, words: str) -> None:
    loaded, problems = parse_list(text.encode(), "/etc/ccy/auth/tokens.yaml")
    assert loaded is None
    assert any(
        p.startswith(f"/etc/ccy/auth/tokens.yaml:{line}: ") and words in p for p in problems
    ), problems


def test_problems_never_quote_an_id() -> None:
    _, problems = parse_list(
        b"tokens:\n  - id: SECRET99 x\n  - id: SECRETXX\n    type: RFID\n", "f"
    )
    assert problems and not any("SECRET" in p for p in problems)


def test_non_utf8_and_every_problem_at_once() -> None:
    _, problems = parse_list(b"tokens:\n  - id: \xff\n", "f")
    assert problems == ["f:2: not UTF-8 text"]
    _, problems = parse_list(b"tokens:\n  - id: A\n    x: 1\n  - id: A\n  - {}\n", "f")
    assert [p.split(":")[1] for p in problems] == ["3", "4", "5"]


def test_a_bad_edit_keeps_the_previous_good_list_and_a_good_one_replaces_it(
    tmp_path: Path,
) -> None:
    v = listed(tmp_path, GOOD)
    path = tmp_path / "tokens.yaml"
    assert v.reload_if_changed() is None  # unchanged
    path.write_text(GOOD + "  - id: broken\n    status: Maybe\n")
    problems = v.reload_if_changed()
    assert problems and problems[0].startswith(f"{path}:18: status must be")
    assert v.verdict(token("0A0B0C0D")).status is AuthStatus.BLOCKED  # still the old list
    assert v.reload_if_changed() is None  # reported once per change
    path.write_text("tokens:\n  - id: 0A0B0C0D\n")
    os.utime(path, ns=(1, 1))  # a change even within the file system's time resolution
    assert v.reload_if_changed() == []
    assert v.verdict(token("0A0B0C0D")).accepted
    assert v.master_pass_group_id == ""
    path.unlink()
    (missing,) = v.reload_if_changed() or []
    assert "no such file" in missing and v.verdict(token("0A0B0C0D")).accepted


def test_no_file_configured_means_no_opinion() -> None:
    v = LocalList(None, REDACTOR.redact)
    assert v.reload_if_changed() is None
    assert v.verdict(token()).status is AuthStatus.UNKNOWN


def test_a_list_of_20000_ids_loads(tmp_path: Path) -> None:
    lines = ["tokens:"] + [f"  - id: {n:08X}\n    type: RFID" for n in range(20_000)]
    v = listed(tmp_path, "\n".join(lines) + "\n")
    assert len(v.current) == 20_000
    assert v.verdict(token("00004E1F")).accepted and v.verdict(token("00004E20")).status is (
        AuthStatus.UNKNOWN
    )
