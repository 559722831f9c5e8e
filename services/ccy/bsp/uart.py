# SPDX-License-Identifier: Apache-2.0
"""The safety-MCU UART: frames in, frames out, and reopening the device. Nothing else.

What the frames mean (dispatch, link liveness, inquiries and their timeouts) is the core's
(:mod:`ccy.bsp.core`); this class only moves bytes (safety-link.md, "Link": 115200 Bd 8N1).

- Reads are event driven (the loop's reader callback on the tty's file descriptor), so a
  frame reaches ``on_frame`` as soon as its last byte arrives. Bytes go through
  :class:`FrameParser`, which resynchronises after garbage, bad CRCs and missing EOFs; its
  faults are counted in :attr:`stats` and logged at most once per FAULT_LOG_INTERVAL_S.
- When the device itself fails (a read error or hang-up: an unplugged USB UART, a driver
  reset, the simulator gone) the port is closed once, ``on_lost(reason)`` is called, and a
  background task opens it again every REOPEN_INTERVAL_S until it succeeds.
- ``write`` never raises: a closed port or a failed write is counted and logged; the MCU's
  own host timeout (safety-link.md) covers frames that do not arrive.
"""

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import serial

from ccy.bsp.protocol.frame import Frame, FrameParser, encode_frame
from ccy.runtime.service import UnitStartError

FAULT_LOG_INTERVAL_S = 10.0
"""Frame faults are logged at most once per this many seconds per kind (with a count)."""
REOPEN_INTERVAL_S = 1.0
"""After the device fails, try to open it again this often."""
READ_CHUNK_BYTES = 4096

Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


class UartOpenError(UnitStartError):
    """The UART device could not be opened."""


def _create_task(coro: Coroutine[Any, Any, None], name: str) -> "asyncio.Task[None]":
    return asyncio.get_running_loop().create_task(coro, name=name)


class Uart:
    def __init__(
        self,
        port: Path,
        baud_Bd: int,
        on_frame: Callable[[Frame], None],
        log: logging.Logger,
        on_lost: Callable[[str], None] = lambda _reason: None,
        on_reopened: Callable[[], None] = lambda: None,
        spawn: Spawn = _create_task,
        reopen_interval_s: float = REOPEN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.baud_Bd = baud_Bd
        self.on_frame = on_frame
        self.on_lost = on_lost
        self.on_reopened = on_reopened
        self.log = log
        self.stats: Counter[str] = Counter()
        self._spawn = spawn
        self._reopen_interval_s = reopen_interval_s
        self._clock = clock
        self._parser = FrameParser()
        self._serial: serial.Serial | None = None
        self._fd = -1
        self._reopen: asyncio.Task[None] | None = None
        self._fault_logged: dict[str, float] = {}

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    # ------------------------------------------------------------------ life cycle
    def open(self) -> None:
        """Open the device and start reading; UartOpenError names the device and the cause."""
        try:
            port = serial.Serial(str(self.port), self.baud_Bd, timeout=0)
        except (serial.SerialException, OSError) as exc:
            reason = os.strerror(exc.errno) if isinstance(exc.errno, int) else str(exc)
            raise UartOpenError(f"cannot open UART {self.port}: {reason}") from exc
        self._serial = port
        self._fd = port.fileno()
        os.set_blocking(self._fd, False)
        self._parser = FrameParser()
        asyncio.get_running_loop().add_reader(self._fd, self._on_readable)

    async def close(self) -> None:
        """Stop reading and reopening, close the device."""
        if self._reopen is not None:
            self._reopen.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reopen
            self._reopen = None
        self._close_port()

    # ------------------------------------------------------------------ frames out
    def write(self, frame: Frame) -> bool:
        """Send one frame; False when the port is closed or the write failed."""
        if self._serial is None:
            self.stats["writes_while_closed"] += 1
            return False
        data = encode_frame(frame)
        try:
            written = os.write(self._fd, data)
        except OSError as exc:
            self.stats["write_errors"] += 1
            self._log_fault("write-error", f"UART write failed: {exc.strerror or exc}")
            return False
        if written != len(data):
            self.stats["write_errors"] += 1
            self._log_fault("short-write", f"UART wrote {written} of {len(data)} bytes")
            return False
        self.stats["frames_sent"] += 1
        return True

    # ------------------------------------------------------------------ frames in
    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._fd, READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lose_device(f"UART read failed: {exc.strerror or exc}")
            return
        if not chunk:
            self._lose_device("UART hung up")
            return
        frames = self._parser.feed(chunk)
        self._collect_parser_faults()
        for frame in frames:
            self.stats["frames_received"] += 1
            self.on_frame(frame)

    def _collect_parser_faults(self) -> None:
        for fault, count in self._parser.take_faults().items():
            self.stats[fault.value] += count
            self._log_fault(fault.value, f"UART {fault.value.replace('_', ' ')}: {count}")

    def _log_fault(self, kind: str, text: str) -> None:
        now = self._clock()
        last = self._fault_logged.get(kind)
        if last is None or now - last >= FAULT_LOG_INTERVAL_S:
            self._fault_logged[kind] = now
            self.log.warning("%s", text)

    # ------------------------------------------------------------------ device loss
    def _lose_device(self, why: str) -> None:
        """Close once (a dead fd stays readable: never spin on it) and reopen in the back."""
        self.stats["device_errors"] += 1
        self.log.error(
            "%s; closing %s and retrying every %.0f s", why, self.port, self._reopen_interval_s
        )
        self._close_port()
        self.on_lost(why)
        if self._reopen is None or self._reopen.done():
            self._reopen = self._spawn(self._reopen_loop(), "uart-reopen")

    async def _reopen_loop(self) -> None:
        while self._serial is None:
            await asyncio.sleep(self._reopen_interval_s)
            try:
                self.open()
            except UartOpenError:
                continue
            self.stats["reopens"] += 1
            self.log.info("UART %s reopened", self.port)
            self.on_reopened()

    def _close_port(self) -> None:
        if self._serial is None:
            return
        with contextlib.suppress(ValueError, RuntimeError):
            asyncio.get_running_loop().remove_reader(self._fd)
        with contextlib.suppress(OSError, serial.SerialException):
            self._serial.close()
        self._serial = None
        self._fd = -1
