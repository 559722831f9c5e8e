# SPDX-License-Identifier: Apache-2.0
"""The safety MCU's reset line nSAFETY_RESET_INT (active low), pulsed to restart the MCU.

Drivers (config key reset_line_driver):
- ``gpiochip``: the GPIO character device through libgpiod's Python bindings (``gpiod``, the
  image's python3-gpiod). The line is found by name on ``reset_line_chip``. Exercised only on
  hardware: no machine of this project has a GPIO chip.
- ``file``: writes "0" (assert reset) then "1" (release) to a path: a sysfs GPIO ``value``
  file, or the FIFO the MCU simulator listens on.
- ``none``: the board has no reset line wired; ResetSafetyController is NotSupported.
After release the MCU accepts frames only after startup_wait_ms (300 ms, safety-link.md).
"""

import asyncio
import os
import stat
import time
from pathlib import Path
from typing import Any, Protocol


class ResetLineError(OSError):
    """The reset line could not be driven (an OSError: the line is a device)."""


class ResetLine(Protocol):
    async def pulse(self, width_s: float) -> None: ...


class FileResetLine:
    """Writes "0" then "1" to a file: a sysfs GPIO value file, or the MCU simulator's FIFO.

    To a FIFO each level also carries the CLOCK_MONOTONIC time it was set ("0 12.345678"): the
    simulator reads the FIFO when its loop gets to it, which under load can be milliseconds
    late, so only the writer's own time stamps tell the pulse width it really held.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, value: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise ResetLineError(f"reset line {self.path}: {exc.strerror}") from exc
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                value = value.rstrip(b"\n") + f" {time.monotonic():.6f}\n".encode()
            os.write(fd, value)
        except OSError as exc:
            raise ResetLineError(f"reset line {self.path}: {exc.strerror}") from exc
        finally:
            os.close(fd)

    async def pulse(self, width_s: float) -> None:
        self._write(b"0\n")
        try:
            await asyncio.sleep(width_s)
        finally:
            self._write(b"1\n")


class GpiochipResetLine:
    def __init__(self, chip: Path, line_name: str) -> None:
        self.chip = chip
        self.line_name = line_name

    async def pulse(self, width_s: float) -> None:
        try:
            import gpiod  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ResetLineError("python3-gpiod (libgpiod bindings) is not installed") from exc
        try:
            request: Any = _request_output(gpiod, self.chip, self.line_name)
        except (OSError, ValueError) as exc:
            raise ResetLineError(f"{self.chip} line {self.line_name}: {exc}") from exc
        try:
            request.set_value(self.line_name, gpiod.line.Value.INACTIVE)
            await asyncio.sleep(width_s)
        finally:
            request.set_value(self.line_name, gpiod.line.Value.ACTIVE)
            request.release()


def _request_output(gpiod: Any, chip: Path, line_name: str) -> Any:
    """Request the named line as an output (libgpiod v2 API), released high (not in reset)."""
    settings = gpiod.LineSettings(
        direction=gpiod.line.Direction.OUTPUT, output_value=gpiod.line.Value.ACTIVE
    )
    return gpiod.request_lines(str(chip), consumer="ccy-bsp", config={line_name: settings})


def make_reset_line(driver: str, chip: Path, line_name: str, file: Path) -> ResetLine | None:
    if driver == "gpiochip":
        return GpiochipResetLine(chip, line_name)
    if driver == "file":
        return FileResetLine(file)
    return None
