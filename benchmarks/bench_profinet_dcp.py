# SPDX-License-Identifier: Apache-2.0
"""DCP Identify response time: frame in → response out, p50/p99/max.

- core: ``DcpResponder.handle`` on an Identify-All frame (no I/O), 20,000 times, and on an
  Identify with three filters in reverse order;
- wire (root only; network namespaces and a veth pair from ccy.testing.netns): the PLC side
  sends an Identify (ResponseDelayFactor 1, so no deliberate delay) on a raw socket and
  waits for the response; the device side is the real asyncio driver on a RawSocket. The
  time includes both kernels' packet paths and the event loop wake-up. 2,000 round trips.

    python benchmarks/bench_profinet_dcp.py
"""

import asyncio
import ctypes
import logging
import os
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ccy.profinet.dcp.codec import IpParameter
from ccy.profinet.dcp.driver import DcpDriver
from ccy.profinet.dcp.responder import DcpResponder, DcpState
from ccy.profinet.dcp.store import DcpStore
from ccy.profinet.ethernet import (
    DCP_IDENTIFY_MULTICAST,
    ETH_P_PROFINET,
    RawSocket,
    build_frame,
    parse_frame,
)
from ccy.testing import netns

T = TypeVar("T")
CORE_RUNS = 20_000
WIRE_RUNS = 2_000
INDEX = 149
MAC = bytes.fromhex("020000001234")
PLC = bytes.fromhex("0200000000aa")


def identify(src: bytes, xid: int, filters: bytes) -> bytes:
    pdu = struct.pack("!HBBIHH", 0xFEFE, 5, 0, xid, 1, len(filters)) + filters
    return build_frame(DCP_IDENTIFY_MULTICAST, src, ETH_P_PROFINET, pdu)


ALL = b"\xff\xff\x00\x00"
THREE = (b"\x02\x04\x00\x02\x01\x00" + b"\x02\x01\x00\x03CCY\x00"
         + b"\x02\x02\x00\x0bccy-charger\x00")  # fmt: skip


def state() -> DcpState:
    return DcpState("ccy-charger", IpParameter.from_strings("192.0.2.2", "255.255.255.0"))


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    p = statistics.quantiles(ms, n=100)
    return f"p50 {p[49]:.3f} ms  p99 {p[98]:.3f} ms  max {ms[-1]:.3f} ms  (n={len(ms)})"


def bench_core(filters: bytes) -> str:
    r = DcpResponder(MAC, state())
    frame = parse_frame(identify(PLC, 1, filters))
    samples = []
    for _ in range(CORE_RUNS):
        t0 = time.perf_counter()
        effects = r.handle(frame, 0.0)
        samples.append(time.perf_counter() - t0)
    assert len(effects) == 1
    return percentiles(samples)


def in_netns(namespace: str, fn: Callable[[], T]) -> T:
    box: list[T] = []

    def run() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        box.append(fn())

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return box[0]


def bench_wire() -> str:
    with netns.charger_network(INDEX) as net:
        dev = in_netns(
            net.device.namespace,
            lambda: RawSocket(
                net.device.interface, ETH_P_PROFINET, multicast=(DCP_IDENTIFY_MULTICAST,)
            ),
        )
        plc = in_netns(net.plc.namespace, lambda: RawSocket(net.plc.interface, ETH_P_PROFINET))
        plc.settimeout(1.0)
        samples: list[float] = []

        def controller() -> None:
            for xid in range(1, WIRE_RUNS + 1):
                request = identify(plc.mac, xid, ALL)
                t0 = time.perf_counter()
                plc.send(request)
                while True:
                    f = plc.recv()
                    if f is None:
                        raise RuntimeError(f"no Identify response for Xid {xid}")
                    if (
                        f.payload[:2] == b"\xfe\xff"
                        and struct.unpack_from("!I", f.payload, 4)[0] == xid
                    ):
                        samples.append(time.perf_counter() - t0)
                        break

        async def device() -> None:
            with tempfile.TemporaryDirectory() as tmp:
                log = logging.getLogger("bench")
                driver = DcpDriver(dev, DcpResponder(dev.mac, state()), DcpStore(Path(tmp)),
                                   None, log)  # fmt: skip
                driver.start()
                t = threading.Thread(target=controller)
                t.start()
                await asyncio.get_running_loop().run_in_executor(None, t.join)
                driver.stop()

        asyncio.run(device())
        dev.close()
        plc.close()
        return percentiles(samples)


def main() -> int:
    print(f"DCP Identify, core, Identify All:           {bench_core(ALL)}")
    print(f"DCP Identify, core, three filters reversed: {bench_core(THREE)}")
    if netns.available():
        print(f"DCP Identify, wire (veth, asyncio driver):  {bench_wire()}")
    else:
        print("DCP Identify, wire: skipped (needs root and ip for network namespaces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
