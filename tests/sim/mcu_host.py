# SPDX-License-Identifier: Apache-2.0
"""A minimal test host for the MCU simulator: opens the pty like ccy-bsp would and speaks the
protocol through the simulator's own codec (ChargeControl2 every 100 ms, inquiries). The
cross-check against ccy-bsp's codec is the bus tests' job (tests/bus, tests/e2e)."""

import asyncio
import contextlib
import os
import time
import tty
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from ccy.sim.mcu.messages import CcsReady, ChargeControl2, Message, WireError, parse
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.server import McuSimulator
from ccy.sim.mcu.wire import FrameReader

WAIT_S = 5.0  # generous: the machine is shared; nothing here measures time


class TestHost:
    __test__ = False  # not a test class

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.reader = FrameReader()
        self.messages: list[Message] = []
        self.errors: list[WireError] = []
        self.ccs_ready = CcsReady.NOT_READY
        self._task: asyncio.Task[None] | None = None
        asyncio.get_running_loop().add_reader(self.fd, self._on_readable)

    def _on_readable(self) -> None:
        with contextlib.suppress(BlockingIOError):
            for frame in self.reader.feed(os.read(self.fd, 4096)):
                try:
                    self.messages.append(parse(frame))
                except WireError as exc:
                    self.errors.append(exc)

    def send(self, message: Message) -> None:
        os.write(self.fd, message.frame().to_bytes())

    def send_bytes(self, data: bytes) -> None:
        os.write(self.fd, data)

    def start_control(self) -> None:
        async def loop() -> None:
            while True:
                self.send(ChargeControl2(self.ccs_ready))
                await asyncio.sleep(0.1)

        self._task = asyncio.get_running_loop().create_task(loop())

    async def wait_for(
        self, wanted: Callable[[Message], bool], after: int = 0, what: str = "a frame"
    ) -> Message:
        """The first message from index ``after`` on that satisfies ``wanted``."""
        deadline = time.monotonic() + WAIT_S
        index = after
        while True:
            while index < len(self.messages):
                message = self.messages[index]
                index += 1
                if wanted(message):
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not arrive; last: {self.messages[-3:]}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)


@contextlib.asynccontextmanager
async def simulator_and_host(tmp_path: Path) -> AsyncIterator[tuple[McuSimulator, TestHost]]:
    sim = McuSimulator(McuModel())
    sim.open()
    link = tmp_path / "dev" / "ttyLP2"
    sim.link(link)
    await sim.start()
    host = TestHost(link)
    try:
        yield sim, host
    finally:
        await host.close()
        await sim.stop()
