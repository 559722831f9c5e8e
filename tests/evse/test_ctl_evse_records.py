# SPDX-License-Identifier: Apache-2.0
"""``ccyctl evse`` without the running unit: ``sessions`` and ``session show`` on real
session-log folders (read-only, as an operator of group ccy would), the records' bus structs
as ``transactions``/``errors`` print them, and the argument checks that refuse before any bus
is asked. The bus commands themselves run against the real ccy-evse in the integrator's tests."""

import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccy.ctl import main as ctl
from ccy.ctl.cmd_evse import format_errors, format_transactions, parse_since
from ccy.ctl.failure import CtlError, ExitCode
from ccy.evse.records import ErrorRecord, RecordStore, TransactionRecord
from ccy.evse.session_log import EVENTS_FILE, SessionLogs, sessions_dir
from ccy.runtime.paths import Paths
from ccy.testing.as_user import NOBODY, call_as
from ccy.testing.folders import traversable_tmp

T0 = 1_764_683_489_123_456  # 2025-12-02T13:51:29.123456Z
SID = "6f1c2a9e-0d4b-4c53-9a61-2b7e8f0c1d2e"
TOKEN = "[redacted] hash: 0123456789abcde"
NO_BUS = "unix:path=/nonexistent/ccy-evse-test-bus"


def ccyctl(
    *args: str, prefix: tuple[str, ...] = (), root: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=NO_BUS)
    where = ("--root", str(root)) if root is not None else ()
    return subprocess.run(
        [*prefix, sys.executable, "-m", "ccy.ctl.main", *where, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def ctl_main(*args: str, root: Path) -> Callable[[], int]:
    """ccyctl with these arguments, for :func:`call_as` (another user, in a forked child: no
    new interpreter, so its install folder's mode does not matter). The arguments are parsed
    here, before the fork (the parser lists ccy.ctl's folder, which the other user may not
    read), and so is what the command loads on first use (the standard library's _strptime)."""
    parsed = ctl.build_parser().parse_args(["--root", str(root), *args])
    time.strptime("2025-12-02", "%Y-%m-%d")

    def run() -> int:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = NO_BUS
        return ctl.run(parsed)

    return run


def write_sessions(root: Path) -> None:
    logs = SessionLogs(sessions_dir(Paths(root)), 10, 10_000_000)
    log = logs.start(SID, T0)
    log.event("StateChanged", T0, old="Idle", new="WaitingForAuthentication")
    log.event("TransactionStarted", T0 + 1_000, transaction_id="tx-1", token=TOKEN)
    log.event(
        "ErrorRaised",
        T0 + 2_000,
        unit="ccy-bsp",
        type="EmergencyStop",
        subtype="EmergencyInput",
        severity="High",
        message="the emergency input opened",
    )
    log.v2g("rx", "DC_ChargeLoopReq", T0 + 3_000, body={"EVTargetVoltage": 800.0}, exi_hex="8098")
    log.event("TransactionFinished", T0 + 4_000, transaction_id="tx-1", reason="EmergencyStop")
    log.timing("Timing statistics\nConnSetup | HLC_PWM_5%_ON | Total\n0.100 | 0.250 | 0.350")
    log.close(T0 + 9_000_000, "EVDisconnected")
    logs.start("second-session", T0 + 60_000_000).event("StateChanged", T0 + 60_000_000)


@pytest.fixture
def root() -> Iterator[Path]:
    top = traversable_tmp("ccy-evse-ctl-")
    write_sessions(top)
    yield top
    shutil.rmtree(top)


def test_sessions_lists_newest_first_with_end_and_reason(root: Path) -> None:
    done = ccyctl("evse", "sessions", root=root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["STARTED", "ENDED", "REASON", "SESSION"]
    assert lines[1].split() == ["2025-12-02T13:52:29Z", "-", "(running)", "second-session"]
    assert lines[2].split() == [
        "2025-12-02T13:51:29Z",
        "2025-12-02T13:51:38Z",
        "EVDisconnected",
        SID,
    ]
    limited = ccyctl("evse", "sessions", "--limit", "1", root=root)
    assert len(limited.stdout.splitlines()) == 2


@pytest.mark.parametrize("which", [SID, f"20251202T135129Z-{SID}"])
def test_session_show_prints_the_log_readably(root: Path, which: str) -> None:
    done = ccyctl("evse", "session", "show", which, root=root)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"Session {SID}\n")
    assert "Ended: 2025-12-02T13:51:38Z (EVDisconnected)" in out
    overview = out.split("Ended:")[1].split("Transactions:")[0]
    assert "Duration: 9.000 s\n" in overview
    assert (
        f"Transaction tx-1, token {TOKEN}: finished EmergencyStop at 2025-12-02T13:51:29.127Z,"
        " energy unknown" in overview
    )
    transactions = out.split("Transactions: 2\n")[1].split("Errors and stops:")[0]
    assert "+0.001 s  TransactionStarted  transaction_id=tx-1" in transactions
    assert "reason=EmergencyStop" in transactions
    errors = out.split("Errors and stops: 1\n")[1].split("Events:")[0]
    assert "ErrorRaised  unit=ccy-bsp  type=EmergencyStop  subtype=EmergencyInput" in errors
    assert (
        "Events: 4\n  2025-12-02T13:51:29.123Z    +0.000 s  StateChanged  "
        "Idle → WaitingForAuthentication\n" in out
    )
    assert "2025-12-02T13:51:29.126Z    +0.003 s  EV → DC_ChargeLoopReq" in out
    assert '{"EVTargetVoltage":800.0}' in out and "EXI 8098" in out
    assert "Timing:\n  Timing statistics\n  ConnSetup | HLC_PWM_5%_ON | Total" in out


def test_session_show_of_a_log_cut_by_power_loss(root: Path) -> None:
    folder = next(sessions_dir(Paths(root)).glob("*-second-session"))
    with open(folder / EVENTS_FILE, "ab") as f:
        f.write(b'{"us": 1, "ev')
    done = ccyctl("evse", "session", "show", "second-session", root=root)
    assert done.returncode == 0, done.stderr
    assert "Ended: - (running" in done.stdout
    assert "(1 unreadable line(s) skipped" in done.stdout


def test_unknown_session_and_missing_folder_are_one_line(root: Path, tmp_path: Path) -> None:
    done = ccyctl("evse", "session", "show", "nope", root=root)
    assert done.returncode == ExitCode.NO_INPUT
    assert done.stderr.count("\n") == 1 and "no session log of 'nope'" in done.stderr
    done = ccyctl("evse", "session", "show", "..", root=root)
    assert done.returncode == ExitCode.NO_INPUT
    done = ccyctl("evse", "sessions", root=tmp_path)
    assert done.returncode == ExitCode.NO_INPUT
    assert "no session-log folder" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.root
def test_an_operator_of_the_group_reads_session_logs_and_nobody_else_does(root: Path) -> None:
    """The device's modes: sessions folder 2750 owner:group, folders 0750 (+ inherited
    set-group-id), files 0640; a member of the group reads, another user gets one line."""
    group = 4242  # no name needed: the kernel checks numbers
    base = sessions_dir(Paths(root))
    os.chown(base, 0, group)
    os.chmod(base, 0o2750)
    for folder in base.iterdir():
        os.chown(folder, 0, group)
        for f in folder.iterdir():
            os.chown(f, 0, group)
    as_member = call_as(NOBODY, group, ctl_main("evse", "session", "show", SID, root=root))
    assert as_member.returncode == 0, as_member.stderr
    assert "ErrorRaised" in as_member.stdout
    done = call_as(NOBODY, NOBODY, ctl_main("evse", "sessions", root=root))
    assert done.returncode == ExitCode.NO_PERMISSION, done.stderr
    assert "permission denied" in done.stderr and done.stderr.count("\n") == 1


def test_transactions_and_errors_print_what_the_bus_carries(tmp_path: Path) -> None:
    """Rows of a real store → the ListTransactions/ListErrors structs → ccyctl's tables."""
    store = RecordStore.open(tmp_path / "evse.db", T0)
    store.start_transaction("tx-open", "s-2", TOKEN, T0 + 100_000_000, None)
    store.start_transaction("tx-metered", "s-1", TOKEN, T0, 100.0)
    store.stop_transaction("tx-metered", T0 + 60_000_000, "EVStopped", 142.5)
    store.start_transaction("tx-unmetered", "s-1", TOKEN, T0 + 1, None)
    store.stop_transaction("tx-unmetered", T0 + 2_000_000, "Local", None)
    store.error_raised("ccy-bsp", "LinkLost", "", "High", "no ChargeState2", T0)
    store.error_cleared("ccy-bsp", "LinkLost", "", T0 + 5_000_000)
    store.error_raised("ccy-evse", "RecordsDiskFull", "", "Medium", "disk full", T0 + 6_000_000)
    rows = store.last_transactions(5)
    transactions = [TransactionRecord.from_struct(t.as_struct()) for t in rows]
    errors = [ErrorRecord.from_struct(e.as_struct()) for e in store.last_errors(5)]
    store.close()

    table = format_transactions(transactions).splitlines()
    assert table[0].split()[:4] == ["STARTED", "STOPPED", "ENERGY", "REASON"]
    assert table[1].split()[:4] == ["2025-12-02T13:53:09Z", "-", "unknown", "(open)"]
    assert table[2].split()[:5] == [
        "2025-12-02T13:51:29Z",
        "2025-12-02T13:51:31Z",
        "unknown",
        "Local",
        "tx-unmetered",
    ]
    assert table[3].split()[:6] == [
        "2025-12-02T13:51:29Z",
        "2025-12-02T13:52:29Z",
        "42.5",
        "Wh",
        "EVStopped",
        "tx-metered",
    ]
    assert f"token {TOKEN}" in table[3]
    lines = format_errors(errors).splitlines()
    assert lines[1].split()[:4] == ["2025-12-02T13:51:35Z", "(active)", "ccy-evse", "Medium"]
    assert lines[2].split()[:5] == [
        "2025-12-02T13:51:29Z",
        "2025-12-02T13:51:34Z",
        "ccy-bsp",
        "High",
        "LinkLost/-:",
    ]
    assert format_transactions([]) == "no transactions" and format_errors([]) == "no errors"


def test_since_takes_a_time_or_an_age() -> None:
    now = 1_764_683_489.0
    assert parse_since("2h", now) == now - 7200
    assert parse_since("90s", now) == now - 90
    assert parse_since("7d", now) == now - 7 * 86400
    assert parse_since("2025-12-02T13:00:00Z", now) == 1_764_680_400.0
    assert parse_since("2025-12-02T13:00", now) == 1_764_680_400.0  # UTC unless it says
    assert parse_since("2025-12-02T15:00+02:00", now) == 1_764_680_400.0
    assert parse_since("2025-12-02", now) == 1_764_633_600.0
    with pytest.raises(CtlError) as caught:
        parse_since("yesterday", now)
    assert caught.value.code == ExitCode.DATA


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("limits", "--power", "5000"), ExitCode.USAGE, "needs --valid-for"),
        (("limits", "--valid-for", "60"), ExitCode.USAGE, "needs --power and/or --current"),
        (("limits", "--clear", "--power", "1"), ExitCode.USAGE, "--clear takes no other"),
        (("limits", "--power", "-1", "--valid-for", "60"), ExitCode.USAGE, "greater than 0"),
        (("limits", "--current", "nan", "--valid-for", "60"), ExitCode.USAGE, "greater than 0"),
        (("limits", "--power", "1", "--valid-for", "0.5"), ExitCode.USAGE, "outside 1..86400"),
        (("errors", "--since", "soon"), ExitCode.DATA, "neither a time nor an age"),
        (("errors", "--limit", "0"), ExitCode.USAGE, "outside 1..10000"),
        (("transactions", "--limit", "x"), ExitCode.USAGE, "not a whole number"),
        (("stop", "--reason", "Bored"), ExitCode.USAGE, "invalid choice"),
    ],
)
def test_bad_arguments_are_refused_before_the_bus_is_asked(
    args: tuple[str, ...], code: ExitCode, text: str
) -> None:
    done = ccyctl("evse", *args)
    assert done.returncode == code, done.stderr
    assert text in done.stderr and done.stderr.count("\n") == 1
    assert "system bus" not in done.stderr


def test_a_bus_command_without_a_bus_is_one_line() -> None:
    done = ccyctl("evse", "status")
    assert done.returncode == ExitCode.UNAVAILABLE
    assert NO_BUS.removeprefix("unix:path=") in done.stderr and done.stderr.count("\n") == 1


def test_nan_and_open_rows_survive_the_struct() -> None:
    struct = ["t", "s", TOKEN, 1.0, math.nan, "", math.nan]
    record = TransactionRecord.from_struct(struct)
    assert (record.stop_us, record.stop_reason, record.energy_Wh) == (None, None, None)
