# SPDX-License-Identifier: Apache-2.0
"""The asyncio driver of the CM core: the server socket on UDP 34964, a client socket for
our CControl requests (from an ephemeral port, like the seed's "UDP socket bound to source
port"), and the core's timers every ``TICK_S``. Events go to ``on_events``."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import cast

from ccy.profinet.rpc.dcerpc import PNIO_PORT
from ccy.profinet.rpc.device import Event, Output, RpcDevice

TICK_S = 0.05


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.on_datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable and the like
        logging.getLogger(__name__).debug("RPC socket: %s", exc)


class RpcServer:
    def __init__(
        self,
        core: RpcDevice,
        on_events: Callable[[list[Event]], None],
        *,
        host: str = "0.0.0.0",
        port: int = PNIO_PORT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.on_events = on_events
        self.host = host
        self.port = port
        self.clock = clock
        self._server: _Endpoint | None = None
        self._client: _Endpoint | None = None
        self._tick: asyncio.Task[None] | None = None

    @property
    def server_port(self) -> int:
        assert self._server is not None and self._server.transport is not None
        return int(self._server.transport.get_extra_info("sockname")[1])

    @property
    def client_port(self) -> int:
        assert self._client is not None and self._client.transport is not None
        return int(self._client.transport.get_extra_info("sockname")[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        _, self._server = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._server_datagram), local_addr=(self.host, self.port)
        )
        _, self._client = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._client_datagram), local_addr=(self.host, 0)
        )
        self._tick = asyncio.create_task(self._ticker(), name="pn-rpc-tick")

    async def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
        for ep in (self._server, self._client):
            if ep is not None and ep.transport is not None:
                ep.transport.close()

    def _server_datagram(self, data: bytes, peer: tuple[str, int]) -> None:
        self.apply(self.core.datagram(data, peer, self.clock()))

    def _client_datagram(self, data: bytes, peer: tuple[str, int]) -> None:
        self.apply(self.core.client_datagram(data, self.clock()))

    def apply(self, out: Output) -> None:
        """Hand over the core's events first (an AR that ended withdraws power before anything
        is said), then send its answers, then our own requests (ApplicationReady follows the
        PrmEnd answer)."""
        if out.events:
            self.on_events(out.events)
        if self._server is not None and self._server.transport is not None:
            for data, peer in out.replies:
                self._server.transport.sendto(data, peer)
        if self._client is not None and self._client.transport is not None:
            for data, peer in out.client:
                self._client.transport.sendto(data, peer)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.apply(self.core.tick(self.clock()))
