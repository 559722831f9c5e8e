# SPDX-License-Identifier: Apache-2.0
"""The seed's journal lines and the V2gMessage signal of a session (ccy.v2g.journal_lines):
every request and response, CCY_SESSION on each line, identities redacted, EXI hex only for
messages without identity, and the charge-loop thinning of journal_charge_loop_every."""

import asyncio
import json
import logging
from typing import Any

import pytest
from secc_support import EVCCID, EVSE_SESSION, make, run

from ccy.evse.contract import ControlMode
from ccy.runtime.redact import Redactor
from ccy.v2g.journal_lines import CAR_INDENT, SessionJournal
from ccy.v2g.session import SessionContext

KEY = bytes(range(32))


class Recorder:
    def __init__(self) -> None:
        self.signals: list[tuple[str, str, str, str]] = []
        self.changes: list[tuple[str | None, str]] = []

    def emit(self, direction: str, name: str, view: str, exi_hex: str) -> None:
        self.signals.append((direction, name, view, exi_hex))

    def changed(self, ctx: SessionContext, response: str | None, code: str) -> None:
        self.changes.append((response, code))


def _session(every: int, loops: int, caplog: pytest.LogCaptureFixture) -> Recorder:
    redactor = Redactor(KEY)
    rec = Recorder()
    log = logging.getLogger("test.v2g.journal")
    journal = SessionJournal(log, redactor.redact_fields, rec.emit, rec.changed, every)

    async def go() -> None:
        manager, ev, _ = make()
        manager.observer = journal
        await ev.through_charging(ControlMode.DYNAMIC)
        for _ in range(loops):
            await ev.charge_loop(ControlMode.DYNAMIC)
        await ev.power_delivery("Stop")
        await ev.session_stop()
        ev.handler.on_closed("handler closed")
        await manager.drain()

    with caplog.at_level(logging.INFO, logger="test.v2g.journal"):
        run(go())
    return rec


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "ISO V2G" in r.getMessage()]


def test_every_message_is_a_seed_line_with_ccy_session(caplog: pytest.LogCaptureFixture) -> None:
    rec = _session(1, 3, caplog)
    lines = _lines(caplog)
    texts = [r.getMessage() for r in lines]
    assert texts[0] == CAR_INDENT + "CAR ISO V2G SupportedAppProtocolReq"
    assert texts[1] == "EVSE ISO V2G SupportedAppProtocolRes"
    assert CAR_INDENT + "CAR ISO V2G DcChargeLoopReq" in texts
    assert texts.count("EVSE ISO V2G DcChargeLoopRes") == 3
    assert texts[-1] == "EVSE ISO V2G SessionStopRes"
    # CCY_SESSION: "" before SessionSetup (the session is not bound yet), then ccy-evse's.
    assert vars(lines[0])["CCY_SESSION"] == ""
    assert all(vars(r)["CCY_SESSION"] == EVSE_SESSION for r in lines[3:])
    assert len(rec.signals) == len(lines)
    assert rec.changes[-1] == (None, "")


def test_identities_are_redacted_and_their_exi_withheld(caplog: pytest.LogCaptureFixture) -> None:
    rec = _session(1, 1, caplog)
    by_name = {name: (direction, view, exi) for direction, name, view, exi in rec.signals}
    direction, view, exi = by_name["SessionSetupReq"]
    assert direction == "Request" and exi == ""
    evccid = json.loads(view)["SessionSetupReq"]["EVCCID"]
    assert evccid == Redactor(KEY).redact(EVCCID) and EVCCID not in view
    _, loop_view, loop_exi = by_name["DC_ChargeLoopReq"]
    assert loop_exi and bytes.fromhex(loop_exi)[0] == 0x80  # an EXI header
    assert json.loads(loop_view)["DC_ChargeLoopReq"]["DisplayParameters"]["PresentSOC"] == 50
    assert EVCCID not in caplog.text


@pytest.mark.parametrize(("every", "loops", "shown"), [(1, 7, 7), (3, 7, 3), (100, 7, 1)])
def test_charge_loop_lines_are_thinned(
    caplog: pytest.LogCaptureFixture, every: int, loops: int, shown: int
) -> None:
    rec = _session(every, loops, caplog)
    texts = [r.getMessage() for r in _lines(caplog)]
    requests = [t for t in texts if t.endswith("DcChargeLoopReq")]
    responses = [t for t in texts if t.endswith("DcChargeLoopRes")]
    assert len(requests) == len(responses) == shown  # the 1st, then every Nth
    signalled = [s for s in rec.signals if s[1].startswith("DC_ChargeLoop")]
    assert len(signalled) == 2 * shown
    # every other message is never thinned
    assert sum(t.endswith("PowerDeliveryRes") for t in texts) == 2
    # the unit still learns of every pair (state and counters)
    loop_changes: list[Any] = [c for c in rec.changes if c[0] == "DC_ChargeLoopRes"]
    assert len(loop_changes) == loops


def test_charge_loop_lines_and_signals_follow_the_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The hot path: a DC_ChargeLoop pair is journalled and signalled only once the loop
    turns after the answer (the server has written the response by then), in order, and any
    other message first writes what is held."""
    redactor = Redactor(KEY)
    rec = Recorder()
    log = logging.getLogger("test.v2g.journal")
    journal = SessionJournal(log, redactor.redact_fields, rec.emit, rec.changed, 1)

    def names() -> list[str]:
        return [name for _, name, _, _ in rec.signals]

    async def go() -> None:
        manager, ev, evse = make()
        manager.observer = journal
        await ev.through_charging(ControlMode.DYNAMIC)
        before = len(rec.signals)
        await ev.charge_loop(ControlMode.DYNAMIC)
        # answered (the Evse1 call made), but nothing of the pair written yet
        assert "ChargeLoop" in evse.names() and len(rec.signals) == before
        assert rec.changes[-1] == ("DC_ChargeLoopRes", "OK")  # the unit's state moves at once
        await asyncio.sleep(0)  # the loop turns: the server wrote the response before this
        assert names()[before:] == ["DC_ChargeLoopReq", "DC_ChargeLoopRes"]
        await ev.charge_loop(ControlMode.DYNAMIC)
        await ev.power_delivery("Stop")  # no turn of the loop in between: flushed first
        assert names()[before + 2 :] == [
            "DC_ChargeLoopReq",
            "DC_ChargeLoopRes",
            "PowerDeliveryReq",
            "PowerDeliveryRes",
        ]

    with caplog.at_level(logging.INFO, logger="test.v2g.journal"):
        run(go())
    texts = [r.getMessage().strip() for r in _lines(caplog)]
    tail = texts[-6:]
    assert tail == [
        "CAR ISO V2G DcChargeLoopReq",
        "EVSE ISO V2G DcChargeLoopRes",
        "CAR ISO V2G DcChargeLoopReq",
        "EVSE ISO V2G DcChargeLoopRes",
        "CAR ISO V2G PowerDeliveryReq",
        "EVSE ISO V2G PowerDeliveryRes",
    ]
