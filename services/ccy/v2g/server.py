# SPDX-License-Identifier: Apache-2.0
"""The V2G TCP (and TLS 1.3) server: one V2G session per connection, one session at a time.

The transport only moves V2GTP frames: each accepted connection gets a
:class:`ConnectionHandler` from the factory (the -20 session of ``ccy.v2g.session``), which
turns a request payload into a reply payload. What the transport itself decides:

* one session per charger: a connection arriving while another is open is closed at once,
  counted (``refused_busy``) and logged in one line; the open session is not disturbed;
* TLS: the handshake runs after the accept (``StreamWriter.start_tls``) so that a refused
  client (TLS 1.2 only, wrong root, no common group) is counted and logged with OpenSSL's
  reason instead of vanishing inside asyncio;
* every V2GTP problem (:mod:`ccy.v2g.v2gtp`) closes the connection with one journal line and
  its counter; garbage after a valid message is answered by first answering the message,
  then closing on the garbage; a stalled or trickling peer is cut by the message timeout.

Journal wording follows the seed: ``Incoming connection from [fe80::…%eth1]:62533``.
"""

import asyncio
import contextlib
import dataclasses
import errno
import itertools
import logging
import random
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from ccy.v2g import v2gtp

LOG = logging.getLogger("ccy.v2g.net")
DYNAMIC_PORTS = (49152, 65535)
"""The dynamic port range (RFC 6335) where ISO 15118 stacks expect the SECC's TCP port
(Josev's EVCC checks 49152..65535 and drops other SDP answers; requirement id not at hand)."""
DYNAMIC_PORT_ATTEMPTS = 50
_CONNECTION_IDS = itertools.count(1)
"""Process-wide, so a TLS and a TCP server sharing a gate never reuse an id."""


@dataclass(frozen=True)
class PeerInfo:
    host: str
    """The peer's address, link-local with its scope (``fe80::2%eth1``)."""
    port: int
    tls: bool
    peer_certificate_der: bytes | None
    """The vehicle's leaf in mutual TLS, else None."""
    connection_id: int

    def label(self) -> str:
        return f"[{self.host}]:{self.port}"


class Reply(NamedTuple):
    payload: bytes
    payload_type: int | None = None
    """None: the request's payload type (every -20 response shares its request's namespace)."""
    close_after: bool = False
    """Send, then close the connection (a FAILED_* response, SessionStop)."""


class ConnectionHandler(Protocol):
    async def on_message(self, payload_type: int, payload: bytes) -> bytes | Reply | None:
        """The reply to one request; None closes the connection without an answer."""
        ...

    def on_closed(self, reason: str) -> None:
        """Called exactly once when the connection ends, with the reason."""
        ...


@dataclass
class TransportCounters:
    """Counts of the transport, shared by the servers and the SDP responder."""

    connections: int = 0
    refused_busy: int = 0
    tls_handshakes: int = 0
    tls_handshake_failures: int = 0
    wrong_version: int = 0
    wrong_inverse: int = 0
    unknown_payload_type: int = 0
    too_long: int = 0
    truncated: int = 0
    message_timeouts: int = 0
    idle_timeouts: int = 0
    peer_closed: int = 0
    messages_in: int = 0
    messages_out: int = 0
    handler_errors: int = 0
    sdp_requests: int = 0
    sdp_responses: int = 0
    sdp_dropped: int = 0

    def count(self, name: str, n: int = 1) -> None:
        setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class SessionGate:
    """One V2G session per charger, across the TLS and the plain TCP server."""

    def __init__(self) -> None:
        self.active: PeerInfo | None = None


@dataclass(frozen=True)
class ServerConfig:
    host: str = "::"
    port: int = 0
    """0: a free port of the dynamic range 49152..65535, as ISO 15118 requires of the SECC's
    TCP port (Josev's EVCC ignores an SDP answer outside it; Linux's own ephemeral range
    starts at 32768); read :attr:`V2gServer.port` and announce it by SDP."""
    max_payload_bytes: int = v2gtp.DEFAULT_MAX_PAYLOAD_BYTES
    message_timeout_s: float = 2.0
    idle_timeout_s: float = 60.0
    tls: ssl.SSLContext | None = None
    tls_handshake_timeout_s: float = 5.0


def _peer_host(sockname: tuple[object, ...]) -> tuple[str, int]:
    host = str(sockname[0])
    port = int(str(sockname[1]))
    if host.startswith("::ffff:"):
        host = host[len("::ffff:") :]
    if len(sockname) >= 4 and "%" not in host and int(str(sockname[3])):
        try:
            host = f"{host}%{socket.if_indextoname(int(str(sockname[3])))}"
        except OSError:
            host = f"{host}%{sockname[3]}"
    return host, port


class V2gServer:
    """Accepts V2G connections and runs a handler per connection."""

    def __init__(
        self,
        config: ServerConfig,
        handler_factory: Callable[[PeerInfo], ConnectionHandler],
        *,
        counters: TransportCounters | None = None,
        gate: SessionGate | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self._config = config
        self._factory = handler_factory
        self._counters = counters if counters is not None else TransportCounters()
        self._gate = gate if gate is not None else SessionGate()
        self._log = log or LOG
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.Task[None]] = set()

    @property
    def counters(self) -> TransportCounters:
        return self._counters

    @property
    def gate(self) -> SessionGate:
        return self._gate

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        host = self._config.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        if self._config.port:
            self._server = await asyncio.start_server(
                self._accept, host=host, port=self._config.port, family=family
            )
            return
        for attempt in range(DYNAMIC_PORT_ATTEMPTS):
            port = random.randint(DYNAMIC_PORTS[0], DYNAMIC_PORTS[1])
            try:
                self._server = await asyncio.start_server(
                    self._accept, host=host, port=port, family=family
                )
                return
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == DYNAMIC_PORT_ATTEMPTS - 1:
                    raise

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._live):
            task.cancel()
        if self._live:
            await asyncio.gather(*self._live, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._live.add(task)
        try:
            await self._connection(reader, writer)
        except asyncio.CancelledError:
            pass  # close(): asyncio 3.11 logs a cancelled client_connected_cb task as an error
        finally:
            self._live.discard(task)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = _peer_host(writer.get_extra_info("peername"))
        conn_id = next(_CONNECTION_IDS)
        tls = self._config.tls is not None
        self._counters.count("connections")
        label = f"[{host}]:{port}"
        if self._gate.active is not None:
            self._counters.count("refused_busy")
            self._log.warning(
                "Refused connection from %s: a session with %s is active",
                label,
                self._gate.active.label(),
            )
            await _close(writer)
            return
        self._log.info("Incoming connection from %s", label)
        placeholder = PeerInfo(host, port, tls, None, conn_id)
        self._gate.active = placeholder
        try:
            peer_cert = None
            if self._config.tls is not None:
                try:
                    await writer.start_tls(
                        self._config.tls,
                        ssl_handshake_timeout=self._config.tls_handshake_timeout_s,
                    )
                except (ssl.SSLError, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    self._counters.count("tls_handshake_failures")
                    self._log.warning("TLS handshake with %s failed: %s", label, _tls_reason(exc))
                    await _close(writer)
                    return
                self._counters.count("tls_handshakes")
                ssl_obj = writer.get_extra_info("ssl_object")
                if ssl_obj is not None:
                    peer_cert = ssl_obj.getpeercert(binary_form=True)
            peer = dataclasses.replace(placeholder, peer_certificate_der=peer_cert)
            self._gate.active = peer
            await self._session(peer, reader, writer)
        finally:
            if self._gate.active is not None and self._gate.active.connection_id == conn_id:
                self._gate.active = None

    async def _session(
        self, peer: PeerInfo, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        cfg = self._config
        handler = self._factory(peer)
        reason = "handler closed"
        try:
            while True:
                try:
                    frame = await v2gtp.read_message(
                        reader,
                        max_payload_bytes=cfg.max_payload_bytes,
                        message_timeout_s=cfg.message_timeout_s,
                        idle_timeout_s=cfg.idle_timeout_s,
                    )
                except v2gtp.PeerClosed:
                    self._counters.count("peer_closed")
                    reason = "peer closed"
                    return
                except v2gtp.V2gtpError as exc:
                    self._counters.count(exc.counter)
                    reason = f"{type(exc).__name__}: {exc}"
                    self._log.warning("Closed connection from %s: %s", peer.label(), reason)
                    return
                except (ConnectionError, ssl.SSLError) as exc:
                    self._counters.count("truncated")
                    reason = f"connection lost: {exc}"
                    self._log.warning("Closed connection from %s: %s", peer.label(), reason)
                    return
                self._counters.count("messages_in")
                try:
                    answer = await handler.on_message(frame.payload_type, frame.payload)
                except Exception as exc:  # a bug in the handler ends this session only
                    self._counters.count("handler_errors")
                    reason = f"handler failed: {type(exc).__name__}: {exc}"
                    self._log.exception("Session with %s failed", peer.label())
                    return
                if answer is None:
                    return
                if isinstance(answer, bytes):
                    answer = Reply(answer)
                pt = frame.payload_type if answer.payload_type is None else answer.payload_type
                try:
                    writer.write(v2gtp.encode(pt, answer.payload))
                    await writer.drain()
                except (ConnectionError, ssl.SSLError) as exc:
                    reason = f"connection lost: {exc}"
                    return
                self._counters.count("messages_out")
                if answer.close_after:
                    return
        except asyncio.CancelledError:
            reason = "server stopping"
            raise
        finally:
            try:
                handler.on_closed(reason)
            except Exception:
                self._log.exception("on_closed of the session with %s failed", peer.label())
            await _close(writer)


def _tls_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    if isinstance(exc, TimeoutError):
        return "no handshake within the timeout"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)
