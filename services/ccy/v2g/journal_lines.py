# SPDX-License-Identifier: Apache-2.0
"""The seed's journal lines of a session, and the V2gMessage signal, from one observer.

``CAR ISO V2G SessionSetupReq`` (indented as the seed indents the vehicle's side) and
``EVSE ISO V2G SessionSetupRes``, each with the structured field CCY_SESSION (ccy-evse's
session UUID, "" before SessionSetup). DC_ messages take the seed's spelling
(``DcChargeLoopReq``). With ``charge_loop_every`` N > 1 only every Nth DC_ChargeLoop pair is
logged and signalled (the first one always).

V2gMessage carries the JSON view with every identity field redacted; the EXI hex only when
the view had no identity in it (redaction changed nothing).
"""

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ccy.runtime.journal import fields
from ccy.v2g.contract import Direction
from ccy.v2g.session.context import SessionContext
from ccy.v2g.session.names import CHARGE_LOOP, journal_name

CAR_INDENT = " " * 36
"""The seed's EVerest indents the vehicle's lines by 36 spaces."""
_LOOP_RES = "DC_ChargeLoopRes"


class SessionJournal:
    """A SessionObserver: journal lines and V2gMessage; ``changed(ctx, response, code)``
    after each pair, ``changed(ctx, None, "")`` when the connection ended."""

    def __init__(
        self,
        log: logging.Logger,
        redact_fields: Callable[[Any], Any],
        emit: Callable[[str, str, str, str], None],
        changed: Callable[[SessionContext, str | None, str], None],
        charge_loop_every: int = 1,
    ) -> None:
        self.log = log
        self.redact_fields = redact_fields
        self.emit = emit
        self.changed = changed
        self.every = max(1, charge_loop_every)

    def _shown(self, ctx: SessionContext, name: str) -> bool:
        if self.every == 1 or name not in (CHARGE_LOOP, _LOOP_RES):
            return True
        return (ctx.charge_loops - (0 if name == CHARGE_LOOP else 1)) % self.every == 0

    def _signal(
        self, direction: Direction, name: str, doc: Mapping[str, Any], exi: bytes | None
    ) -> None:
        view = self.redact_fields(doc)
        clean = view == doc
        text = json.dumps(view, separators=(",", ":"))
        self.emit(
            str(direction), name, text, exi.hex().upper() if exi is not None and clean else ""
        )

    def request(self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes) -> None:
        if not self._shown(ctx, name):
            return
        self.log.info(
            "%sCAR ISO V2G %s",
            CAR_INDENT,
            journal_name(name),
            extra=fields(session=ctx.evse_session_id),
        )
        self._signal(Direction.REQUEST, name, doc, exi)

    def response(self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes) -> None:
        if self._shown(ctx, name):
            self.log.info(
                "EVSE ISO V2G %s", journal_name(name), extra=fields(session=ctx.evse_session_id)
            )
            self._signal(Direction.RESPONSE, name, doc, exi)
        self.changed(ctx, name, str(doc[name].get("ResponseCode", "")))

    def ended(self, ctx: SessionContext, reason: str) -> None:
        self.changed(ctx, None, "")
