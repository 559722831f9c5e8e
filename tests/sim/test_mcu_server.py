# SPDX-License-Identifier: Apache-2.0
"""The MCU simulator over a real pty, driven by a test host using ccy.bsp.protocol."""

import asyncio
import os
from pathlib import Path

from mcu_host import TestHost, simulator_and_host

from ccy.bsp.protocol.frame import Com, Frame, FrameFault, encode_frame
from ccy.bsp.protocol.messages import (
    CcsReady,
    CeState,
    ChargeState2,
    FwVersion,
    GitHash,
    IdState,
    Inquiry,
    Pt1000State,
    SafeState,
    UnknownCode,
)
from ccy.bsp.reset_line import FileResetLine
from ccy.sim.mcu.model import McuModel
from ccy.sim.mcu.reset_fifo import ResetFifo
from ccy.sim.mcu.server import CorruptKind, McuSimulator


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
            assert (fw.version, fw.platform_name, gh.text) == ("0.2.3", "CC Y", "g5638a7e18ecce8f0")
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
            assert not host.parser.faults

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


def test_reset_pulse_through_the_fifo(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            fifo_path = tmp_path / "run" / "mcu-reset"
            model = sim.model

            def on_level(released: bool) -> None:
                if released:
                    model.release_reset(sim.clock())
                else:
                    model.hold_reset()

            fifo = ResetFifo(fifo_path, on_level, sim.log)
            fifo.open()
            try:
                host.start_control()
                await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A)
                # ccy-bsp's own "file" reset driver, with the 5 ms pulse of safety-link.md
                await FileResetLine(fifo_path).pulse(0.005)
                seen = len(host.messages)
                await host.wait_for(
                    lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A, after=seen
                )
                assert model.resets == 1
                assert not model.in_reset
                fifo.feed_line(b"garbage")
                assert fifo.bad_lines == 1
            finally:
                fifo.close()
            assert not fifo_path.exists()

    asyncio.run(body())


def test_reset_holds_the_mcu_silent(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            await host.wait_for(lambda m: isinstance(m, ChargeState2))
            sim.model.hold_reset()
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
            assert host.parser.faults[FrameFault.BAD_CRC] == 3
            await _corrupt_and_recover(sim, host, CorruptKind.TRUNCATED)
            assert host.parser.faults[FrameFault.MISSING_EOF] >= 1
            await _corrupt_and_recover(sim, host, CorruptKind.GARBAGE)
            assert host.parser.faults[FrameFault.GARBAGE] >= 1
            assert sim.stats["corrupted_garbage"] == 3
            assert not host.errors

    asyncio.run(body())


def test_unknown_code_reaches_the_host_as_a_named_error(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            await host.wait_for(lambda m: isinstance(m, ChargeState2))
            sim.send_raw(encode_frame(Frame(Com.CHARGE_STATE2, 9 << 60)))
            seen = len(host.messages)
            await host.wait_for(lambda m: isinstance(m, ChargeState2), after=seen)
            assert any(isinstance(e, UnknownCode) and e.raw == 9 for e in host.errors)

    asyncio.run(body())


def test_bad_host_bytes_do_not_stop_the_mcu(tmp_path: Path) -> None:
    async def body() -> None:
        async with simulator_and_host(tmp_path) as (sim, host):
            good = encode_frame(Frame(Com.CHARGE_CONTROL2, 0))
            bad_crc = good[:10] + bytes((good[10] ^ 1,)) + good[11:]
            unknown = encode_frame(Frame(0x42, 0))
            host.send_bytes(b"\xa5\x00\x03" + bad_crc + unknown + good[:5] + good)
            await host.wait_for(lambda m: isinstance(m, ChargeState2) and m.ce is CeState.A)
            assert sim.model.initialised
            assert sim.stats["bad_host_frames"] == 1
            assert sim.stats[FrameFault.BAD_CRC] == 1

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
