# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp on the real bus: start to READY, RSS, and E-stop → PowerOnAllowed false latency.

- Start to READY: from spawning ``ccy-bsp`` to its READY=1 on a notify socket, as systemd
  measures it (interpreter start, 5 ms reset pulse, the MCU's 300 ms start-up wait, the
  FwVersion/GitHash inquiries, the first ChargeState2).
- RSS: VmRSS of the ccy-bsp process after READY and after the latency run.
- E-stop latency (issue 9; target p99 ≤ 20 ms): power allowed in CE C, then the simulator
  writes the ChargeState2 frame that carries E-stop reason EmergencyInput; measured until a
  bus client receives the PropertiesChanged with PowerOnAllowed false. The simulator runs in
  this process (its own thread and loop), so both ends read the same monotonic clock. Each
  cycle then clears the E-stop and unplugs (ccy-bsp resets the MCU to leave safe state),
  plugs again and allows power again; a cycle takes about half a second.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_bsp_bus.py [ESTOPS]`` (≥ 200).
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbus_fast.aio import MessageBus

from ccy.bsp.client import BspClient
from ccy.runtime.paths import dbus_dir
from ccy.sim.layout import Layout
from ccy.sim.mcu.commands import CommandHandler
from ccy.sim.mcu.messages import ChargeState2, EstopReason, Message
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.run import reset_line_handler
from ccy.sim.mcu.server import McuSimulator
from ccy.testing.bus_daemon import PrivateBus, user_policy

EXE = str(Path(sys.executable).parent / "ccy-bsp")
WAIT_S = 10.0


def sandbox_policy(user: str) -> str:
    """The simulator's sandbox policy plus the signals a bus client of ccy-bsp receives."""
    return user_policy(user) + (
        f'  <policy user="{user}">\n    <allow receive_type="signal"/>\n  </policy>\n'
    )


class TimedSimulator(McuSimulator):
    """Records when each ChargeState2 that first carries an E-stop reason left for the pty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.estop_written: list[int] = []
        self._last = EstopReason.NO_STOP

    def _send(self, message: Message) -> None:
        super()._send(message)
        if isinstance(message, ChargeState2) and message.estop is not self._last:
            self._last = message.estop
            if message.estop is not EstopReason.NO_STOP:
                self.estop_written.append(time.monotonic_ns())


class SimThread(threading.Thread):
    def __init__(self, layout: Layout) -> None:
        super().__init__(daemon=True)
        self.layout = layout
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.log = logging.getLogger("bench.sim")
        self.model = McuModel()
        self.sim = TimedSimulator(self.model, self.log)
        self.handler = CommandHandler(self.sim)

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.sim.open()
        self.sim.link(self.layout.tty_link)
        on_level = reset_line_handler(self.model, self.sim.clock, self.log)
        self.fifo = ResetFifo(self.layout.reset_fifo, on_level, self.log)
        self.fifo.open()
        await self.sim.start()

    def command(self, **cmd: Any) -> None:
        self.loop.call_soon_threadsafe(self.handler.handle, cmd)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def start_unit(layout: Layout, address: str) -> tuple[subprocess.Popen[bytes], float]:
    notify = layout.sim_run / "notify-bench.sock"
    notify.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(20)
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address, "NOTIFY_SOCKET": str(notify)}
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [EXE, "--root", str(layout.dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while b"READY=1" not in sock.recv(4096).split(b"\n"):
            pass
        return proc, time.monotonic() - t0


async def until(probe: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark stuck waiting for {what}")
        await asyncio.sleep(0.01)


async def latency_run(address: str, sim: SimThread, estops: int) -> list[float]:
    bus = await MessageBus(bus_address=address).connect()
    client = BspClient(bus)
    withdrawn: list[int] = []
    got = asyncio.Event()

    def on_changed(changed: dict[str, Any]) -> None:
        if changed.get("PowerOnAllowed") is False:
            withdrawn.append(time.monotonic_ns())
            got.set()

    client.on_changed(on_changed)
    await asyncio.sleep(0.2)
    await client.enable(True)

    async def prop_is(name: str, value: Any) -> bool:
        return bool(await client.get(name) == value)

    for i in range(estops):
        await until(lambda: prop_is("SafeState", "Normal"), f"safe state left ({i})")
        sim.command(cmd="plug")
        await until(lambda: prop_is("IdState", "Connected"), "ID Connected")
        await client.set_ccs_ready("Ready")
        sim.command(cmd="set_ce", state="C")
        await until(lambda: prop_is("CeState", "C"), "CE C")
        await client.allow_power_on(True)
        got.clear()
        sim.command(cmd="estop", reason="EmergencyInput")
        await asyncio.wait_for(got.wait(), WAIT_S)
        sim.command(cmd="estop", reason="NoStop")
        sim.command(cmd="unplug")  # CE A: ccy-bsp resets the MCU to leave safe state
        await until(lambda: prop_is("CeState", "A"), "CE A")
    bus.disconnect()
    sent = sim.sim.estop_written[-len(withdrawn) :]
    return [(r - s) / 1e6 for s, r in zip(sent, withdrawn, strict=True)]


def main() -> None:
    estops = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    layout = Layout(Path(tempfile.mkdtemp(prefix="ccy-bench-")))
    layout.prepare()
    bus = PrivateBus(layout.bus_dir, [dbus_dir() / "policy"], sandbox_policy(getpass.getuser()))
    address = bus.start()
    sim = SimThread(layout)
    sim.start()
    sim.ready.wait(10)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        starts, rss = [], []
        for _ in range(5):
            proc, took = start_unit(layout, address)
            procs.append(proc)
            starts.append(took)
            rss.append(rss_kib(proc.pid))
            proc.terminate()
            proc.wait(10)
        proc, _ = start_unit(layout, address)
        procs.append(proc)
        latencies = asyncio.run(latency_run(address, sim, estops))
        rss_after = rss_kib(proc.pid)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        bus.stop()
        shutil.rmtree(layout.dir, ignore_errors=True)
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"{'measure':<48} {'value':>10}")
    print(f"{'start to READY, median of 5 (s)':<48} {statistics.median(starts):>10.3f}")
    print(f"{'  of which MCU start-up wait (s)':<48} {0.300:>10.3f}")
    print(f"{'RSS after READY, median (MiB)':<48} {statistics.median(rss) / 1024:>10.1f}")
    print(f"{'RSS after latency run (MiB)':<48} {rss_after / 1024:>10.1f}")
    print(f"{'E-stop frame → PowerOnAllowed false, events':<48} {len(latencies):>10d}")
    print(f"{'  p50 (ms)':<48} {statistics.median(latencies):>10.2f}")
    print(f"{'  p99 (ms), target ≤ 20':<48} {q[98]:>10.2f}")
    print(f"{'  max (ms)':<48} {max(latencies):>10.2f}")


if __name__ == "__main__":
    main()
