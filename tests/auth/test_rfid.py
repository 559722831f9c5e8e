# SPDX-License-Identifier: Apache-2.0
"""The RFID line protocol (pure parser), and ccy-auth's reader against the reader simulator
(ccy.sim.rfid) on a real pty: cards, debouncing, garbage, answers, the port lost and back."""

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from ccy.auth.providers.rfid import RfidReader
from ccy.auth.providers.rfid_protocol import (
    MAX_LINE,
    Card,
    Garbage,
    Hello,
    LineParser,
    ReaderError,
    answer,
    parse_line,
)
from ccy.sim.rfid.control import ControlServer, handle, request
from ccy.sim.rfid.reader import RfidSimulator

LOG = logging.getLogger("ccy-auth-rfid-test")


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (b"UID 04a2b3c4", Card("04A2B3C4")),
        (b"UID 04A2B3C4D5E6F7\r", Card("04A2B3C4D5E6F7")),
        (b"UID 0102030405060708090A", Card("0102030405060708090A")),
        (b"HELLO reader 2.1", Hello("reader 2.1")),
        (b"ERR antenna", ReaderError("antenna")),
    ],
)
def test_good_lines(line: bytes, event: object) -> None:
    assert parse_line(line) == event


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b"UID", "without hex"),
        (b"UID 04A2B3CZ", "without hex"),
        (b"UID 04A2B3C4D5", "10 hex digits"),
        (b"uid 04A2B3C4", "unknown line"),
        (b"", "empty line"),
        (b"UID 04A2\x00B3C4", "not printable"),
        (b"\xff\xfe", "not printable"),
        (b"X" * (MAX_LINE + 1), "over-long"),
        (b"12345", "unknown line"),
    ],
)
def test_garbage_lines_are_named_and_never_quoted(line: bytes, words: str) -> None:
    event = parse_line(line)
    assert isinstance(event, Garbage) and words in event.reason
    assert "04A2" not in event.reason


def test_the_parser_joins_chunks_and_drops_over_long_lines_whole() -> None:
    p = LineParser()
    assert p.feed(b"UID 04A2") == []
    assert p.feed(b"B3C4\r\nHEL") == [Card("04A2B3C4")]
    long = b"Z" * (MAX_LINE + 10)
    assert p.feed(b"LO x\n" + long[:40]) == [Hello("x")]
    (garbage,) = p.feed(long[40:])
    assert isinstance(garbage, Garbage) and "over-long" in garbage.reason
    assert p.buffered == 0
    # the rest of the over-long line is dropped up to its end; the next line counts again
    assert p.feed(b"still the long line\nUID 11223344\n") == [Card("11223344")]


def test_answers() -> None:
    assert answer("Accepted") == b"OK\n" and answer("Blocked") == b"NOK Blocked\n"


# ---------------------------------------------------------------- reader on a pty
async def until(probe: Callable[[], object], timeout_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not probe():
        assert loop.time() < deadline, "not within the time"
        await asyncio.sleep(0.02)


def test_reader_and_simulator_on_a_pty(tmp_path: Path) -> None:
    link = tmp_path / "dev" / "ttyRFID"
    cards: list[str] = []
    lost: list[str] = []
    back: list[bool] = []

    async def scenario() -> RfidReader:
        sim = RfidSimulator()
        sim.open()
        sim.link(link)
        sim.start()
        reader = RfidReader(
            link,
            9600,
            60.0,
            cards.append,
            LOG,
            on_lost=lost.append,
            on_back=lambda: back.append(True),
        )
        task = asyncio.create_task(reader.run())
        try:
            await until(lambda: reader.is_open)  # opening flushes what came before (pyserial)
            sim.hello()
            sim.card("04a2b3c4")
            await until(lambda: cards == ["04A2B3C4"])
            sim.card("04A2B3C4")  # held on the reader: one presentation
            sim.send(b"\xff\xfegarbage\nUID 12\n")
            sim.error("antenna")
            sim.card("0102030405060708090A")
            await until(lambda: len(cards) == 2)
            assert cards == ["04A2B3C4", "0102030405060708090A"]
            assert reader.stats["debounced"] == 1 and reader.stats["garbage_lines"] == 2
            assert reader.stats["reader_errors"] == 1
            reader.tell("Accepted")
            reader.tell("Blocked")
            await until(lambda: len(sim.answers) == 2)
            assert sim.answers == ["OK", "NOK Blocked"]
            # the reader goes away: lost once, then back when a reader is linked again
            sim.stop()
            await until(lambda: lost != [])
            assert len(lost) == 1
            sim2 = RfidSimulator()
            sim2.open()
            sim2.link(link)
            sim2.start()
            await until(lambda: back == [True] and reader.is_open, timeout_s=5.0)
            sim2.card("55667788")
            await until(lambda: cards[-1:] == ["55667788"])
            sim2.stop()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return reader

    asyncio.run(scenario())


def test_a_missing_port_is_reported_once(tmp_path: Path) -> None:
    lost: list[str] = []

    async def scenario() -> None:
        reader = RfidReader(tmp_path / "none", 9600, 1.0, lambda _u: None, LOG, on_lost=lost.append)
        task = asyncio.create_task(reader.run())
        await until(lambda: lost != [])
        await asyncio.sleep(1.2)  # a retry has happened meanwhile
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert len(lost) == 1 and "cannot open" in lost[0]


# ---------------------------------------------------------------- simulator control
def test_control_commands_and_bad_input(tmp_path: Path) -> None:
    sim = RfidSimulator()
    assert handle(sim, {"cmd": "card", "uid": "XYZ"}) == {
        "ok": False,
        "error": "uid must be 8, 14 or 20 hex digits",
    }
    assert handle(sim, {"cmd": "card", "uid": "04A2B3C4"})["ok"] is False  # not running
    assert handle(sim, {"cmd": "fly"})["error"].startswith("unknown command")
    assert handle(sim, ["card"])["ok"] is False
    assert handle(sim, {"cmd": "raw", "hex": "zz"})["ok"] is False

    async def scenario() -> dict[str, object]:
        sim.open()
        sim.start()
        server = ControlServer(tmp_path / "rfid.sock", sim)
        await server.start()
        try:
            reply = await asyncio.to_thread(
                request, tmp_path / "rfid.sock", {"cmd": "card", "uid": "04A2B3C4"}
            )
            assert reply == {"ok": True}
            return await asyncio.to_thread(request, tmp_path / "rfid.sock", {"cmd": "answers"})
        finally:
            await server.stop()
            sim.stop()

    assert asyncio.run(scenario()) == {"ok": True, "answers": []}
    assert json.dumps(handle(sim, {"cmd": "answers"}))


def test_an_over_long_line_is_the_same_event_however_it_arrives() -> None:
    """Found by fuzz_rfid_line.py: a 70-character line read whole and read in pieces gave two
    different reasons; the events must not depend on how the serial port chunks the bytes."""
    stream = b"2" + b"K" * 69 + b"\nUID 04A1B2C3\n"
    whole = LineParser().feed(stream)
    parser = LineParser()
    pieces = [*parser.feed(stream[:30]), *parser.feed(stream[30:68]), *parser.feed(stream[68:])]
    assert pieces == whole
    assert isinstance(whole[0], Garbage) and "over-long" in whole[0].reason
