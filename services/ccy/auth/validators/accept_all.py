# SPDX-License-Identifier: Apache-2.0
"""accept_all: every token is Accepted after a delay (the seed's dummy token validator)."""

import asyncio

from ccy.auth.contract import AuthStatus
from ccy.auth.tokens import Token
from ccy.auth.validators.base import Verdict


class AcceptAll:
    name = "accept_all"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    async def validate(self, token: Token) -> Verdict:
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)
        return Verdict(AuthStatus.ACCEPTED, "accept_all")
