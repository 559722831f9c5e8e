# SPDX-License-Identifier: Apache-2.0
"""Session logs: the folder layout and file contents, write failures that never raise,
retention by count and by total size, and reading a folder back."""

import json
import os
import stat
from pathlib import Path

import pytest

from ccy.evse.session_log import (
    EVENTS_FILE,
    SESSION_FILE,
    TIMING_FILE,
    V2G_FILE,
    InvalidSessionId,
    SessionLogs,
    folder_name,
    list_folders,
    read_folder,
    sessions_dir,
)
from ccy.runtime.paths import Paths

T0 = 1_764_683_489_123_456  # 2025-12-02T13:51:29.123456Z
SID = "6f1c2a9e-0d4b-4c53-9a61-2b7e8f0c1d2e"
TIMING = """Timing statistics
ConnSetup | HLC_PWM_5%_ON | Total
0.100 | 0.250 | 0.350
"""


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_sessions_folder_is_under_var_log_ccy(tmp_path: Path) -> None:
    assert sessions_dir(Paths(tmp_path)) == tmp_path / "var/log/ccy/sessions"


def test_folder_name_is_utc_start_then_session_id() -> None:
    assert folder_name(SID, T0) == f"20251202T135129Z-{SID}"


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", ".hidden", "x" * 200, "with space"])
def test_a_session_id_that_cannot_name_a_folder_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidSessionId):
        SessionLogs(tmp_path, 10, 10_000).start(bad, T0)
    assert list(tmp_path.iterdir()) == []


def test_layout_and_contents(tmp_path: Path) -> None:
    base = tmp_path / "sessions"
    base.mkdir()
    os.chmod(base, 0o2750)
    logs = SessionLogs(base, 10, 10_000_000)
    log = logs.start(SID, T0)
    assert log.folder == base / f"20251202T135129Z-{SID}"
    log.event("SessionStarted", T0, reason="EVConnected")
    log.event("StateChanged", T0 + 1_000, old="Idle", new="WaitingForAuthentication")
    log.v2g("rx", "SessionSetupReq", T0 + 2_000, body={"EVCCID": "[redacted]"}, exi_hex="8098")
    log.v2g("tx", "SessionSetupRes", T0 + 3_000, body={"ResponseCode": "OK"})
    log.event("Bytes", T0 + 4_000, raw=b"\x01\xff")  # not JSON: written as hex, never an error
    log.timing(TIMING)
    log.close(T0 + 9_000_000, "EVDisconnected")
    log.close(T0 + 10_000_000, "Fault")  # idempotent
    log.event("Late", T0 + 11_000_000)  # after close: ignored

    assert sorted(p.name for p in log.folder.iterdir()) == sorted(
        [EVENTS_FILE, V2G_FILE, TIMING_FILE, SESSION_FILE]
    )
    events = lines(log.folder / EVENTS_FILE)
    assert [e["event"] for e in events] == ["SessionStarted", "StateChanged", "Bytes"]
    assert events[0] == {
        "us": T0,
        "t": "2025-12-02T13:51:29.123+00:00",
        "event": "SessionStarted",
        "reason": "EVConnected",
    }
    assert events[2]["raw"] == "01ff"
    v2g = lines(log.folder / V2G_FILE)
    assert v2g[0] == {
        "us": T0 + 2_000,
        "t": "2025-12-02T13:51:29.125+00:00",
        "dir": "rx",
        "name": "SessionSetupReq",
        "body": {"EVCCID": "[redacted]"},
        "exi": "8098",
    }
    assert v2g[1]["exi"] is None
    assert (log.folder / TIMING_FILE).read_text() == TIMING
    assert lines(log.folder / SESSION_FILE) == [
        {"session": SID, "start_us": T0, "end_us": T0 + 9_000_000, "reason": "EVDisconnected"}
    ]
    assert log.lost_lines == 0
    mode = log.folder.stat().st_mode
    assert stat.S_IMODE(mode) == 0o2750  # group ccy inherited through the set-group-id bit
    for f in log.folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o640, f


def test_a_session_is_readable_while_it_runs(tmp_path: Path) -> None:
    log = SessionLogs(tmp_path, 10, 10_000_000).start(SID, T0)
    log.event("StateChanged", T0, new="Charging")
    contents = read_folder(log.folder)
    assert [e["event"] for e in contents.events] == ["StateChanged"]
    assert contents.session == {"session": SID, "start_us": T0, "end_us": None, "reason": None}
    assert contents.timing is None


def test_timing_is_replaced_whole(tmp_path: Path) -> None:
    log = SessionLogs(tmp_path, 10, 10_000_000).start(SID, T0)
    log.timing("first\n")
    log.timing("second")
    assert (log.folder / TIMING_FILE).read_text() == "second\n"
    assert not list(log.folder.glob(".*"))  # no temp file left


def test_a_failing_write_is_counted_and_reported_once_never_raised(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, 10, 10_000_000)
    reported: list[tuple[Path, OSError]] = []
    logs.on_error = lambda folder, exc: reported.append((folder, exc))
    log = logs.start(SID, T0)
    (log.folder / EVENTS_FILE).symlink_to("/dev/full")  # every write: ENOSPC from the kernel
    for i in range(5):
        log.event("Tick", T0 + i)
    assert log.lost_lines == 5
    assert len(reported) == 1 and reported[0][0] == log.folder
    assert reported[0][1].errno == 28
    log.v2g("rx", "ChargeLoopReq", T0 + 10)  # another file still works
    assert lines(log.folder / V2G_FILE)[0]["name"] == "ChargeLoopReq"
    log.close(T0 + 20, "EVDisconnected")  # fsync of /dev/full: no exception either


def test_a_line_cut_by_power_loss_is_skipped_and_counted(tmp_path: Path) -> None:
    log = SessionLogs(tmp_path, 10, 10_000_000).start(SID, T0)
    log.event("A", T0)
    log.event("B", T0 + 1)
    with open(log.folder / EVENTS_FILE, "ab") as f:
        f.write(b'{"us": 3, "event": "C", "t": "2025-')
    contents = read_folder(log.folder)
    assert [e["event"] for e in contents.events] == ["A", "B"]
    assert contents.unreadable_lines == 1


def start_finished(logs: SessionLogs, n: int, payload: int) -> list[str]:
    names = []
    for i in range(n):
        log = logs.start(f"session-{i:03}", T0 + i * 60_000_000)
        log.event("Payload", T0, data="x" * payload)
        log.close(T0 + i * 60_000_000 + 1, "EVDisconnected")
        names.append(log.folder_name)
    return names


def test_retention_by_count_removes_the_oldest(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, max_count=3, max_bytes=10_000_000)
    names = start_finished(logs, 5, 10)
    (tmp_path / "README").write_text("not a session")  # left alone
    (tmp_path / "notes").mkdir()
    assert logs.enforce_retention() == names[:2]
    assert [f.name for f in logs.folders()] == names[2:]
    assert (tmp_path / "README").exists() and (tmp_path / "notes").is_dir()


def test_retention_by_total_size(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, max_count=100, max_bytes=10_000)
    names = start_finished(logs, 6, 3_000)
    removed = logs.enforce_retention()
    left = logs.folders()
    assert removed == names[: len(removed)] and removed
    assert sum(f.size_bytes() for f in left) <= 10_000
    assert [f.name for f in left] == names[len(removed) :]
    assert len(left) == 3  # each folder is a little over 3,000 bytes


def test_retention_never_removes_a_running_session(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, max_count=1, max_bytes=100)
    running = logs.start("running", T0 - 1_000_000_000)  # the oldest, and over every limit
    running.event("Payload", T0, data="y" * 500)
    start_finished(logs, 2, 500)
    logs.enforce_retention(keep=(running.folder_name,))
    assert [f.name for f in logs.folders()] == [running.folder_name]


def test_find_and_list(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, 10, 10_000_000)
    log = logs.start(SID, T0)
    folders = list_folders(tmp_path)
    assert [(f.session_id, f.started.isoformat()) for f in folders] == [
        (SID, "2025-12-02T13:51:29+00:00")
    ]
    assert logs.find(SID) == log.folder
    assert logs.find("other") is None
    assert list_folders(tmp_path / "missing") == []


def test_a_second_start_of_the_same_session_appends(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, 10, 10_000_000)
    logs.start(SID, T0).event("A", T0)
    logs.start(SID, T0).event("B", T0)
    (folder,) = logs.folders()
    assert [e["event"] for e in lines(folder.path / EVENTS_FILE)] == ["A", "B"]


def test_bad_retention_limits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SessionLogs(tmp_path, 0, 10)


def test_a_folder_left_open_by_a_killed_run_is_closed_at_the_next_start(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path, 10, 10_000_000)
    done = logs.start("earlier", T0)
    done.close(T0 + 1_000_000, "EVDisconnected")
    log = logs.start(SID, T0 + 5_000_000)
    log.event("StateChanged", T0 + 5_000_001, new="Charging")  # then SIGKILL: never closed
    later = SessionLogs(tmp_path, 10, 10_000_000)  # the restarted unit
    assert later.close_unfinished(T0 + 9_000_000, "PowerLoss") == log.folder_name
    contents = read_folder(log.folder)
    assert contents.session == {
        "session": SID,
        "start_us": T0 + 5_000_000,
        "end_us": T0 + 9_000_000,
        "reason": "PowerLoss",
    }
    assert [e["event"] for e in contents.events] == ["StateChanged", "closed_on_start"]
    assert later.close_unfinished(T0 + 9_500_000, "PowerLoss") is None  # once
    assert read_folder(done.folder).session["reason"] == "EVDisconnected"  # type: ignore[index]


def test_nothing_to_close_in_an_empty_or_finished_sessions_folder(tmp_path: Path) -> None:
    logs = SessionLogs(tmp_path / "none-yet", 10, 10_000_000)
    assert logs.close_unfinished(T0, "PowerLoss") is None
    logs.start(SID, T0).close(T0 + 1, "EVDisconnected")
    assert logs.close_unfinished(T0 + 2, "PowerLoss") is None
