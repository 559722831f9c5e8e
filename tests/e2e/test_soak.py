# SPDX-License-Identifier: Apache-2.0
"""The soak's short version: 100 consecutive EV-simulator sessions against the whole stack.

The same run as ``make soak`` (benchmarks/soak.py, 1,000 sessions), shortened: ``ccy-sim up``'s
stack with every unit, the EV simulator over TLS 1.3 (two charge loops per session), the
simulated physics made instant. Two settings differ so it fits ``make test`` (about a minute
here): ccy-evse skips the IMD self-test (``evse.imd_self_test: false``; ccy-profinet's model
takes a fixed 0.5 s for it, which would make 100 sessions take about 100 s) and keeps only
20 session-log folders, so retention must remove the older ones during the run.

Asserted: every session completed; no unit restarted; no transaction is left open and every
session has its closed transaction; each unit's open descriptors grew by at most 2; the
session-log folder is within its count and byte limits while the database lists every
session; the error history and the WAL within their caps. RSS growth is the soak's
measurement (≤ 5 % there); here only a generous bound (25 %) catches a gross leak. Timings
are printed, never asserted.
"""

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ccy.evse.records import RecordReader, database_path
from ccy.runtime.paths import Paths

TOP = Path(__file__).resolve().parents[2]
SESSIONS = 100
MAX_FOLDERS = 20


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ccy_bench_soak", TOP / "benchmarks/soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def soak() -> ModuleType:
    return _soak_module()


def test_100_sessions_without_failure_leak_or_overflow(soak: Any) -> None:
    keys = {"imd_self_test": False, "session_log_max_count": MAX_FOLDERS}
    with soak.soak_rig(soak.INSTANT, keys) as rig:
        report = asyncio.run(soak.soak(rig, SESSIONS))
        soak.print_report(report)
        reader = RecordReader.open_readonly(database_path(Paths.from_root(rig.stack.layout.dir)))
        try:
            sessions = reader.sessions(limit=10_000)
            transactions = reader.last_transactions(10_000)
        finally:
            reader.close()

    assert report.failures == []
    assert all(n == 0 for n in report.restarts.values()), report.restarts
    assert set(report.before) == set(report.after) and len(report.before) >= 5
    for name, before in report.before.items():
        after = report.after[name]
        assert after.fds <= before.fds + soak.FD_GROWTH_LIMIT, (name, before.fds, after.fds)
        assert after.rss_kib <= before.rss_kib * 1.25, (name, before.rss_kib, after.rss_kib)
    u = report.usage
    total = SESSIONS + 3  # the warm-up sessions count too
    assert u.open_transactions == 0
    assert u.transactions == total and len(transactions) == total
    assert all(t.stop_reason == "EVDisconnected" for t in transactions)
    assert len(sessions) == total  # the index keeps every session …
    assert 1 <= u.session_folders <= MAX_FOLDERS  # … while retention removed old folders
    assert u.session_bytes <= report.max_bytes
    assert report.max_count == MAX_FOLDERS
    assert report.problems() == []
