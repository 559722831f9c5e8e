# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g in the simulated charger, driven by a vehicle over loopback: per request type
request out → response in, SessionSetup time, the charge-loop p50/p99 with the hop to the
real ccy-evse, RSS and CPU per charge loop; without and with TLS 1.3.

- The charger is ``ccy.testing.charger.ChargerRig``: the stack of ``ccy-sim up`` (private bus,
  MCU simulator, ccy-bsp, ccy-evse, ccy-auth, ccy-v2g with the simulator profile, so every
  charge-loop pair is journalled and signalled as V2gMessage, which ccy-evse stores in its
  session log) and the simulated power stage. Each session plugs in and sets CE C on the MCU
  simulator first, and unplugs after.
- Times are taken on the vehicle's side around the exchange: from just before the request
  is written to the socket until the response's V2GTP frame has been read (the vehicle's
  encode and decode are outside the window). That is an upper bound of request in →
  response out at the SECC (loopback adds some 10-50 µs).
- At the SECC: when ``dumpcap`` (Wireshark's capture tool) can capture on ``lo`` (root), the
  bench captures the session's port and reports request packet in → response packet out of
  ccy-v2g for the charge loops (TLS records included), which leaves out the vehicle's own
  scheduling on this loaded two-core machine.
- CPU per charge loop: utime+stime (/proc/PID/stat) of ccy-v2g and of ccy-evse over the charge
  loops, per loop; RSS: VmRSS of ccy-v2g after the run. The load average is printed before
  and after (other work on the machine moves the p99 most).
- Josev's SECC side by side: not run here (it needs its own venv and a JVM); its published
  figure on this machine class is quoted by the issue (24 ms median, 75 ms p99, no TLS).

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_v2g.py [LOOPS] [--interval-ms MS]
[--journal-every N]`` (default 2000 loops back to back, every pair journalled).
Target (contracts.md): charge-loop p99 ≤ 5 ms with TLS.
"""

import argparse
import asyncio
import math
import os
import shutil
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ccy.pki.layout import CertsLayout
from ccy.sim.ev import messages as m
from ccy.testing.charger import NAN, ChargerRig, EvseClient, charger_rig, to_charging
from ccy.v2g import sdp, tls, v2gtp
from ccy.v2g.contract import BUS_NAME, IFACE, OBJECT_PATH
from ccy.v2g.exi import Namespace, decode, encode

TOP = Path(__file__).resolve().parents[1]
NS = {"supportedAppProtocolReq": Namespace.SAP}
PRE_CHARGE_TOLERANCE_V = 20.0
ON_PATH = ("dbus-daemon", "ccy-v2g", "ccy-evse")
"""The stack's processes a charge loop passes through."""
V2G: dict[str, Any] = {"dest": BUS_NAME, "path": OBJECT_PATH, "iface": IFACE}


def _ns(name: str) -> Namespace:
    if name in NS:
        return NS[name]
    return Namespace.DC if name.startswith("DC_") else Namespace.CM


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Vehicle:
    """A timed EVCC: the seed's MCS Dynamic session with N charge loops."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.session_id = "0000000000000000"
        self.ev = m.Vehicle()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, doc: dict[str, Any]) -> dict[str, Any]:
        ((name, _),) = doc.items()
        ns = _ns(name)
        frame = v2gtp.encode(v2gtp.payload_type_for(ns), encode(ns, doc))
        assert self.reader is not None and self.writer is not None
        start = time.perf_counter()
        self.writer.write(frame)
        await self.writer.drain()
        got = await v2gtp.read_message(self.reader, max_payload_bytes=65536)
        self.times[name].append(time.perf_counter() - start)
        ((_, body),) = decode(ns, got.payload).items()
        code = str(body.get("ResponseCode", ""))
        if not code.startswith("OK"):
            raise RuntimeError(f"{name}: {code}")
        return dict(body)

    async def until_finished(self, build: Callable[[], dict[str, Any]]) -> None:
        """Repeat a request every 50 ms while ccy-evse answers EVSEProcessing Ongoing."""
        for _ in range(600):
            if (await self.exchange(build()))["EVSEProcessing"] == "Finished":
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("still Ongoing after 600 requests")

    def h(self) -> dict[str, Any]:
        return m.header(self.session_id, int(time.time()))

    loop_window: tuple[float, float] = (0.0, 0.0)
    """Wall-clock start and end of the charge loops (to pick them out of a capture)."""

    async def session(
        self,
        port: int,
        context: ssl.SSLContext | None,
        loops: int,
        pids: dict[str, int],
        interval_s: float = 0.0,
    ) -> dict[str, float]:
        for _ in range(50):  # the previous session's connection may still be closing
            connect_at = time.perf_counter()
            try:
                self.reader, self.writer = await asyncio.open_connection("::1", port, ssl=context)
                break
            except (ConnectionError, ssl.SSLError):
                await asyncio.sleep(0.05)
        else:
            raise ConnectionError(f"cannot connect to [::1]:{port}")
        self.session_id = "0000000000000000"
        await self.exchange(m.supported_app_protocol_req())
        res = await self.exchange(m.session_setup_req(self.h(), self.ev))
        setup_s = time.perf_counter() - connect_at
        self.session_id = res["Header"]["SessionID"]
        await self.exchange(m.authorization_setup_req(self.h()))
        await self.until_finished(lambda: m.authorization_req(self.h()))
        await self.exchange(m.service_discovery_req(self.h()))
        await self.exchange(m.service_detail_req(self.h(), 8))
        await self.exchange(m.service_selection_req(self.h(), 8, 1))
        await self.exchange(m.dc_charge_parameter_discovery_req(self.h(), self.ev))
        await self.exchange(m.schedule_exchange_req(self.h(), self.ev, m.ControlMode.DYNAMIC, 20))
        await self.until_finished(lambda: m.dc_cable_check_req(self.h()))
        present = 0.0
        deadline = time.monotonic() + 20
        while abs(present - self.ev.battery_voltage_V) > PRE_CHARGE_TOLERANCE_V:
            if time.monotonic() > deadline:
                raise RuntimeError(f"precharge reached {present:.0f} V only")
            res = await self.exchange(m.dc_pre_charge_req(self.h(), self.ev, present, False))
            present = m.value_of(res["EVSEPresentVoltage"])
            await asyncio.sleep(0.05)
        await self.exchange(m.dc_pre_charge_req(self.h(), self.ev, present, True))
        await self.exchange(m.power_delivery_req(self.h(), True, m.ControlMode.DYNAMIC))
        cpu_before = {name: _cpu_ticks(pid) for name, pid in pids.items()}
        window_start = time.time()
        for i in range(loops):
            req = m.dc_charge_loop_req(
                self.h(), self.ev, m.ControlMode.DYNAMIC, present, 20 + i % 60, False
            )
            await self.exchange(req)
            if interval_s:
                await asyncio.sleep(interval_s)
        self.loop_window = (window_start, time.time())
        tick = os.sysconf("SC_CLK_TCK")
        cpu = {n: (_cpu_ticks(pid) - cpu_before[n]) / tick / loops for n, pid in pids.items()}
        await self.exchange(m.power_delivery_req(self.h(), False, m.ControlMode.DYNAMIC))
        await self.exchange(m.dc_welding_detection_req(self.h()))
        await self.exchange(m.session_stop_req(self.h(), False))
        assert self.writer is not None
        self.writer.close()
        return {"setup_s": setup_s, **{f"cpu_{n}": v for n, v in cpu.items()}}


class Capture:
    """dumpcap on ``lo`` for one TCP port, in pcap format (None-like when it cannot run)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.file = Path(tempfile.mkdtemp(prefix="ccy-bench-cap-")) / "v2g.pcap"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Capture":
        tool = shutil.which("dumpcap")
        if tool is None or os.geteuid() != 0:
            return self
        self.proc = subprocess.Popen(
            [tool, "-q", "-P", "-i", "lo", "-f", f"tcp port {self.port}", "-w", str(self.file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the filter is in place once the file has its header
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            time.sleep(0.2)
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=10)

    def secc_times(self, window: tuple[float, float]) -> list[float]:
        """Request in → response out at the SECC, for requests inside ``window``."""
        if self.proc is None or not self.file.exists():
            shutil.rmtree(self.file.parent, ignore_errors=True)
            return []
        times, pending = [], None
        for stamp, src, dst in _tcp_data_packets(self.file.read_bytes()):
            if dst == self.port and pending is None and window[0] <= stamp <= window[1]:
                pending = stamp
            elif src == self.port and pending is not None:
                times.append(stamp - pending)
                pending = None
        shutil.rmtree(self.file.parent, ignore_errors=True)
        return times


def _tcp_data_packets(data: bytes) -> Iterator[tuple[float, int, int]]:
    """(time, source port, destination port) of each TCP segment with payload, from a pcap
    file of Ethernet frames (Linux ``lo``) carrying IPv6 or IPv4."""
    magic = struct.unpack_from("<I", data)[0]
    fraction = 1e-9 if magic == 0xA1B23C4D else 1e-6
    offset = 24
    while offset + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + caplen]
        offset += 16 + caplen
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        if ethertype == 0x86DD:  # IPv6, no extension headers on loopback TCP
            ip_payload, proto, tcp = struct.unpack_from("!H", frame, 18)[0], frame[20], 54
        elif ethertype == 0x0800:
            ihl = (frame[14] & 0x0F) * 4
            ip_payload = struct.unpack_from("!H", frame, 16)[0] - ihl
            proto, tcp = frame[23], 14 + ihl
        else:
            continue
        if proto != 6:
            continue
        src, dst = struct.unpack_from("!HH", frame, tcp)
        if ip_payload - (frame[tcp + 12] >> 4) * 4 > 0:
            yield sec + frac * fraction, src, dst


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _report(title: str, vehicle: Vehicle, extra: dict[str, float], secc: list[float]) -> None:
    print(f"\n== {title} ({_load()})")
    print(f"{'request':34} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in vehicle.times.items():
        print(
            f"{name:34} {len(values):6d} {statistics.median(values) * 1e3:8.3f} "
            f"{_pct(values, 0.99) * 1e3:8.3f} {max(values) * 1e3:8.3f}"
        )
    loop = vehicle.times["DC_ChargeLoopReq"]
    print(f"SessionSetup (TCP/TLS connect → SessionSetupRes): {extra['setup_s'] * 1e3:.2f} ms")
    if secc:
        print(
            f"DC_ChargeLoop at the SECC (capture: request in → response out, {len(secc)}): "
            f"p50 {statistics.median(secc) * 1e3:.3f} ms, p99 {_pct(secc, 0.99) * 1e3:.3f} ms"
        )
    else:
        print("DC_ChargeLoop at the SECC: no capture (needs root and dumpcap)")
    print(
        f"DC_ChargeLoop incl. the hop to ccy-evse: p50 {statistics.median(loop) * 1e3:.3f} ms, "
        f"p99 {_pct(loop, 0.99) * 1e3:.3f} ms (target p99 ≤ 5 ms with TLS); CPU per loop: "
        f"ccy-v2g {extra['cpu_ccy-v2g'] * 1e3:.3f} ms, "
        f"ccy-evse {extra['cpu_ccy-evse'] * 1e3:.3f} ms"
    )


async def _plug(rig: ChargerRig) -> None:
    c = await EvseClient.connect(rig.stack.address())
    try:
        await c.until("WaitingFor", [])
        await c.until("SessionId", "")
        rig.mcu(cmd="plug")
        rig.mcu(cmd="set_ce", state="C")
        await c.until("SessionId", lambda v: v != "")
    finally:
        c.disconnect()


async def _unplug(rig: ChargerRig) -> None:
    rig.mcu(cmd="unplug")
    c = await EvseClient.connect(rig.stack.address())
    try:
        await c.until("SessionId", "")
    finally:
        c.disconnect()


async def _ports(rig: ChargerRig) -> dict[str, int]:
    c = await EvseClient.connect(rig.stack.address())
    try:
        await c.until("TcpPort", lambda v: v > 0, **V2G)
        return {p: int(await c.get(p, **V2G)) for p in ("SdpPort", "TcpPort", "TlsPort")}
    finally:
        c.disconnect()


def _run(
    rig: ChargerRig,
    port: int,
    context: ssl.SSLContext | None,
    loops: int,
    interval_s: float = 0.0,
) -> Any:
    pids = {name: rig.stack.pids()[name] for name in ("ccy-v2g", "ccy-evse")}
    asyncio.run(_plug(rig))
    try:
        vehicle = Vehicle()
        extra = asyncio.run(vehicle.session(port, context, loops, pids, interval_s))
    finally:
        asyncio.run(_unplug(rig))
    return vehicle, extra


async def _hop_alone(rig: ChargerRig, loops: int, interval_s: float) -> list[float]:
    """Evse1.ChargeLoop from a plain bus client, as ccy-v2g calls it: the floor under the
    vehicle's charge-loop time (dbus-daemon and ccy-evse, no V2G)."""
    c = await EvseClient.connect(rig.stack.address())
    times = []
    try:
        await to_charging(rig, c)
        for _ in range(loops):
            start = time.perf_counter()
            await c.ok("ChargeLoop", "ddddddd", 850.0, 100.0, NAN, NAN, NAN, 800.0, 50.0)
            times.append(time.perf_counter() - start)
            if interval_s:
                await asyncio.sleep(interval_s)
    finally:
        c.disconnect()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_v2g.py")
    parser.add_argument("loops", nargs="?", type=int, default=2000)
    parser.add_argument(
        "--interval-ms",
        type=float,
        default=0.0,
        help="pause of the vehicle between charge loops (0: back to back, the stress case)",
    )
    parser.add_argument(
        "--journal-every",
        type=int,
        default=0,
        help="journal_charge_loop_every of ccy-v2g (0: the simulator profile's, every loop)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the charge-loop path (this vehicle, the stack's bus, ccy-v2g, ccy-evse) at "
        "this nice value, as a unit file's Nice= would (root for values below 0)",
    )
    parser.add_argument(
        "--fifo",
        type=int,
        default=0,
        help="run the same processes SCHED_FIFO at this priority, as a unit file's "
        "CPUSchedulingPolicy=fifo / CPUSchedulingPriority= would (root)",
    )
    args = parser.parse_args(argv)
    loops, interval_s = args.loops, args.interval_ms / 1000
    pace = f"{args.interval_ms:g} ms apart" if interval_s else "back to back"
    print(f"bench_v2g: {loops} charge loops per run, {pace}; {_load()}")
    with charger_rig("ccy-bench-v2g-") as rig:
        if args.journal_every:
            sim = yaml.safe_load((TOP / "config/profiles/sim.yaml").read_text())
            section = {**sim["v2g"], "journal_charge_loop_every": args.journal_every}
            rig.reconfigure("ccy-v2g", {"v2g": section})
            print(f"ccy-v2g: journal_charge_loop_every {args.journal_every}")
        ports = asyncio.run(_ports(rig))
        pid = rig.stack.pids()["ccy-v2g"]
        path = {n: p for n, p in rig.stack.pids().items() if n in ON_PATH}
        for target in (0, *path.values()):
            if args.nice:
                os.setpriority(os.PRIO_PROCESS, target, args.nice)
            if args.fifo:
                os.sched_setscheduler(target, os.SCHED_FIFO, os.sched_param(args.fifo))
        if args.nice or args.fifo:
            how = f"nice {args.nice}" if args.nice else f"SCHED_FIFO {args.fifo}"
            print(f"{how}: this vehicle and {', '.join(sorted(path))}")
        print(f"ccy-v2g RSS {_rss_kib(pid)} KiB; ports {ports}")
        found = _discover(ports["SdpPort"])
        layout = CertsLayout(rig.stack.layout.dir / "etc/ccy/certs")
        runs = (
            ("without TLS", found, None),
            ("with TLS 1.3", ports["TlsPort"], tls.client_context(layout.v2g_root)),
        )
        for title, port, context in runs:
            _run(rig, port, context, 20)  # warm-up
            with Capture(port) as capture:
                vehicle, extra = _run(rig, port, context, loops, interval_s)
            _report(title, vehicle, extra, capture.secc_times(vehicle.loop_window))
        print(f"\nccy-v2g RSS after the runs: {_rss_kib(pid)} KiB; {_load()}")
        hop = asyncio.run(_hop_alone(rig, loops, interval_s))
        asyncio.run(_unplug(rig))
        print(
            f"Evse1.ChargeLoop alone (bus client → ccy-evse, no V2G): p50 "
            f"{statistics.median(hop) * 1e3:.3f} ms, p99 {_pct(hop, 0.99) * 1e3:.3f} ms; {_load()}"
        )


def _discover(sdp_port: int) -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(sdp.encode_request(sdp.Security.NONE), ("::1", sdp_port))
        return sdp.decode_response(s.recvfrom(64)[0]).port


if __name__ == "__main__":
    main()
