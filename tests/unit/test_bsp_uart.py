# SPDX-License-Identifier: Apache-2.0
"""The UART class alone on a pseudo-terminal: frames in and out, faults, loss and reopen."""

import asyncio
import contextlib
import logging
import os
import tty
from pathlib import Path

import pytest

from ccy.bsp.protocol.frame import Frame, encode_frame
from ccy.bsp.uart import Uart, UartOpenError

LOG = logging.getLogger("test")


def new_pty(link: Path) -> int:
    """A pty whose slave end is reachable at ``link``; returns the master fd."""
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    os.close(slave)
    link.unlink(missing_ok=True)
    link.symlink_to(name)
    return master


async def until(condition: object, what: str) -> None:
    for _ in range(500):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_frames_in_through_the_parser_and_out_as_wire_bytes(tmp_path: Path) -> None:
    link = tmp_path / "ttyLP2"
    master = new_pty(link)
    got: list[Frame] = []

    async def scenario() -> Uart:
        uart = Uart(link, 115200, got.append, LOG)
        uart.open()
        good = encode_frame(Frame(0x10, 0x4200_0000_0000_0000))
        bad_crc = bytearray(good)
        bad_crc[5] ^= 0xFF
        os.write(master, b"\x00\xa5junk" + bytes(bad_crc) + good[:5])
        os.write(master, good[5:])
        await until(lambda: got, "a frame")
        assert uart.write(Frame(0x11, 1 << 60))
        assert os.read(master, 64) == encode_frame(Frame(0x11, 1 << 60))
        await uart.close()
        assert not uart.write(Frame(0x11, 0))  # closed: counted, not raised
        return uart

    uart = asyncio.run(scenario())
    os.close(master)
    assert got == [Frame(0x10, 0x4200_0000_0000_0000)]
    assert uart.stats["frames_received"] == 1 and uart.stats["frames_sent"] == 1
    assert uart.stats["crc_errors"] == 1 and uart.stats["garbage_bytes"] > 0
    assert uart.stats["writes_while_closed"] == 1


def test_a_missing_device_is_a_named_start_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        Uart(tmp_path / "absent", 115200, lambda f: None, LOG).open()

    with pytest.raises(UartOpenError, match=r"cannot open UART .*absent: No such file"):
        asyncio.run(scenario())


def test_a_hung_up_device_is_closed_once_reported_and_reopened(tmp_path: Path) -> None:
    link = tmp_path / "ttyLP2"
    master = new_pty(link)
    lost: list[str] = []
    reopened: list[bool] = []
    got: list[Frame] = []

    async def scenario() -> Uart:
        uart = Uart(
            link,
            115200,
            got.append,
            LOG,
            on_lost=lost.append,
            on_reopened=lambda: reopened.append(True),
            reopen_interval_s=0.01,
        )
        uart.open()
        link.unlink()  # the adapter is gone: nothing to reopen for a while
        os.close(master)
        await until(lambda: lost, "the loss")
        await asyncio.sleep(0.1)  # several reopen attempts fail meanwhile
        assert not uart.is_open and not reopened
        second = new_pty(link)
        await until(lambda: reopened, "the reopen")
        os.write(second, encode_frame(Frame(0x10, 0)))
        await until(lambda: got, "a frame after the reopen")
        await uart.close()
        os.close(second)
        return uart

    uart = asyncio.run(scenario())
    assert len(lost) == 1 and lost[0] in ("UART hung up", "UART read failed: Input/output error")
    assert uart.stats["device_errors"] == 1 and uart.stats["reopens"] == 1


def test_close_stops_the_reopen_loop(tmp_path: Path) -> None:
    link = tmp_path / "ttyLP2"
    master = new_pty(link)

    async def scenario() -> None:
        uart = Uart(link, 115200, lambda f: None, LOG, reopen_interval_s=0.01)
        uart.open()
        link.unlink()
        os.close(master)
        await until(lambda: uart.stats["device_errors"] == 1, "the loss")
        await uart.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        assert uart._reopen is None and not uart.is_open

    asyncio.run(scenario())
