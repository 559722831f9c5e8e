# SPDX-License-Identifier: Apache-2.0
"""The simulated safety MCU on a pseudo-terminal pair, speaking the safety-link frames.

The simulator owns both ends of a pty (os.openpty, raw mode): the host (ccy-bsp, pyserial)
opens the slave path, the simulator reads and writes the master. Every 100 ms it sends
ChargeState2 and PT1000State (safety-link.md), answers Inquiry frames at once and sends
ErrorMessage frames when they change. Scenario faults act on the MCU → host direction:
link silence for N seconds, and corrupted frames (garbage bursts, bad CRC, truncated frames).

The simulator keeps its own descriptor of the slave open, so the master never sees a hang-up
while no host is attached; frames the host does not read pile up in the pty, and when its
buffer is full the simulator discards that backlog (tcflush) rather than block.

Frames are cut and packed by the simulator's own codec (wire.py, messages.py), never by
ccy-bsp's, so the bus tests cross-check the two.
"""

import asyncio
import contextlib
import logging
import os
import random
import termios
import time
import tty
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from ccy.sim.mcu.messages import Message, WireError, parse
from ccy.sim.mcu.model import McuModel, ScenarioError
from ccy.sim.mcu.wire import FRAME_LEN, FrameReader

PERIOD_S = 0.1  # ChargeState2 / PT1000State period (safety-link.md)
READ_SIZE = 4096
MAX_CORRUPT_COUNT = 1000
MAX_SILENCE_S = 3600.0


class CorruptKind(StrEnum):
    """Faults injected into the MCU → host byte stream, each affecting one frame."""

    GARBAGE = "garbage"  # a burst of random bytes (with stray 0xA5/0x03) before the frame
    BAD_CRC = "bad_crc"  # the frame with its CRC byte inverted
    TRUNCATED = "truncated"  # only the first 1..11 bytes of the frame


class McuSimulator:
    """The MCU model behind a pty. ``open`` → ``start`` → … → ``stop``."""

    def __init__(
        self,
        model: McuModel | None = None,
        log: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        period_s: float = PERIOD_S,
    ) -> None:
        self.model = model if model is not None else McuModel()
        self.log = log if log is not None else logging.getLogger("ccy.sim.mcu")
        self.clock = clock
        self.rng = rng if rng is not None else random.Random()
        self.period_s = period_s
        self.stats: Counter[str] = Counter()
        self.slave_path: Path | None = None
        self.silent_until = float("-inf")
        self._corrupt: list[CorruptKind] = []
        self._reader = FrameReader()
        self._master = -1
        self._slave = -1
        self._link: Path | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ life cycle
    def open(self) -> Path:
        """Create the pty pair (raw mode) and return the slave's path (/dev/pts/N)."""
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_path = Path(os.ttyname(slave))
        return self.slave_path

    def link(self, path: Path) -> None:
        """Make ``path`` a symlink to the slave (e.g. ROOT/dev/ttyLP2 → /dev/pts/N)."""
        if self.slave_path is None:
            raise RuntimeError("open() the pty first")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(self.slave_path)
        self._link = path

    async def start(self) -> None:
        if self._master < 0:
            self.open()
        asyncio.get_running_loop().add_reader(self._master, self._on_readable)
        self._task = asyncio.get_running_loop().create_task(self._periodic(), name="mcu-periodic")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._master >= 0:
            asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            os.close(self._slave)
            self._master = self._slave = -1
        if self._link is not None and self._link.is_symlink():
            self._link.unlink()
            self._link = None

    # ------------------------------------------------------------------ scenario faults
    def silence(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (0 ends a silence now)."""
        if not 0 <= seconds <= MAX_SILENCE_S:
            raise ScenarioError(f"silence of {seconds} s is out of range 0..{MAX_SILENCE_S:.0f}")
        self.silent_until = self.clock() + seconds

    def corrupt(self, kind: CorruptKind, count: int = 1) -> None:
        """Corrupt the next ``count`` frames sent in the way ``kind`` says."""
        if not 1 <= count <= MAX_CORRUPT_COUNT:
            raise ScenarioError(f"corrupt count {count} is out of range 1..{MAX_CORRUPT_COUNT}")
        self._corrupt.extend([kind] * count)

    @property
    def pending_corruptions(self) -> int:
        return len(self._corrupt)

    def silent(self) -> bool:
        return self.clock() < self.silent_until

    # ------------------------------------------------------------------ host → MCU
    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO once every slave descriptor is closed
            self.stats["read_errors"] += 1
            self.log.debug("pty read: %s", exc)
            return
        now = self.clock()
        for frame in self._reader.feed(chunk):
            try:
                message = parse(frame)
                ignored_before = self.model.frames_before_ready
                answers = self.model.on_message(message, now)
            except (WireError, ScenarioError) as exc:
                self.stats["bad_host_frames"] += 1
                self.log.warning("host frame COM 0x%02X rejected: %s", frame.com, exc)
                continue
            if self.model.frames_before_ready != ignored_before:
                self.stats["frames_ignored"] += 1
                continue
            self.stats["host_frames"] += 1
            if not self.silent():
                for answer in answers:
                    self._send(answer)
        self.stats.update(self._reader.counts)
        self._reader.counts.clear()

    # ------------------------------------------------------------------ MCU → host
    async def _periodic(self) -> None:
        next_at = self.clock()
        while True:
            self.tick()
            next_at += self.period_s
            await asyncio.sleep(max(0.0, next_at - self.clock()))

    def tick(self) -> None:
        """One 100 ms cycle: send the periodic frames if the MCU is talking and not silenced."""
        now = self.clock()
        if not self.model.talking(now) or self.silent():
            return
        self.model.check_host(now)
        for message in self.model.periodic(now):
            self._send(message)

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (a scenario's hand-made frame), unless silenced."""
        if self.silent():
            raise ScenarioError("the link is silenced")
        self._write(data)
        self.stats["raw_frames_sent"] += 1

    def _send(self, message: Message) -> None:
        data = message.frame().to_bytes()
        if self._corrupt:
            data = self._apply(self._corrupt.pop(0), data)
        self._write(data)
        self.stats["frames_sent"] += 1

    def _apply(self, kind: CorruptKind, data: bytes) -> bytes:
        self.stats[f"corrupted_{kind.value}"] += 1
        if kind is CorruptKind.GARBAGE:
            burst = bytes(
                self.rng.choice((0xA5, 0x03, self.rng.randrange(256)))
                for _ in range(self.rng.randrange(1, 41))
            )
            return burst + data
        if kind is CorruptKind.BAD_CRC:
            return data[:10] + bytes((data[10] ^ 0xFF,)) + data[11:]
        return data[: self.rng.randrange(1, FRAME_LEN)]

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        flushed = False
        while view:
            try:
                view = view[os.write(self._master, view) :]
            except BlockingIOError:
                if flushed:
                    self.stats["bytes_dropped"] += len(view)
                    return
                # Nobody reads the slave: drop the stale backlog, as a UART would overrun.
                termios.tcflush(self._slave, termios.TCIFLUSH)
                self.stats["backlog_flushes"] += 1
                flushed = True
