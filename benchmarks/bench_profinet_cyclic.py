# SPDX-License-Identifier: Apache-2.0
"""Profinet cyclic timing of the IO device, on a veth pair between network namespaces (root).

For each cycle (8 ms, 32 ms) and each load (none; one busy-loop process per CPU core):
- send jitter of the device's provider thread over CYCLES cycles (default 10,000): p50, p99,
  max of the lateness of each frame against its absolute deadline, and of the interval error
  (interval between two frames minus the cycle); skipped cycles;
- connect → data exchange: the PLC simulator's time from sending Connect to the first valid
  input data (Connect, WriteMultiple, PrmEnd, ApplicationReady, first cyclic frames);
- PLC loss → DHT-expired callback: the simulator stops every frame (``vanish``) and prints the
  monotonic time; the device's listener prints the time it heard "Aborted … DHT expired"
  (the same CLOCK_MONOTONIC in both namespaces). DataHoldFactor 3, so ≈ 3 cycles;
- RSS and CPU of the device process (VmRSS, utime+stime over the run).

The device is tests/profinet/rt_device_host.py (IoDevice alone, as the unit composes it), DCP
runs beside it (``python -m ccy.profinet.dcp``), the PLC is ``python -m ccy.sim.plc``.
Goal (issue 14): p99 jitter ≤ 1 ms at 8 ms.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_profinet_cyclic.py [--cycles N]``.
"""

import argparse
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ccy.testing import netns

TOP = Path(__file__).resolve().parents[1]

HOST = TOP / "tests" / "profinet" / "rt_device_host.py"
INDEX = 159
LOAD = "while True: pass"


class Proc:
    """A process that prints one event per line (stderr to a log file)."""

    def __init__(self, argv: list[str], log: Path) -> None:
        with open(log, "a", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )
        self.lines: queue.Queue[str] = queue.Queue()
        self.skipped: list[str] = []
        self.log = log
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line.startswith(prefix):
                return line
            self.skipped.append(line)
        raise RuntimeError(f"no {prefix!r} line; log:\n{self.log.read_text()[-2000:]}")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_run(
    cycle_ms: int, cycles: int, load: int, tmp: Path, loop_priority: int | None
) -> dict[str, str]:
    loaders = [subprocess.Popen([sys.executable, "-c", LOAD]) for _ in range(load)]
    try:
        with netns.charger_network(INDEX) as net:
            dcp = Proc(
                netns.exec_in(
                    net.charger_ns,
                    [sys.executable, "-m", "ccy.profinet.dcp", "--interface",
                     net.device.interface, "--state-dir", str(tmp / "dcp"),
                     "--station-name", "ccy-charger", "--ip", "192.0.2.2/24", "--no-lldp"],
                ),
                tmp / "dcp.log",
            )  # fmt: skip
            dcp.expect("ready")
            dev = Proc(
                netns.exec_in(
                    net.charger_ns,
                    [sys.executable, str(HOST), net.device.interface, "--record"]
                    + ([f"--loop-priority={loop_priority}"] if loop_priority else []),
                ),
                tmp / "device.log",
            )
            plc: Proc | None = None
            try:
                dev.expect("ready")
                pid = dev.proc.pid
                run_s = cycles * cycle_ms / 1000
                plc = Proc(
                    netns.exec_in(
                        net.plc_ns,
                        [sys.executable, "-m", "ccy.sim.plc", "--iface", net.plc.interface,
                         "--station", "ccy-charger", "--cycle-ms", str(cycle_ms),
                         "--vanish-after", str(run_s + 0.5), "--run-s", "1"],
                    ),
                    tmp / "plc.log",
                )  # fmt: skip
                exchange_ms = plc.expect("plc: data exchange").split()[-2]
                dev.expect("state DataExchange")
                cpu0, t0 = cpu_s(pid), time.monotonic()
                time.sleep(run_s)
                cpu = (cpu_s(pid) - cpu0) / (time.monotonic() - t0) * 100
                rss = rss_mb(pid)
                dev.send("lateness")
                late = dev.expect("lateness").split()[1:]
                early = [line for line in dev.skipped if line.startswith("state Aborted")]
                if early:  # the AR ended during the run: report it instead of a loss time
                    loss = "n/a: AR aborted during the run (" + early[0].split(" ", 4)[-1] + ")"
                else:
                    vanished = float(plc.expect("plc: vanished", run_s + 30).split()[-1])
                    aborted = dev.expect("state Aborted", 10).split()
                    loss = f"{(float(aborted[3]) - vanished) * 1000:.1f}"
            finally:
                if plc is not None:
                    plc.stop()
                dev.stop()
                dcp.stop()
    finally:
        for p in loaders:
            p.kill()
            p.wait()
    return {
        "frames": late[0],
        "late p50/p99/max ms": "/".join(late[1:4]),
        "interval err p50/p99/max ms": "/".join(late[4:7]),
        "skipped": late[7],
        "connect->data ms": exchange_ms,
        "PLC loss->DHT callback ms": loss,
        "RSS MB": f"{rss:.1f}",
        "CPU %": f"{cpu:.1f}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--cycle-ms", type=int, action="append", choices=(8, 32))
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--loop-priority", type=int, default=None,
        help="also run the device's event loop under SCHED_FIFO at this priority",
    )  # fmt: skip
    args = parser.parse_args()
    if not netns.available():
        print("bench_profinet_cyclic: skipped (needs root and ip for network namespaces)")
        return 0
    for cycle_ms in args.cycle_ms or [8, 32]:
        for load in (0, args.load):
            with tempfile.TemporaryDirectory(prefix="ccy-bench-pn-") as tmp:
                result = one_run(cycle_ms, args.cycles, load, Path(tmp), args.loop_priority)
            label = f"{cycle_ms} ms, {'no load' if not load else f'{load} busy processes'}"
            print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in result.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
