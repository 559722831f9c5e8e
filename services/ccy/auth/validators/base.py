# SPDX-License-Identifier: Apache-2.0
"""What a validator answers, and the chain rule (pure).

A validator gives a :class:`Verdict`: Accepted, a named refusal (Blocked, Expired, Invalid,
NoCredit, ...), or Unknown = no opinion (not on its list, not its token type). The chain asks
the validators in the configured order: the first refusal ends it and is the result;
otherwise the token is Accepted if any validator accepted it, else Unknown (refused). So
local_list + accept_all is "everybody except the blocked", local_list alone "only the
listed", and a PnC contract accepted by pnc is still refused if the list blocks its EMAID.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ccy.auth.contract import AuthStatus
from ccy.auth.tokens import Token


@dataclass(frozen=True)
class Verdict:
    status: AuthStatus
    reason: str = ""
    """One line naming the validator and why, never the token."""
    group_hash: str = ""
    """The token's group (parent) id redacted, when the validator knows one (local list)."""

    @property
    def accepted(self) -> bool:
        return self.status is AuthStatus.ACCEPTED

    @property
    def refusal(self) -> bool:
        return self.status not in (AuthStatus.ACCEPTED, AuthStatus.UNKNOWN)


class Validator(Protocol):
    name: str

    async def validate(self, token: Token) -> Verdict: ...


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """The chain's result of the verdicts given so far (see the module docstring)."""
    accepted: Verdict | None = None
    group = ""
    for v in verdicts:
        group = group or v.group_hash
        if v.refusal:
            return Verdict(v.status, v.reason, group)
        if v.accepted and accepted is None:
            accepted = v
    if accepted is not None:
        return Verdict(AuthStatus.ACCEPTED, accepted.reason, group)
    reasons = "; ".join(v.reason for v in verdicts if v.reason)
    return Verdict(AuthStatus.UNKNOWN, reasons or "no validator knows the token", group)


async def run_chain(validators: Sequence[Validator], token: Token) -> Verdict:
    """Ask ``validators`` in order; stop at the first refusal."""
    verdicts: list[Verdict] = []
    for validator in validators:
        verdict = await validator.validate(token)
        verdicts.append(verdict)
        if verdict.refusal:
            break
    return combine(verdicts)
