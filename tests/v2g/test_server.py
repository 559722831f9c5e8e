# SPDX-License-Identifier: Apache-2.0
"""The V2G TCP server on real sockets: hostile V2GTP, one session at a time, stalled peers.

The connection handler here is a test peer (the transport's boundary), not ccy's session: it
answers every request with a fixed payload. After every hostile case the next connection must
work again.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from ccy.v2g import v2gtp
from ccy.v2g.server import (
    ConnectionHandler,
    PeerInfo,
    Reply,
    ServerConfig,
    SessionGate,
    TransportCounters,
    V2gServer,
)

SAP_REQ = bytes.fromhex(
    "8000f3ab9371d34b9b79d39ba321d34b9b79d189a98989c1d1699181d22218010000040040"
)
SAP_RES = bytes.fromhex("80400040")


class Handler:
    def __init__(self, peer: PeerInfo, log: list[str], mode: str) -> None:
        self.peer = peer
        self.log = log
        self.mode = mode

    async def on_message(self, payload_type: int, payload: bytes) -> bytes | Reply | None:
        self.log.append(f"msg {payload_type:#x} {payload.hex()}")
        if self.mode == "close":
            return None
        if self.mode == "raise":
            raise RuntimeError("handler bug")
        if self.mode == "stop":
            return Reply(SAP_RES, close_after=True)
        return SAP_RES

    def on_closed(self, reason: str) -> None:
        self.log.append(f"closed {reason}")


@asynccontextmanager
async def running(mode: str = "ok", **config: float) -> AsyncIterator[tuple[V2gServer, list[str]]]:
    events: list[str] = []

    def factory(peer: PeerInfo) -> ConnectionHandler:
        return Handler(peer, events, mode)

    server = V2gServer(ServerConfig(host="::1", **config), factory)  # type: ignore[arg-type]
    await server.start()
    try:
        yield server, events
    finally:
        await server.close()


async def exchange(port: int, data: bytes, read_s: float = 2.0) -> bytes:
    """Send ``data``, then read until the server closes (or ``read_s`` passes)."""
    reader, writer = await asyncio.open_connection("::1", port)
    writer.write(data)
    await writer.drain()
    got = b""
    try:
        async with asyncio.timeout(read_s):
            while chunk := await reader.read(4096):
                got += chunk
    except TimeoutError:
        got += b"<open>"
    except ConnectionResetError:  # closed with our bytes unread: the kernel sends RST
        pass
    writer.close()
    return got


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())  # type: ignore[arg-type]


REQUEST = v2gtp.encode(v2gtp.PayloadType.SAP, SAP_REQ)
RESPONSE = v2gtp.encode(v2gtp.PayloadType.SAP, SAP_RES)


def test_request_response_and_seed_log_line(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with running(idle_timeout_s=0.5) as (server, events):
            reader, writer = await asyncio.open_connection("::1", server.port)
            for _ in range(2):
                writer.write(REQUEST)
                frame = await v2gtp.read_message(reader)
                assert frame == v2gtp.Frame(v2gtp.PayloadType.SAP, SAP_RES)
            local_port = writer.get_extra_info("sockname")[1]
            writer.close()
            await asyncio.sleep(0.2)
            assert events == [f"msg 0x8001 {SAP_REQ.hex()}"] * 2 + ["closed peer closed"]
            c = server.counters
            assert (c.connections, c.messages_in, c.messages_out, c.peer_closed) == (1, 2, 2, 1)
            assert f"Incoming connection from [::1]:{local_port}" in caplog.messages

    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        run(main)


HOSTILE = [
    ("wrong_version", bytes.fromhex("02fe800100000004") + SAP_RES, "WrongVersion"),
    ("wrong_inverse", bytes.fromhex("01fd800100000004") + SAP_RES, "WrongInverse"),
    ("unknown_payload_type", bytes.fromhex("01fe777700000004") + SAP_RES, "UnknownPayloadType"),
    ("unknown_payload_type", bytes.fromhex("01fe900000000002") + b"\x10\x00", "UnknownPayloadType"),
    ("too_long", bytes.fromhex("01fe800200100000"), "TooLong"),
    ("too_long", bytes.fromhex("01fe8002ffffffff"), "TooLong"),
]


@pytest.mark.parametrize(("counter", "data", "error"), HOSTILE)
def test_hostile_header_closes_with_counter_and_one_line(
    counter: str, data: bytes, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with running() as (server, events):
            assert await exchange(server.port, data) == b""
            await asyncio.sleep(0.05)
            assert getattr(server.counters, counter) == 1
            assert events == [events[0]] and events[0].startswith(f"closed {error}: ")
            closed = [m for m in caplog.messages if m.startswith("Closed connection from")]
            assert len(closed) == 1 and error in closed[0]
            assert await exchange(server.port, REQUEST, read_s=0.3) == RESPONSE + b"<open>"

    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        run(main)


def test_truncated_header_and_payload() -> None:
    async def main() -> None:
        async with running() as (server, _events):
            for partial in (REQUEST[:5], REQUEST[:12]):
                reader, writer = await asyncio.open_connection("::1", server.port)
                writer.write(partial)
                writer.write_eof()
                assert await asyncio.wait_for(reader.read(), 2) == b""
                writer.close()
            await asyncio.sleep(0.05)
            assert server.counters.truncated == 2
            assert server.counters.message_timeouts == 0

    run(main)


def test_garbage_after_a_valid_message() -> None:
    async def main() -> None:
        async with running() as (server, events):
            got = await exchange(server.port, REQUEST + b"\x17\x03\x03garbage")
            assert got == RESPONSE
            assert server.counters.wrong_version == 1
            assert events[0].startswith("msg 0x8001") and events[1].startswith("closed Wrong")

    run(main)


def test_one_byte_a_second_peer_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with running(message_timeout_s=0.6) as (server, events):
            reader, writer = await asyncio.open_connection("::1", server.port)
            sent = 0
            with pytest.raises(ConnectionError):
                for byte in REQUEST:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    sent += 1
                    await asyncio.sleep(0.25)  # one byte a second, faster to keep the test short
                    if reader.at_eof():
                        raise ConnectionResetError
            assert sent < len(REQUEST)
            assert server.counters.message_timeouts == 1
            assert events == ["closed MessageTimeout: message not complete within 0.6 s"]
            writer.close()
            assert await exchange(server.port, REQUEST, read_s=0.3) == RESPONSE + b"<open>"

    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        run(main)


def test_idle_peer_is_cut() -> None:
    async def main() -> None:
        async with running(idle_timeout_s=0.3) as (server, events):
            assert await exchange(server.port, REQUEST) == RESPONSE
            assert server.counters.idle_timeouts == 1
            assert events[-1] == "closed IdleTimeout: no message within 0.3 s"

    run(main)


def test_second_connection_during_a_session_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with running() as (server, _events):
            reader, writer = await asyncio.open_connection("::1", server.port)
            writer.write(REQUEST)
            assert (await v2gtp.read_message(reader)).payload == SAP_RES
            assert await exchange(server.port, REQUEST) == b""  # refused: closed, no answer
            assert server.counters.refused_busy == 1
            writer.write(REQUEST)  # the first session is undisturbed
            assert (await v2gtp.read_message(reader)).payload == SAP_RES
            writer.close()
            await asyncio.sleep(0.1)
            assert server.gate.active is None
            assert await exchange(server.port, REQUEST, read_s=0.3) == RESPONSE + b"<open>"

    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        run(main)
    refused = [m for m in caplog.messages if m.startswith("Refused connection")]
    assert len(refused) == 1 and "a session with [::1]:" in refused[0]


def test_gate_is_shared_between_servers() -> None:
    async def main() -> None:
        gate, counters = SessionGate(), TransportCounters()
        events: list[str] = []
        servers = [
            V2gServer(
                ServerConfig(host="::1"),
                lambda p: Handler(p, events, "ok"),
                gate=gate,
                counters=counters,
            )
            for _ in range(2)
        ]
        for s in servers:
            await s.start()
        try:
            reader, writer = await asyncio.open_connection("::1", servers[0].port)
            writer.write(REQUEST)
            await v2gtp.read_message(reader)
            assert await exchange(servers[1].port, REQUEST) == b""
            assert counters.refused_busy == 1 and counters.connections == 2
            writer.close()
        finally:
            for s in servers:
                await s.close()

    run(main)


@pytest.mark.parametrize(
    ("mode", "expected", "reason"),
    [
        ("close", b"", "closed handler closed"),
        ("stop", RESPONSE, "closed handler closed"),
        ("raise", b"", "closed handler failed: RuntimeError: handler bug"),
    ],
)
def test_handler_ends_the_session(mode: str, expected: bytes, reason: str) -> None:
    async def main() -> None:
        async with running(mode) as (server, events):
            assert await exchange(server.port, REQUEST) == expected
            await asyncio.sleep(0.05)
            assert events[-1] == reason
            assert server.counters.handler_errors == (1 if mode == "raise" else 0)

    run(main)


def test_close_ends_live_session() -> None:
    async def main() -> None:
        async with running() as (server, events):
            reader, writer = await asyncio.open_connection("::1", server.port)
            writer.write(REQUEST)
            await v2gtp.read_message(reader)
        assert events[-1] == "closed server stopping"
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()

    run(main)


def test_port_zero_picks_the_dynamic_range() -> None:
    async def main() -> None:
        for _ in range(5):
            async with running() as (server, _events):
                assert 49152 <= server.port <= 65535

    run(main)
