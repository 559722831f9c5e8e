# SPDX-License-Identifier: Apache-2.0
"""The MCU simulator over a real pty, driven by a test host using the simulator's own codec."""

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from mcu_host import WAIT_S, TestHost, simulator_and_host

from ccy.sim.mcu.messages import (
    CcsReady,
    CeState,
    ChargeControl2,
    ChargeState2,
    Com,
    FwVersion,
    GitHash,
    IdState,
    Inquiry,
    Pt1000State,
    SafeState,
)
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.run import reset_line_handler
from ccy.sim.mcu.server import CorruptKind, McuSimulator
from ccy.sim.mcu.wire import RawFrame


def test_slave_is_a_tty_and_the_link_points_at_it(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, _):
            link = tmp_path / "dev" / "ttyLP2"
            assert link.is_symlink()
            assert link.resolve() == sim.slave_path
            fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
            try:
                assert os.isatty(fd)
            finally:
                os.close(fd)
        assert not (tmp_path / "dev" / "ttyLP2").is_symlink()

    asyncio.run(body())


def test_periodic_frames_inquiries_and_init(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            first = await host.wait_for(lambda m: isinstance(m, ChargeState2), what="state")
            assert isinstance(first, ChargeState2)
            assert first.safe_state is SafeState.NOT_AVAILABLE  # init: no ChargeControl2 yet
            host.send(Inquiry(Com.FW_VERSION))
            host.send(Inquiry(Com.GIT_HASH))
            fw = await host.wait_for(lambda m: isinstance(m, FwVersion), what="FwVersion")
            gh = await host.wait_for(lambda m: isinstance(m, GitHash), what="GitHash")
            assert isinstance(fw, FwVersion)
            assert isinstance(gh, GitHash)
            assert (fw.version, fw.platform, gh.text) == ("0.2.3", 0x82, "g5638a7e18ecce8f0")
            assert not sim.model.initialised  # inquiries alone do not end init
            host.start_control()
            await host.wait_for(
                lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A, what="CE A"
            )
            seen = len(host.messages)
            for _ in range(3):
                await host.wait_for(lambda m: isinstance(m, Pt1000State), after=seen)
                seen = len(host.messages)
            assert not host.errors
            assert not +host.reader.counts

    asyncio.run(body())


def test_charging_story_over_the_wire(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            host.start_control()
            await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A)
            sim.model.plug()
            m = await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.B0)
            assert isinstance(m, ChargeState2)
            assert m.id is IdState.CONNECTED
            host.ccs_ready = CcsReady.READY
            await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.B)
            sim.model.set_ce(CeState.C)
            await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.C)
            assert sim.model.contactor_closed()
            host.ccs_ready = CcsReady.EMERGENCY_STOP
            m = await host.wait_for(
                lambda m: (
                    isinstance(m, ChargeState2) and m.safe_state is SafeState.SAFE_STATE_ACTIVE
                )
            )
            assert isinstance(m, ChargeState2)
            assert m.ce is CeState.EC

    asyncio.run(body())


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT_S / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{what} did not happen")


def _write(path: Path, data: bytes) -> None:
    """One write, as ccy-bsp's "file" reset driver does for each level."""
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def test_reset_pulse_through_the_fifo_is_checked(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            fifo_path = tmp_path / "run" / "mcu-reset"
            model = sim.model
            fifo = ResetFifo(fifo_path, reset_line_handler(model, sim.clock, sim.log), sim.log)
            fifo.open()
            try:
                host.start_control()
                await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A)
                # A host that does not wait between the levels: both arrive in one read.
                _write(fifo_path, b"0\n1\n")
                await _until(lambda: model.short_reset_pulses == 1, "a short pulse")
                assert (model.resets, model.in_reset, model.initialised) == (0, False, True)
                # A held pulse: the simulator reads "0" while the host waits.
                _write(fifo_path, b"0\n")
                await _until(lambda: model.in_reset, "reset held")
                await asyncio.sleep(0.005)
                _write(fifo_path, b"1\n")
                await _until(lambda: not model.in_reset, "reset released")
                assert (model.resets, model.short_reset_pulses) == (1, 1)
                seen = len(host.messages)
                m = await host.wait_for(lambda m: isinstance(m, ChargeState2), after=seen)
                assert isinstance(m, ChargeState2)
                # The first frames after a reset are init ones or, once ChargeControl2 came, A.
                assert m.ce in (CeState.UNKNOWN, CeState.A)
                fifo.feed_line(b"garbage")
                fifo.feed_line(b"0 nan")
                assert fifo.bad_lines == 2
                # ccy-bsp stamps each level with its monotonic time: a 5 ms pulse read late,
                # both levels in one read, is still a reset; a stamped 0.2 ms pulse is not.
                now = time.monotonic()
                _write(fifo_path, f"0 {now - 0.0052:.6f}\n1 {now - 0.0002:.6f}\n".encode())
                await _until(lambda: model.resets == 2, "a stamped reset")
                now = time.monotonic()
                _write(fifo_path, f"0 {now - 0.0004:.6f}\n1 {now - 0.0002:.6f}\n".encode())
                await _until(lambda: model.short_reset_pulses == 2, "a stamped short pulse")
                assert model.resets == 2
            finally:
                fifo.close()
            assert not fifo_path.exists()

    asyncio.run(body())


def test_never_confirmed_emergency_stop_over_the_wire(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            sim.model.set_estop_confirmation(None)
            sim.model.plug()
            host.ccs_ready = CcsReady.READY
            host.start_control()
            sim.model.set_ce(CeState.C)
            await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.C)
            host.ccs_ready = CcsReady.EMERGENCY_STOP
            await _until(lambda: sim.model.ccs_ready is CcsReady.EMERGENCY_STOP, "the request")
            seen = len(host.messages)
            for _ in range(5):
                m = await host.wait_for(lambda m: isinstance(m, ChargeState2), after=seen)
                seen = host.messages.index(m, seen) + 1
                assert isinstance(m, ChargeState2)
                assert (m.safe_state, m.ce) == (SafeState.NORMAL, CeState.C)
            sim.model.set_estop_confirmation(0)  # a late confirmation arrives with the next tick
            await host.wait_for(
                lambda m: (
                    isinstance(m, ChargeState2) and m.safe_state is SafeState.SAFE_STATE_ACTIVE
                ),
                after=seen,
            )

    asyncio.run(body())


def test_reset_holds_the_mcu_silent(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            await host.wait_for(lambda m: isinstance(m, ChargeState2))
            sim.model.hold_reset(sim.clock())
            await asyncio.sleep(0.05)
            seen = len(host.messages)
            await asyncio.sleep(0.4)
            assert len(host.messages) == seen
            host.send(Inquiry(Com.FW_VERSION))  # ignored while in reset
            await asyncio.sleep(0.2)
            assert sim.stats["frames_ignored"] >= 1
            sim.model.release_reset(sim.clock())
            await host.wait_for(lambda m: isinstance(m, ChargeState2), after=seen)

    asyncio.run(body())


def test_silence_and_recovery(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            host.start_control()
            await host.wait_for(lambda m: isinstance(m, ChargeState2))
            await asyncio.sleep(0.05)
            host._on_readable()  # take what is already in the pty
            seen = len(host.messages)
            sim.silence(0.8)
            await asyncio.sleep(0.4)
            assert len(host.messages) == seen
            assert sim.silent()
            await host.wait_for(lambda m: isinstance(m, ChargeState2), after=seen)
            assert not sim.silent()

    asyncio.run(body())


async def _corrupt_and_recover(sim: McuSimulator, host: TestHost, kind: CorruptKind) -> None:
    await host.wait_for(lambda m: isinstance(m, ChargeState2))
    sim.corrupt(kind, 3)
    await asyncio.sleep(0.05)
    seen = len(host.messages)
    for _ in range(100):
        if not sim.pending_corruptions:
            break
        await asyncio.sleep(0.05)
    assert not sim.pending_corruptions
    # The frame sent right after the corrupted ones arrives intact.
    await host.wait_for(lambda m: isinstance(m, ChargeState2 | Pt1000State), after=seen)


def test_corruption_kinds_are_survived_by_the_host_parser(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            host.start_control()
            await _corrupt_and_recover(sim, host, CorruptKind.BAD_CRC)
            assert host.reader.counts["bad_crc"] == 3
            await _corrupt_and_recover(sim, host, CorruptKind.TRUNCATED)
            assert host.reader.counts["missing_eof"] >= 1
            await _corrupt_and_recover(sim, host, CorruptKind.GARBAGE)
            assert host.reader.counts["garbage_bytes"] >= 1
            assert sim.stats["corrupted_garbage"] == 3
            assert not host.errors

    asyncio.run(body())


def test_unknown_code_reaches_the_host_as_a_named_error(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            await host.wait_for(lambda m: isinstance(m, ChargeState2))
            sim.send_raw(RawFrame(Com.CHARGE_STATE2, 9 << 60).to_bytes())
            seen = len(host.messages)
            await host.wait_for(lambda m: isinstance(m, ChargeState2), after=seen)
            assert any("CE code 0x9" in str(e) for e in host.errors)

    asyncio.run(body())


def test_bad_host_bytes_do_not_stop_the_mcu(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            good = ChargeControl2().frame().to_bytes()
            bad_crc = good[:10] + bytes((good[10] ^ 1,)) + good[11:]
            unknown = RawFrame(0x42, 0).to_bytes()
            host.send_bytes(b"\xa5\x00\x03" + bad_crc + unknown + good[:5] + good)
            await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A)
            assert sim.model.initialised
            assert sim.stats["bad_host_frames"] == 1
            assert sim.stats["bad_crc"] == 1

    asyncio.run(body())


def test_unread_backlog_is_flushed_not_blocking(tmp_path: Path) -> None:
    async def body() -> None:
        sim = McuSimulator(McuModel())
        sim.open()
        await sim.start()
        try:
            for _ in range(2000):  # nobody reads the slave: far more than the pty buffer
                sim.tick()
            assert sim.stats["backlog_flushes"] >= 1
            assert sim.stats["frames_sent"] == 4000
        finally:
            await sim.stop()

    asyncio.run(body())
