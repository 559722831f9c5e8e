# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp on the real bus: start to READY, RSS, and E-stop latency.

- Start to READY: from spawning ``ccy-bsp`` to its READY=1 on a notify socket, as systemd
  measures it (includes the interpreter start, the 5 ms reset pulse, the MCU's 300 ms
  start-up wait, the FwVersion/GitHash inquiries and the first ChargeState2).
- RSS: VmRSS of the ccy-bsp process after READY and after the latency run.
- E-stop latency: from the simulator writing the ChargeState2 frame that carries a new E-stop
  reason to a bus client receiving the EmergencyStop PropertiesChanged signal. The simulator
  runs in this process (its own thread and loop), so both ends read the same monotonic clock.
  Its frame period is 10 ms here instead of 100 ms only to collect events faster; the latency
  does not depend on it.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_bsp_bus.py [EVENTS]``.
"""

import asyncio
import getpass
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dbus_fast.aio import MessageBus

from ccy.bsp.client import BspClient
from ccy.bsp.protocol.messages import ChargeState2, Message
from ccy.runtime.paths import dbus_dir
from ccy.sim.bus_daemon import PrivateBus, user_policy
from ccy.sim.mcu.commands import CommandHandler
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.server import McuSimulator
from ccy.sim.stack import Stack

EXE = str(Path(sys.executable).parent / "ccy-bsp")


class TimedSimulator(McuSimulator):
    """Records when each ChargeState2 with a new E-stop reason left for the pty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.written: dict[str, list[int]] = {}
        self._last = ""

    def _send(self, message: Message) -> None:
        super()._send(message)
        if isinstance(message, ChargeState2) and message.estop.value != self._last:
            self._last = message.estop.value
            self.written.setdefault(self._last, []).append(time.monotonic_ns())


class SimThread(threading.Thread):
    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        log = logging.getLogger("bench.sim")
        self.model = McuModel()
        self.sim = TimedSimulator(self.model, log, period_s=0.01)
        self.handler = CommandHandler(self.sim)

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        lay = self.stack.layout
        self.sim.open()
        self.sim.link(lay.tty_link)

        def on_level(released: bool) -> None:
            if released:
                self.model.release_reset(self.sim.clock())
            else:
                self.model.hold_reset()

        self.fifo = ResetFifo(lay.reset_fifo, on_level, logging.getLogger("bench.fifo"))
        self.fifo.open()
        await self.sim.start()

    def command(self, **cmd: Any) -> None:
        self.loop.call_soon_threadsafe(self.handler.handle, cmd)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def start_unit(stack: Stack, address: str) -> tuple[subprocess.Popen[bytes], float]:
    notify = stack.layout.sim_run / "notify-bench.sock"
    notify.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(20)
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address, "NOTIFY_SOCKET": str(notify)}
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [EXE, "--root", str(stack.layout.dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while b"READY=1" not in sock.recv(4096).split(b"\n"):
            pass
        return proc, time.monotonic() - t0


async def latency_run(address: str, sim: SimThread, events: int) -> list[float]:
    bus = await MessageBus(bus_address=address).connect()
    client = BspClient(bus)
    received: dict[str, list[int]] = {}
    got = asyncio.Event()

    def on_changed(changed: dict[str, Any]) -> None:
        if "EmergencyStop" in changed:
            received.setdefault(changed["EmergencyStop"], []).append(time.monotonic_ns())
            got.set()

    client.on_changed(on_changed)
    await asyncio.sleep(0.2)
    reasons = ["EmergencyInput", "NoStop"]
    for i in range(events):
        got.clear()
        sim.command(cmd="estop", reason=reasons[i % 2])
        await asyncio.wait_for(got.wait(), 5)
    bus.disconnect()
    latencies = []
    for reason in reasons:
        sent = sim.sim.written.get(reason, [])[-len(received.get(reason, [])) :]
        latencies += [(r - s) / 1e6 for s, r in zip(sent, received.get(reason, []), strict=True)]
    return latencies


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    directory = Path(tempfile.mkdtemp(prefix="ccy-bench-"))
    stack = Stack(directory, units=())
    stack.prepare()
    bus = PrivateBus(stack.layout.bus_dir, [dbus_dir() / "policy"], user_policy(getpass.getuser()))
    address = bus.start()
    sim = SimThread(stack)
    sim.start()
    sim.ready.wait(10)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        starts, rss = [], []
        for _ in range(5):
            proc, took = start_unit(stack, address)
            procs.append(proc)
            starts.append(took)
            rss.append(rss_kib(proc.pid))
            proc.terminate()
            proc.wait(10)
        proc, _ = start_unit(stack, address)
        procs.append(proc)
        latencies = asyncio.run(latency_run(address, sim, events))
        rss_after = rss_kib(proc.pid)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)
    q = statistics.quantiles(latencies, n=100)
    print(f"{'measure':<42} {'value':>12}")
    print(f"{'start to READY, median of 5 (s)':<42} {statistics.median(starts):>12.3f}")
    print(f"{'  of which MCU start-up wait (s)':<42} {0.300:>12.3f}")
    print(f"{'RSS after READY, median (MiB)':<42} {statistics.median(rss) / 1024:>12.1f}")
    print(f"{'RSS after latency run (MiB)':<42} {rss_after / 1024:>12.1f}")
    print(f"{'E-stop latency events':<42} {len(latencies):>12d}")
    print(f"{'E-stop latency p50 (ms)':<42} {statistics.median(latencies):>12.2f}")
    print(f"{'E-stop latency p99 (ms)':<42} {q[98]:>12.2f}")
    print(f"{'E-stop latency max (ms)':<42} {max(latencies):>12.2f}")


if __name__ == "__main__":
    main()
