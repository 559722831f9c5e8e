# SPDX-License-Identifier: Apache-2.0
"""The UART side of ccy-bsp: frames in and out, timers, reset, firmware inquiries.

Timing facts (safety-link.md): ChargeControl2 every 100 ms; the MCU stays in its init state
until it gets the first one; the link is dead after 1.5 s without a frame; the reset line is
pulsed 5 ms and the MCU accepts frames 300 ms after release; FwVersion and GitHash are asked
with Inquiry frames at start. Reads are event driven (the loop's reader callback on the tty's
file descriptor), so an E-stop frame reaches the core as soon as its last byte arrives.
"""

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable

import serial

from ccy.bsp.core import BspCore
from ccy.bsp.protocol.errors import ProtocolError
from ccy.bsp.protocol.frame import Com, Frame, FrameParser, encode_frame
from ccy.bsp.protocol.messages import (
    ChargeState2,
    ErrorMessage,
    FwVersion,
    GitHash,
    Inquiry,
    Message,
    Pt1000State,
    decode,
    encode,
)
from ccy.bsp.reset_line import ResetLine
from ccy.bsp.settings import BspSettings
from ccy.runtime.service import UnitStartError

# Frame faults are logged at most once per this many seconds per kind (with a count).
FAULT_LOG_INTERVAL_S = 10.0
# After the UART device itself fails, try to open it again this often.
REOPEN_INTERVAL_S = 1.0


class LinkOpenError(UnitStartError):
    """The UART could not be opened."""


class SafetyLink:
    def __init__(
        self,
        settings: BspSettings,
        core: BspCore,
        reset_line: ResetLine | None,
        log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.core = core
        self.reset_line = reset_line
        self.log = log
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._parser = FrameParser()
        self._port: serial.Serial | None = None
        self._fd = -1
        self._last_frame = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._answers: dict[int, asyncio.Future[Message]] = {}
        self._fault_logged: dict[str, float] = {}
        self._resetting = asyncio.Lock()
        self._first_state = asyncio.Event()

    # ------------------------------------------------------------------ life cycle
    def open(self) -> None:
        try:
            self._port = serial.Serial(
                str(self.settings.serial_port), self.settings.serial_baud_Bd, timeout=0
            )
        except (serial.SerialException, OSError) as exc:
            reason = os.strerror(exc.errno) if isinstance(exc.errno, int) else str(exc)
            raise LinkOpenError(f"cannot open UART {self.settings.serial_port}: {reason}") from exc
        self._fd = self._port.fileno()
        os.set_blocking(self._fd, False)
        asyncio.get_running_loop().add_reader(self._fd, self._on_readable)

    async def start(self) -> None:
        """Open the UART, reset the MCU, start the periodic frames, ask for its firmware."""
        self.open()
        if self.reset_line is not None:
            await self.reset()
        self._last_frame = self.clock()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._send_loop(), name="charge-control"),
            loop.create_task(self._watchdog_loop(), name="link-watchdog"),
            loop.create_task(self._temperature_loop(), name="temperatures"),
        ]
        await self.inquire_firmware()
        await self.wait_link_up(self.settings.link_timeout_s)

    async def wait_link_up(self, timeout_s: float) -> bool:
        """Wait for the first ChargeState2 (the hardware is up); False after ``timeout_s``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_state.wait(), timeout_s)
        return self.core.state.link_up

    async def stop(self) -> None:
        """Send a last ChargeControl2 (CCSReady as the core has it) and close the UART."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._port is not None:
            with contextlib.suppress(OSError):
                self._write(encode(self.core.charge_control()))
            self._close_port()

    async def reset(self) -> None:
        """Pulse the reset line, then wait until the MCU accepts frames again."""
        if self.reset_line is None:
            raise RuntimeError("no reset line configured")
        async with self._resetting:
            self.log.info("Resetting the safety controller")
            await self.reset_line.pulse(self.settings.reset_pulse_s)
            self.stats["resets"] += 1
            await asyncio.sleep(self.settings.startup_wait_s)
            self._last_frame = self.clock()
            self.core.reset_done()

    async def inquire_firmware(self) -> None:
        """Ask for FwVersion and GitHash (with retries) and log the seed's firmware line."""
        for com in (Com.FW_VERSION, Com.GIT_HASH):
            answer = await self.inquire(com)
            if answer is None:
                self.log.warning(
                    "Safety controller did not answer the %s inquiry (%d tries)",
                    com.name,
                    self.settings.firmware_inquiry_retries + 1,
                )
        self.log.info("%s", self.core.firmware_line())

    async def inquire(self, com: int) -> Message | None:
        loop = asyncio.get_running_loop()
        for _ in range(self.settings.firmware_inquiry_retries + 1):
            future: asyncio.Future[Message] = loop.create_future()
            self._answers[com] = future
            self._send(Inquiry(com=com))
            try:
                return await asyncio.wait_for(future, self.settings.firmware_inquiry_timeout_s)
            except TimeoutError:
                continue
            finally:
                self._answers.pop(com, None)
        return None

    # ------------------------------------------------------------------ frames in
    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lose_device(f"UART read failed: {exc.strerror or exc}")
            return
        if not chunk:
            self._lose_device("UART hung up")
            return
        for frame in self._parser.feed(chunk):
            self.stats["frames_received"] += 1
            try:
                message = decode(frame)
            except ProtocolError as exc:
                self.stats["decode_errors"] += 1
                self._log_fault(type(exc).__name__, f"frame COM 0x{frame.com:02X} dropped: {exc}")
                continue
            self._last_frame = self.clock()
            self._dispatch(message)
        self._collect_parser_faults()

    def _lose_device(self, why: str) -> None:
        """The UART itself failed (unplugged adapter, driver reset, simulator gone): close it,
        so the loop does not spin on an fd that stays readable, and reopen it in the background.
        The link watchdog reports the silence as LinkLost meanwhile."""
        self.stats["device_errors"] += 1
        self.log.error(
            "%s; closing %s and retrying every %.0f s",
            why,
            self.settings.serial_port,
            REOPEN_INTERVAL_S,
        )
        self._close_port()
        task = asyncio.get_running_loop().create_task(self._reopen_loop(), name="uart-reopen")
        self._tasks.append(task)

    async def _reopen_loop(self) -> None:
        while self._port is None:
            await asyncio.sleep(REOPEN_INTERVAL_S)
            try:
                self.open()
            except LinkOpenError:
                continue
            self._parser = FrameParser()
            self.log.info("UART %s reopened", self.settings.serial_port)

    def _close_port(self) -> None:
        if self._port is None:
            return
        asyncio.get_running_loop().remove_reader(self._fd)
        with contextlib.suppress(OSError, serial.SerialException):
            self._port.close()
        self._port = None
        self._fd = -1

    def _dispatch(self, message: Message) -> None:
        core = self.core
        if isinstance(message, ChargeState2):
            was_up = core.state.link_up
            core.on_charge_state(message, self.clock())
            if not was_up and self._first_state.is_set():
                # Back after a loss: the MCU may have been replaced or updated meanwhile.
                task = asyncio.get_running_loop().create_task(
                    self.inquire_firmware(), name="inquire-firmware"
                )
                self._tasks.append(task)
            self._first_state.set()
        elif isinstance(message, Pt1000State):
            core.on_pt1000(message)
        elif isinstance(message, ErrorMessage):
            core.on_error_message(message)
        elif isinstance(message, FwVersion):
            core.on_fw_version(message)
            self._answered(Com.FW_VERSION, message)
        elif isinstance(message, GitHash):
            core.on_git_hash(message)
            self._answered(Com.GIT_HASH, message)
        else:
            self._log_fault("unexpected", f"unexpected {type(message).__name__} from the MCU")

    def _answered(self, com: int, message: Message) -> None:
        future = self._answers.get(com)
        if future is not None and not future.done():
            future.set_result(message)

    def _collect_parser_faults(self) -> None:
        for fault, count in self._parser.take_faults().items():
            self.stats[fault.value] += count
            self._log_fault(fault.value, f"UART {fault.value.replace('_', ' ')}: {count}")

    def _log_fault(self, kind: str, text: str) -> None:
        now = self.clock()
        last = self._fault_logged.get(kind)
        if last is None or now - last >= FAULT_LOG_INTERVAL_S:
            self._fault_logged[kind] = now
            self.log.warning("%s", text)

    # ------------------------------------------------------------------ frames out
    def _send(self, message: Message) -> None:
        if self._port is None:
            return  # the UART is closed after a device error; the reopen loop is at work
        try:
            self._write(encode(message))
        except OSError as exc:
            self.stats["write_errors"] += 1
            self._log_fault("write-error", f"UART write failed: {exc}")

    def _write(self, frame: Frame) -> None:
        os.write(self._fd, encode_frame(frame))
        self.stats["frames_sent"] += 1

    async def _send_loop(self) -> None:
        period = self.settings.charge_control_period_s
        next_at = self.clock()
        while True:
            self._send(self.core.charge_control())
            self.core.tick(self.clock())
            next_at += period
            await asyncio.sleep(max(0.0, next_at - self.clock()))

    async def _watchdog_loop(self) -> None:
        timeout = self.settings.link_timeout_s
        while True:
            await asyncio.sleep(min(0.1, timeout / 4))
            silent = self.clock() - self._last_frame
            if silent >= timeout and not self._resetting.locked():
                if self.core.state.link_up:
                    self.stats["link_losses"] += 1
                self.core.on_link_lost(silent)

    async def _temperature_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.temperature_publish_period_s)
            self.core.publish_temperatures()
