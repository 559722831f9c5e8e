# SPDX-License-Identifier: Apache-2.0
"""The RFID reader on a serial port: bytes in → card UIDs out, answers back, reopen on failure.

The protocol is :mod:`.rfid_protocol` (pure); this class only moves bytes. Reads are event
driven (the loop's reader callback on the port's descriptor). When the port cannot be opened
or fails (an unplugged USB reader, the simulator gone), ``on_lost(reason)`` is called once
and the port is tried again every REOPEN_INTERVAL_S; ``on_back()`` follows a successful
reopen. A card held on the reader is one presentation: the same UID again within
``debounce_s`` is dropped.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import serial

from ccy.auth.providers.rfid_protocol import Card, Garbage, Hello, LineParser, ReaderError, answer

REOPEN_INTERVAL_S = 1.0
READ_CHUNK_BYTES = 1024


class RfidReader:
    def __init__(
        self,
        port: Path,
        baud_Bd: int,
        debounce_s: float,
        on_card: Callable[[str], None],
        log: logging.Logger,
        on_lost: Callable[[str], None] = lambda _r: None,
        on_back: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.baud_Bd = baud_Bd
        self.debounce_s = debounce_s
        self.on_card = on_card
        self.on_lost = on_lost
        self.on_back = on_back
        self.log = log
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._parser = LineParser()
        self._serial: serial.Serial | None = None
        self._last: tuple[str, float] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = False

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    async def run(self) -> None:
        """Open, and reopen after every failure, until cancelled."""
        try:
            while True:
                if self._serial is None and not self._open():
                    await asyncio.sleep(REOPEN_INTERVAL_S)
                    continue
                await asyncio.sleep(REOPEN_INTERVAL_S)
        finally:
            self._close()

    def _open(self) -> bool:
        try:
            port = serial.Serial(str(self.port), self.baud_Bd, timeout=0, write_timeout=0)
        except (OSError, serial.SerialException) as exc:
            self._fail(f"cannot open {self.port}: {getattr(exc, 'strerror', None) or exc}")
            return False
        self._serial = port
        self._parser = LineParser()
        asyncio.get_running_loop().add_reader(port.fileno(), self._readable)
        if self._lost:
            self._lost = False
            self.log.info("RFID reader at %s is back", self.port)
            self.on_back()
        else:
            self.log.info("RFID reader at %s opened", self.port)
        return True

    def _fail(self, reason: str) -> None:
        self._close()
        if not self._lost:
            self._lost = True
            self.log.warning("RFID reader: %s (retrying every %g s)", reason, REOPEN_INTERVAL_S)
            self.on_lost(reason)

    def _close(self) -> None:
        port, self._serial = self._serial, None
        if port is None:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(port.fileno())
        with contextlib.suppress(Exception):
            port.close()

    def _readable(self) -> None:
        port = self._serial
        if port is None:
            return
        try:
            data = port.read(READ_CHUNK_BYTES)
        except (OSError, serial.SerialException) as exc:
            self._fail(f"{self.port} failed: {getattr(exc, 'strerror', None) or exc}")
            return
        if not data:  # readable but nothing: hang-up
            self._fail(f"{self.port} hung up")
            return
        for event in self._parser.feed(data):
            if isinstance(event, Card):
                self._card(event.uid)
            elif isinstance(event, Garbage):
                self.stats["garbage_lines"] += 1
                self.log.warning("RFID reader: line dropped: %s", event.reason)
            elif isinstance(event, ReaderError):
                self.stats["reader_errors"] += 1
                self.log.warning("RFID reader reports: %s", event.text[:64])
            elif isinstance(event, Hello):
                self.log.info("RFID reader: %s", event.text[:64])

    def _card(self, uid: str) -> None:
        now = self.clock()
        if (
            self._last is not None
            and self._last[0] == uid
            and now - self._last[1] < self.debounce_s
        ):
            self.stats["debounced"] += 1
            self._last = (uid, now)
            return
        self._last = (uid, now)
        self.stats["cards"] += 1
        self.on_card(uid)

    def tell(self, status: str) -> None:
        """Send the answer line for the last card (never raises)."""
        port = self._serial
        if port is None:
            return
        try:
            port.write(answer(status))
        except (OSError, serial.SerialException) as exc:
            self.stats["write_errors"] += 1
            self.log.debug("RFID reader write: %s", exc)
