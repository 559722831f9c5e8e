# SPDX-License-Identifier: Apache-2.0
"""The seed's journal lines of a session, and the V2gMessage signal, from one observer.

``CAR ISO V2G SessionSetupReq`` (indented as the seed indents the vehicle's side) and
``EVSE ISO V2G SessionSetupRes``, each with the structured field CCY_SESSION (ccy-evse's
session UUID, "" before SessionSetup). DC_ messages take the seed's spelling
(``DcChargeLoopReq``). With ``charge_loop_every`` N > 1 only every Nth DC_ChargeLoop pair is
logged and signalled (the first one always).

V2gMessage carries the JSON view with every identity field redacted; the EXI hex only when
the view had no identity in it (redaction changed nothing).

The DC_ChargeLoop pair is the hot path (contracts.md: p99 ≤ 5 ms including the hop to
ccy-evse): its two journal lines and two signals are written just after the response went
out (``loop.call_soon`` from the response: the server writes the response before it yields), so
neither the formatting nor the signals' D-Bus sends, nor ccy-evse storing the signals in its
session log, sit between the request, ccy-evse's Evse1.ChargeLoop call and the response. Any
other message and the end of the connection first write what is held, so the journal keeps
the order of the messages.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ccy.runtime.journal import fields
from ccy.runtime.redact import is_identity_field
from ccy.v2g.contract import Direction
from ccy.v2g.session.context import SessionContext
from ccy.v2g.session.names import CHARGE_LOOP, journal_name

CAR_INDENT = " " * 36
"""The seed's EVerest indents the vehicle's lines by 36 spaces."""
_LOOP_RES = "DC_ChargeLoopRes"
_HOT = frozenset({CHARGE_LOOP, _LOOP_RES})


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
        self._identity_keys: dict[str, bool] = {}
        self._pending: list[tuple[Direction, str, Mapping[str, Any], bytes, str]] = []

    def _shown(self, ctx: SessionContext, name: str) -> bool:
        if self.every == 1 or name not in (CHARGE_LOOP, _LOOP_RES):
            return True
        return (ctx.charge_loops - (0 if name == CHARGE_LOOP else 1)) % self.every == 0

    def _signal(
        self, direction: Direction, name: str, doc: Mapping[str, Any], exi: bytes | None
    ) -> None:
        if self._has_identity(doc):
            view = self.redact_fields(doc)
            clean = view == doc
        else:  # most messages (every charge loop) carry no identity field: nothing to copy
            view, clean = doc, True
        text = json.dumps(view, separators=(",", ":"))
        self.emit(
            str(direction), name, text, exi.hex().upper() if exi is not None and clean else ""
        )

    def _has_identity(self, doc: Mapping[str, Any]) -> bool:
        """Whether an identity field (the redactor's names) occurs anywhere in ``doc``; the
        answer per key is remembered (keys are the schema's element names)."""
        known = self._identity_keys
        todo: list[Any] = [doc]
        while todo:
            value = todo.pop()
            if isinstance(value, Mapping):
                for key, item in value.items():
                    hit = known.get(key)
                    if hit is None:
                        hit = known[key] = is_identity_field(str(key))
                    if hit:
                        return True
                    if isinstance(item, dict | list | tuple) or (
                        not isinstance(item, str | int | float) and isinstance(item, Mapping)
                    ):
                        todo.append(item)
            elif isinstance(value, list | tuple):
                todo.extend(value)
        return False

    def _write(
        self, direction: Direction, name: str, doc: Mapping[str, Any], exi: bytes, session: str
    ) -> None:
        if direction is Direction.REQUEST:
            self.log.info(
                "%sCAR ISO V2G %s", CAR_INDENT, journal_name(name), extra=fields(session=session)
            )
        else:
            self.log.info("EVSE ISO V2G %s", journal_name(name), extra=fields(session=session))
        self._signal(direction, name, doc, exi)

    def _defer(self, item: tuple[Direction, str, Mapping[str, Any], bytes, str]) -> None:
        """Hold ``item``; a response schedules the write of everything held for when it is out
        (the request waits with it, so nothing of it runs during the Evse1 call either)."""
        self._pending.append(item)
        if item[0] is Direction.RESPONSE:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        """Write the deferred charge-loop lines and signals, in order."""
        pending, self._pending = self._pending, []
        for item in pending:
            self._write(*item)

    def _observe(
        self,
        ctx: SessionContext,
        direction: Direction,
        name: str,
        doc: Mapping[str, Any],
        exi: bytes,
    ) -> None:
        if not self._shown(ctx, name):
            return
        item = (direction, name, doc, exi, ctx.evse_session_id)
        if name in _HOT:
            self._defer(item)
            return
        if self._pending:
            self.flush()
        self._write(*item)

    def request(self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes) -> None:
        self._observe(ctx, Direction.REQUEST, name, doc, exi)

    def response(self, ctx: SessionContext, name: str, doc: Mapping[str, Any], exi: bytes) -> None:
        self._observe(ctx, Direction.RESPONSE, name, doc, exi)
        self.changed(ctx, name, str(doc[name].get("ResponseCode", "")))

    def ended(self, ctx: SessionContext, reason: str) -> None:
        self.flush()
        self.changed(ctx, None, "")
