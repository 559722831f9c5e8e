# SPDX-License-Identifier: Apache-2.0
"""The cyclic provider (its own thread, absolute deadlines) and consumer (length, FrameID and
cycle-counter checks, data-hold watchdog).

Why a thread: profinet.md measured an asyncio timer loop on this class of machine at p99
2.2 ms late at 8 ms, a thread that sleeps to 0.5 ms before the deadline and spins the rest at
p99 0.36 ms; ``benchmarks/bench_profinet_cyclic.py`` measures ours. The thread reads the
latest input C_SDU from a slot (one reference, replaced whole by the asyncio side: no lock,
the reference swap is atomic) and never calls back into asyncio.

Deadlines are ``start + k × period``; the cycle counter is ``k × SCF × RR`` (31.25 µs ticks),
so it tells time even when the thread falls behind. A late thread sends once and jumps to
the next deadline still in the future (no burst of catch-up frames, no drift), counting the
cycles it skipped.
"""

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ccy.profinet.rt.frames import (
    DS_VALID,
    CrLayout,
    CyclicFrame,
    FrameError,
    decode_payload,
    newer,
)

SPIN_S = 0.0005
"""The sender sleeps until this long before a deadline and spins the rest."""
SWITCH_INTERVAL_S = 0.0005
"""How long another Python thread may hold the GIL while the sender waits for it (CPython's
default is 5 ms, more than half a jitter budget); set process wide by use_short_gil_slices."""
REALTIME_PRIORITY = 10
"""SCHED_FIFO priority the sender thread asks for (granted with CAP_SYS_NICE or an RLIMIT_RTPRIO,
e.g. systemd's LimitRTPRIO=; without it the thread runs as a normal one)."""


def use_short_gil_slices() -> None:
    """Let the sender thread get the GIL within SWITCH_INTERVAL_S (process wide)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


def try_realtime(priority: int) -> bool:
    """Ask SCHED_FIFO for the calling thread; False when not permitted."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    return False


@dataclass
class SenderStats:
    frames: int = 0
    skipped: int = 0
    """Deadlines passed without a frame because the thread was late by more than a period."""
    late_max_s: float = 0.0
    errors: int = 0
    lateness_s: list[float] = field(default_factory=list)
    """Filled only when ``record`` is on (the benchmark)."""
    realtime: bool = False
    """The thread got SCHED_FIFO."""


class CyclicSender:
    """Sends ``frame_for(cycle_counter)`` every ``period_s`` from its own thread."""

    def __init__(
        self,
        send: Callable[[bytes], None],
        frame_for: Callable[[int], bytes],
        period_s: float,
        counter_step: int,
        *,
        record: bool = False,
        clock: Callable[[], float] = time.monotonic,
        name: str = "pn-cyclic",
        priority: int | None = REALTIME_PRIORITY,
    ) -> None:
        self._priority = priority
        self._send = send
        self._frame_for = frame_for
        self.period_s = period_s
        self.counter_step = counter_step
        self.stats = SenderStats()
        self._record = record
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=1.0)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        if self._priority is not None:
            self.stats.realtime = try_realtime(self._priority)
        clock = self._clock
        start = clock()
        k = 0
        stats = self.stats
        while not self._stop.is_set():
            deadline = start + k * self.period_s
            now = clock()
            if deadline - now > SPIN_S and self._stop.wait(deadline - now - SPIN_S):
                return
            while clock() < deadline:
                pass
            sent_at = clock()
            late = sent_at - deadline
            try:
                self._send(self._frame_for(k * self.counter_step))
                stats.frames += 1
            except OSError:
                stats.errors += 1
            if late > stats.late_max_s:
                stats.late_max_s = late
            if self._record:
                stats.lateness_s.append(late)
            k += 1
            behind = int((clock() - start) / self.period_s) - k
            if behind >= 0:  # the next deadline has passed already: skip to the next future one
                stats.skipped += behind + 1
                k += behind + 1


@dataclass
class ConsumerStats:
    frames: int = 0
    accepted: int = 0
    dropped_length: int = 0
    dropped_frame_id: int = 0
    dropped_stale: int = 0
    invalid: int = 0
    """Frames whose DataStatus says the data are not valid (they do not feed the watchdog)."""


class CyclicConsumer:
    """Checks each received frame of one IOCR and keeps the data-hold watchdog: no accepted
    frame with DataStatus "valid" for ``hold_s`` (DataHoldFactor × cycle) means expired."""

    def __init__(self, lay: CrLayout, hold_s: float, now: float) -> None:
        self.lay = lay
        self.hold_s = hold_s
        self.stats = ConsumerStats()
        self.last_cycle: int | None = None
        self.last_valid_s = now
        """The watchdog starts at the Connect: the PLC must start sending within hold_s."""

    def frame(self, payload: bytes, now: float) -> CyclicFrame | None:
        """A frame's payload (after the Ethertype) → the frame when accepted, else None."""
        self.stats.frames += 1
        try:
            frame = decode_payload(payload, self.lay)
        except FrameError as exc:
            if str(exc).startswith("FrameID"):
                self.stats.dropped_frame_id += 1
            else:
                self.stats.dropped_length += 1
            return None
        if not newer(frame.cycle, self.last_cycle):
            self.stats.dropped_stale += 1
            return None
        self.last_cycle = frame.cycle
        self.stats.accepted += 1
        if frame.data_status & DS_VALID:
            self.last_valid_s = now
        else:
            self.stats.invalid += 1
        return frame

    def deadline(self) -> float:
        return self.last_valid_s + self.hold_s

    def expired(self, now: float) -> bool:
        return now >= self.deadline()
