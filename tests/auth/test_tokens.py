# SPDX-License-Identifier: Apache-2.0
"""Token syntax per type: each malformed token is a named problem that never quotes it."""

import pytest
from auth_kit import REDACTOR

from ccy.auth.contract import TokenType
from ccy.auth.tokens import MAX_TOKEN_LENGTH, TokenProblem, make_token, normalize
from ccy.runtime.redact import is_redacted


@pytest.mark.parametrize(
    ("value", "token_type", "expected"),
    [
        ("deadbeef", TokenType.RFID, "DEADBEEF"),
        ("04A2B3C4D5E6F7", TokenType.RFID, "04A2B3C4D5E6F7"),
        ("0102030405060708090a", TokenType.RFID, "0102030405060708090A"),
        ("aa:bb:cc:dd:ee:ff", TokenType.AUTOCHARGE, "AABBCCDDEEFF"),
        ("AA-BB-CC-DD-EE-FF", TokenType.AUTOCHARGE, "AABBCCDDEEFF"),
        ("aabbccddeeff", TokenType.AUTOCHARGE, "AABBCCDDEEFF"),
        ("DE-CCY-000000001", TokenType.PNC, "DECCY000000001"),
        ("deccy0000000012", TokenType.PNC, "DECCY0000000012"),
        ("fleet-card_7", TokenType.EIM, "fleet-card_7"),
        ("op:jane", TokenType.OPERATOR, "op:jane"),
    ],
)
def test_good_tokens_are_normalised(value: str, token_type: TokenType, expected: str) -> None:
    assert normalize(value, token_type) == expected


SECRET = "C0FFEE42"


@pytest.mark.parametrize(
    ("value", "token_type", "words"),
    [
        ("", TokenType.RFID, "empty"),
        ("", TokenType.EIM, "empty"),
        ("A" * (MAX_TOKEN_LENGTH + 1), TokenType.EIM, "over-long"),
        ("A" * 37, TokenType.EIM, "over-long"),
        (SECRET + "XY", TokenType.RFID, "bad characters"),
        (SECRET + "00", TokenType.RFID, "8, 14 or 20"),
        (SECRET + " 1", TokenType.EIM, "bad characters"),
        (SECRET + "\u00e9", TokenType.OPERATOR, "bad characters"),
        (SECRET + "\x00", TokenType.EIM, "bad characters"),
        ("AA:BB-CC:DD:EE:FF", TokenType.AUTOCHARGE, "not a MAC"),
        (SECRET, TokenType.AUTOCHARGE, "not a MAC"),
        ("DE" + SECRET, TokenType.PNC, "not an EMAID"),
    ],
)
def test_malformed_tokens_are_named_problems(value: str, token_type: TokenType, words: str) -> None:
    with pytest.raises(TokenProblem) as caught:
        normalize(value, token_type)
    assert words in str(caught.value)
    assert SECRET not in str(caught.value)


def test_make_token_hashes_value_and_parent_and_hides_them_in_repr() -> None:
    t = make_token("deadbeef", TokenType.RFID, REDACTOR.redact, parent_id="FLEET-1")
    assert t.value == "DEADBEEF" and is_redacted(t.hash) and is_redacted(t.parent_hash)
    assert t.hash == REDACTOR.redact("DEADBEEF")
    assert "DEADBEEF" not in repr(t) and "FLEET-1" not in repr(t)


def test_parent_id_and_chain_rules() -> None:
    with pytest.raises(TokenProblem, match="parent id"):
        make_token("DEADBEEF", TokenType.RFID, REDACTOR.redact, parent_id="has space")
    with pytest.raises(TokenProblem, match="PnC tokens only"):
        make_token("DEADBEEF", TokenType.RFID, REDACTOR.redact, certificate_chain="x")
    with pytest.raises(TokenProblem, match="over-long certificate chain"):
        make_token("DECCY000000001", TokenType.PNC, REDACTOR.redact, certificate_chain="x" * 70000)
