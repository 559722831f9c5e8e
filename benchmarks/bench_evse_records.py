# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's records: transactions/s at synchronous=FULL, the error history after 10,000
errors, and the time ``ccyctl evse errors`` takes to list the last 100.

- Transactions: start + stop of N transactions, each write its own commit with
  ``synchronous=FULL`` (the WAL is fsynced at every commit), in a folder on the same file
  system as /var/tmp (a real disk here, not tmpfs: fsync must cost what it costs).
- Error history: 10,000 Errors1 raises (synchronous=NORMAL, as the unit writes them); the row
  count and the file sizes after them; ``last_errors(100)`` in process (p50/p99).
- ``ccyctl evse errors --limit 100``: the real ccyctl process against a private dbus-daemon,
  wall time per run (Python start included). The org.ccy.Evse1.ListErrors answering it is a
  stand-in serving ``store.last_errors(limit, since).as_struct()`` from the same database (the
  call ccy-evse's glue makes); the in-process bus round trip (client → reply) is reported too.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_evse_records.py [TRANSACTIONS]``.
"""

import asyncio
import getpass
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDouble, DBusSignature, DBusUInt32
from dbus_fast.service import ServiceInterface, method

from ccy.ctl.cmd_evse import EvseProxy, format_errors
from ccy.evse.contract import BUS_NAME, IFACE, OBJECT_PATH, Method
from ccy.evse.records import ErrorRecord, RecordStore
from ccy.runtime.paths import dbus_dir
from ccy.testing.bus_daemon import PrivateBus, user_policy

T0 = 1_764_680_000_000_000
TOKEN = "[redacted] hash: 0123456789abcde"
ERRORS = 10_000
LIST = 100
CTL_RUNS = 10
BUS_RUNS = 200

ErrorRows = Annotated[list[list[object]], DBusSignature("a(sssssdd)")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_transactions(folder: Path, n: int) -> None:
    store = RecordStore.open(folder / "tx.db", T0)
    start = time.perf_counter()
    for i in range(n):
        store.start_transaction(f"tx-{i}", f"s-{i}", TOKEN, T0 + i, 1000.0 + i)
        store.stop_transaction(f"tx-{i}", T0 + i + 1, "EVStopped", 1010.0 + i)
    elapsed = time.perf_counter() - start
    store.close()
    print(
        f"transactions (start + stop, FULL sync): {n} in {elapsed:.2f} s = "
        f"{n / elapsed:.0f} transactions/s ({2 * n / elapsed:.0f} commits/s, "
        f"{elapsed / (2 * n) * 1e3:.2f} ms per commit)"
    )


def bench_errors(path: Path) -> RecordStore:
    store = RecordStore.open(path, T0)
    start = time.perf_counter()
    for i in range(ERRORS):
        store.error_raised("ccy-bsp", "McuWarning", str(i % 64), "Low", f"warning {i}", T0 + i)
    elapsed = time.perf_counter() - start
    sizes = {p.name: p.stat().st_size for p in path.parent.glob(path.name + "*")}
    print(
        f"error history: {ERRORS} raises in {elapsed:.2f} s ({ERRORS / elapsed:.0f}/s, NORMAL "
        f"sync); rows {store.error_count()}; files "
        + ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sorted(sizes.items()))
    )
    times = []
    for _ in range(BUS_RUNS):
        t = time.perf_counter()
        rows = store.last_errors(LIST)
        times.append(time.perf_counter() - t)
    assert len(rows) == LIST
    print(
        f"last_errors({LIST}) in process: p50 {percentile(times, 50) * 1e3:.2f} ms, "
        f"p99 {percentile(times, 99) * 1e3:.2f} ms"
    )
    return store


class ListErrorsStandIn(ServiceInterface):
    """Stand-in for ccy-evse's ListErrors: the same store call, nothing else."""

    def __init__(self, store: RecordStore) -> None:
        super().__init__(IFACE)
        self._store = store

    @method(name=Method.LIST_ERRORS.value)
    def list_errors(self, since: DBusDouble, limit: DBusUInt32) -> ErrorRows:
        rows = self._store.last_errors(limit, since_us=round(since * 1e6))
        return [e.as_struct() for e in rows]


async def bench_ctl(store: RecordStore, bus: PrivateBus) -> None:
    server = await MessageBus(bus_address=bus.address, bus_type=BusType.SYSTEM).connect()
    server.export(OBJECT_PATH, ListErrorsStandIn(store))
    await server.request_name(BUS_NAME)
    client = await MessageBus(bus_address=bus.address, bus_type=BusType.SYSTEM).connect()
    evse = EvseProxy(client)
    round_trips = []
    for _ in range(BUS_RUNS):
        t = time.perf_counter()
        rows = await evse.call(Method.LIST_ERRORS, 0.0, LIST)
        format_errors([ErrorRecord.from_struct(r) for r in rows])
        round_trips.append(time.perf_counter() - t)
    p50, p99 = (percentile(round_trips, p) * 1e3 for p in (50, 99))
    print(f"ListErrors({LIST}) on the bus + formatting: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    walls = []
    ctl = str(Path(sys.executable).parent / "ccyctl")
    for _ in range(CTL_RUNS):
        t = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            ctl, "evse", "errors", "--limit", str(LIST),
            env=bus.environ(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        walls.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"ccyctl failed: {err.decode().strip()}")
        assert len(out.decode().splitlines()) == LIST + 1
    print(
        f"ccyctl evse errors --limit {LIST} (whole process, {CTL_RUNS} runs): p50 "
        f"{statistics.median(walls) * 1e3:.0f} ms, max {max(walls) * 1e3:.0f} ms"
    )
    client.disconnect()
    server.disconnect()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    folder = Path(tempfile.mkdtemp(prefix="ccy-bench-records-", dir="/var/tmp"))
    try:
        bench_transactions(folder, n)
        store = bench_errors(folder / "evse.db")
        with PrivateBus(
            folder / "bus", [dbus_dir() / "policy"], user_policy(getpass.getuser())
        ) as bus:
            asyncio.run(bench_ctl(store, bus))
        store.close()
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
