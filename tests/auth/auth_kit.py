# SPDX-License-Identifier: Apache-2.0
"""Helpers of the ccy-auth core tests: a redactor with a fixed key, tokens, a core on a
real SQLite store in a temporary folder, and a wall clock the test moves."""

import logging
from dataclasses import dataclass
from pathlib import Path

from ccy.auth.contract import SelectionAlgorithm, TokenType
from ccy.auth.core import AuthCore, Effect
from ccy.auth.reservations import ReservationStore
from ccy.auth.tokens import Token, make_token
from ccy.runtime.redact import Redactor

REDACTOR = Redactor(bytes(range(32)))
LOG = logging.getLogger("ccy-auth-test")
TIMEOUT_S = 30.0


def token(
    value: str = "DEADBEEF",
    token_type: TokenType = TokenType.RFID,
    parent_id: str = "",
    connectors: tuple[int, ...] = (),
) -> Token:
    return make_token(
        value, token_type, REDACTOR.redact, parent_id=parent_id, connectors=connectors
    )


@dataclass
class Wall:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_core(
    folder: Path,
    connectors: int = 1,
    algorithm: SelectionAlgorithm = SelectionAlgorithm.FIND_FIRST,
    master_group: str = "",
    wall: Wall | None = None,
) -> tuple[AuthCore, Wall]:
    store, damaged = ReservationStore.open(folder)
    assert damaged is None
    clock = wall or Wall()
    master = REDACTOR.redact(master_group) if master_group else ""
    core = AuthCore(connectors, algorithm, TIMEOUT_S, store, LOG, lambda: master, clock)
    return core, clock


def kinds(effects: list[Effect]) -> list[str]:
    return [type(e).__name__ for e in effects]
