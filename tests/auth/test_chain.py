# SPDX-License-Identifier: Apache-2.0
"""The validator chain: configured order, first refusal ends it, Accepted if any accepted."""

import asyncio
from dataclasses import dataclass, field

import pytest
from auth_kit import token

from ccy.auth.contract import AuthStatus
from ccy.auth.tokens import Token
from ccy.auth.validators.accept_all import AcceptAll
from ccy.auth.validators.base import Verdict, combine, run_chain

A = AuthStatus


@dataclass
class Fixed:
    """A validator with a fixed answer that records it was asked."""

    status: AuthStatus
    name: str = "fixed"
    asked: list[str] = field(default_factory=list)
    group: str = ""

    async def validate(self, t: Token) -> Verdict:
        self.asked.append(t.hash)
        return Verdict(self.status, f"{self.name}: {self.status}", self.group)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([A.ACCEPTED], A.ACCEPTED),
        ([A.UNKNOWN], A.UNKNOWN),
        ([A.UNKNOWN, A.ACCEPTED], A.ACCEPTED),
        ([A.ACCEPTED, A.BLOCKED], A.BLOCKED),
        ([A.BLOCKED, A.ACCEPTED], A.BLOCKED),
        ([A.UNKNOWN, A.UNKNOWN], A.UNKNOWN),
        ([A.EXPIRED, A.NO_CREDIT], A.EXPIRED),
        ([A.ACCEPTED, A.UNKNOWN], A.ACCEPTED),
    ],
)
def test_the_chain_rule(answers: list[AuthStatus], expected: AuthStatus) -> None:
    assert combine([Verdict(s, str(s)) for s in answers]).status is expected


def test_the_first_refusal_stops_the_chain_and_keeps_its_reason() -> None:
    first, second, third = Fixed(A.ACCEPTED, "a"), Fixed(A.BLOCKED, "b"), Fixed(A.ACCEPTED, "c")
    t = token()
    verdict = asyncio.run(run_chain([first, second, third], t))
    assert verdict.status is A.BLOCKED and verdict.reason == "b: Blocked"
    assert first.asked == [t.hash] and second.asked == [t.hash] and third.asked == []


def test_the_group_of_any_validator_travels_with_the_verdict() -> None:
    verdict = asyncio.run(run_chain([Fixed(A.UNKNOWN, group="G"), Fixed(A.ACCEPTED)], token()))
    assert verdict.accepted and verdict.group_hash == "G"


def test_unknown_everywhere_names_the_reasons() -> None:
    verdict = asyncio.run(run_chain([Fixed(A.UNKNOWN, "x"), Fixed(A.UNKNOWN, "y")], token()))
    assert verdict.status is A.UNKNOWN and verdict.reason == "x: Unknown; y: Unknown"
    assert combine([]).status is A.UNKNOWN


def test_accept_all_accepts_after_its_delay() -> None:
    async def run() -> tuple[Verdict, bool]:
        task = asyncio.ensure_future(AcceptAll(0.05).validate(token()))
        await asyncio.sleep(0)
        early = task.done()
        return await task, early

    verdict, early = asyncio.run(run())
    assert verdict.accepted and not early
    assert asyncio.run(AcceptAll(0).validate(token())).accepted
