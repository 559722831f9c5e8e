# SPDX-License-Identifier: Apache-2.0
"""ccy.evse.recorder with a real records database and real session-log folders: every unit's
errors reach the history and, while a session is open, the session's events.jsonl once each;
ccy-v2g's V2gMessage lands in v2g.jsonl only inside a session, directions mapped."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.evse.effects import RecordSessionFinished, RecordSessionStarted
from ccy.evse.recorder import Recorder
from ccy.evse.records import RecordStore
from ccy.evse.session_log import FolderContents, SessionLogs, read_folder
from ccy.runtime.errors import ErrorRegistry

LOG = logging.getLogger("test.evse.recorder")
T0 = 1_800_000_000_000_000


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    store = RecordStore.open(tmp_path / "lib" / "evse.db", T0)
    logs = SessionLogs(tmp_path / "sessions", 10, 10_000_000)
    yield Recorder(store, logs, ErrorRegistry(LOG), LOG)
    store.close()


def start(r: Recorder, session: str, at: int) -> None:
    assert r.apply(RecordSessionStarted(session, at))


def finish(r: Recorder, session: str, at: int) -> FolderContents:
    assert r.folder is not None
    folder = r.folder.folder
    assert r.apply(RecordSessionFinished(session, at, "EVDisconnected"))
    return read_folder(folder)


def kinds(contents: FolderContents) -> list[tuple[str, str, str]]:
    return [(e["event"], e["unit"], e["type"]) for e in contents.events if "unit" in e]


def test_errors_of_every_unit_are_logged_once_while_a_session_is_open(recorder: Recorder) -> None:
    r = recorder
    r.error_raised("ccy-auth", "RfidReaderLost", "", "Low", "before the session", T0)
    start(r, "s-1", T0 + 10)
    r.error_raised("ccy-profinet", "SupplyFault", "", "High", "supply", T0 + 20)
    r.errors_now("ccy-profinet", [("SupplyFault", "", "High", "supply", T0 + 20)], T0 + 21)
    r.error_raised("ccy-profinet", "SupplyFault", "", "High", "supply", T0 + 20)  # again
    r.errors_now("ccy-v2g", [("EvseMissing", "", "Medium", "no evse", T0 + 30)], T0 + 30)
    r.error_cleared("ccy-profinet", "SupplyFault", "", T0 + 40)
    r.error_cleared("ccy-profinet", "SupplyFault", "", T0 + 41)  # not open: no line
    r.errors_now("ccy-v2g", (), T0 + 50)  # ccy-v2g vanished: its errors end with it
    contents = finish(r, "s-1", T0 + 60)
    r.error_raised("ccy-bsp", "LinkLost", "", "High", "after the session", T0 + 70)
    assert kinds(contents) == [
        ("error_raised", "ccy-profinet", "SupplyFault"),
        ("error_raised", "ccy-v2g", "EvseMissing"),
        ("error_cleared", "ccy-profinet", "SupplyFault"),
        ("error_cleared", "ccy-v2g", "EvseMissing"),
    ]
    raised = next(e for e in contents.events if e["event"] == "error_raised")
    assert raised["us"] == T0 + 20 and raised["severity"] == "High"
    assert raised["message"] == "supply" and raised["subtype"] == ""
    # The history has every unit's rows, inside the session or not.
    history = {(e.unit, e.type): e.cleared_us for e in r.store.errors_since(0)}
    assert history == {
        ("ccy-auth", "RfidReaderLost"): None,
        ("ccy-profinet", "SupplyFault"): T0 + 40,
        ("ccy-v2g", "EvseMissing"): T0 + 50,
        ("ccy-bsp", "LinkLost"): None,
    }


def test_v2g_messages_land_in_the_open_session_only(recorder: Recorder) -> None:
    r = recorder
    doc = {"SessionSetupReq": {"EVCCID": "[redacted] hash: 0123456789ABCDE"}}
    r.v2g_message("Request", "SessionSetupReq", json.dumps(doc), "", T0)  # no session: dropped
    start(r, "s-2", T0 + 10)
    r.v2g_message("Request", "SessionSetupReq", json.dumps(doc), "", T0 + 20)
    r.v2g_message("Response", "SessionSetupRes", '{"ResponseCode": "OK"}', "8090", T0 + 30)
    r.v2g_message("Response", "Odd", "[1, 2]", "", T0 + 40)
    r.v2g_message("Request", "Broken", "{not json", "", T0 + 50)
    contents = finish(r, "s-2", T0 + 60)
    r.v2g_message("Request", "SessionStopReq", "{}", "", T0 + 70)  # after: dropped
    assert [(m["us"], m["dir"], m["name"], m["body"], m["exi"]) for m in contents.v2g] == [
        (T0 + 20, "rx", "SessionSetupReq", doc, None),
        (T0 + 30, "tx", "SessionSetupRes", {"ResponseCode": "OK"}, "8090"),
        (T0 + 40, "tx", "Odd", {"value": [1, 2]}, None),
        (T0 + 50, "rx", "Broken", {"unparsed": "{not json"}, None),
    ]
