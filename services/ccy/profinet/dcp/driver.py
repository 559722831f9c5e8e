# SPDX-License-Identifier: Apache-2.0
"""The thin asyncio side of DCP: frames from the raw socket into the responder core, its
effects out again (delayed sends, the state file, the interface's IP, the unit's callbacks).

Order per Set, as the core lists them: the response leaves first, then the permanent state is
written, then the IP is applied (``ip`` runs in a subprocess; IP changes are applied one
after another in arrival order), then the unit hears of it (``on_name``/``on_ip``/
``on_signal``/``on_reset``). A callback that raises is logged and never reaches the core; a
failed IP change is logged (NetifError) and does not stop DCP.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ccy.profinet.dcp.codec import FRAME_ID_HELLO, FRAME_ID_IDENTIFY_RES, IpParameter
from ccy.profinet.dcp.responder import (
    DcpResponder,
    DcpState,
    Dropped,
    Effect,
    IpSet,
    NameSet,
    ResetRequested,
    Send,
    SignalRequested,
)
from ccy.profinet.dcp.store import DcpStore, StoreCorrupt, StoreError
from ccy.profinet.ethernet import EthernetFrame, FrameIdDispatcher, RawSocket, mac_to_str
from ccy.profinet.netif import NetIf, NetifError

DROP_LOG_INTERVAL_S = 10.0
"""Dropped (malformed, locked) frames are logged at most once per this many seconds per kind."""
HELLO_INTERVAL_S = 1.0


def _noop(_x: object) -> None:
    return None


@dataclass
class DcpCallbacks:
    on_name: Callable[[NameSet], None] = _noop
    on_ip: Callable[[IpSet], None] = _noop
    on_signal: Callable[[SignalRequested], None] = _noop
    """Control/Signal: the unit calls Bsp1.Identify (flash the identification LED)."""
    on_reset: Callable[[ResetRequested], None] = _noop
    on_ip_failed: Callable[[IpParameter, NetifError], None] = field(default=lambda _ip, _exc: None)


def initial_state(
    store: DcpStore,
    configured_name: str,
    configured_ip: IpParameter,
    log: logging.Logger,
    hello_enabled: bool = False,
) -> DcpState:
    """The state at start: the permanent values where stored, else the configured ones. A
    corrupt state file is logged and ignored (the configured values hold)."""
    try:
        stored = store.load()
    except StoreCorrupt as exc:
        log.error("%s; using the configured station name and IP", exc)
        stored = None
    except StoreError as exc:
        log.error("%s; using the configured station name and IP", exc)
        stored = None
    name = configured_name if stored is None or stored.station_name is None else stored.station_name
    ip = configured_ip if stored is None or stored.ip is None else stored.ip
    return DcpState(station_name=name, ip=ip, hello_enabled=hello_enabled)


class DcpDriver:
    def __init__(
        self,
        sock: RawSocket,
        responder: DcpResponder,
        store: DcpStore,
        netif: NetIf | None,
        log: logging.Logger,
        callbacks: DcpCallbacks | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sock = sock
        self.responder = responder
        self.store = store
        self.netif = netif
        self.log = log
        self.callbacks = callbacks or DcpCallbacks()
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ip_queue: asyncio.Queue[tuple[IpParameter, bool]] | None = None
        self._ip_task: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._last_drop_log: dict[str, float] = {}
        self._attached = False
        self.ip_idle = asyncio.Event()
        self.ip_idle.set()

    def start(self, dispatcher: FrameIdDispatcher | None = None) -> asyncio.Task[None]:
        """Start receiving: through ``dispatcher`` (FrameIDs 0xFEFC..0xFEFF; the caller
        attaches it) or, without one, on the socket alone. The returned task applies IP
        changes (hand it to ``ctx.supervise``)."""
        self._loop = asyncio.get_running_loop()
        self._ip_queue = asyncio.Queue()
        self._ip_task = self._loop.create_task(self._ip_worker(), name="dcp-ip")
        if dispatcher is None:
            self.sock.attach(self._loop, self.on_frame)
            self._attached = True
        else:
            dispatcher.register(FRAME_ID_HELLO, FRAME_ID_IDENTIFY_RES, self.on_frame)
        return self._ip_task

    def stop(self) -> None:
        if self._attached:
            self.sock.detach()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._ip_task is not None:
            self._ip_task.cancel()

    def on_frame(self, frame: EthernetFrame) -> None:
        self.stats["frames"] += 1
        self.execute(self.responder.handle(frame, self.clock()))

    def send_hello(self) -> None:
        self._send(self.responder.hello())

    async def send_hellos(self, count: int, interval_s: float = HELLO_INTERVAL_S) -> None:
        """Device initiative at start-up: ``count`` Hello frames ``interval_s`` apart."""
        for i in range(count):
            self.send_hello()
            if i + 1 < count:
                await asyncio.sleep(interval_s)

    def set_alias(self, alias: str | None) -> None:
        """The alias from the LLDP neighbour (``ccy.profinet.lldp.alias_name``)."""
        self.responder.state.alias = alias

    def execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            try:
                self._execute(effect)
            except Exception:  # a listener's bug must not stop DCP
                self.log.exception("DCP effect %s failed", type(effect).__name__)

    def _execute(self, effect: Effect) -> None:
        if isinstance(effect, Send):
            if effect.delay_s > 0 and self._loop is not None:
                handle: asyncio.TimerHandle | None = None

                def fire() -> None:
                    if handle is not None:
                        self._timers.discard(handle)
                    self._send(effect.frame)

                handle = self._loop.call_later(effect.delay_s, fire)
                self._timers.add(handle)
            else:
                self._send(effect.frame)
        elif isinstance(effect, NameSet):
            self._persist(lambda: self.store.save_name(effect.name if effect.permanent else None))
            self.log.info(
                "DCP set station name: %s (%s) by %s",
                effect.name or "(none)",
                "permanent" if effect.permanent else "temporary",
                mac_to_str(effect.source),
            )
            self.callbacks.on_name(effect)
        elif isinstance(effect, IpSet):
            self._persist(lambda: self.store.save_ip(effect.ip if effect.permanent else None))
            if self.netif is not None and self._ip_queue is not None:
                self.ip_idle.clear()
                self._ip_queue.put_nowait((effect.ip, effect.permanent))
            self.callbacks.on_ip(effect)
        elif isinstance(effect, SignalRequested):
            self.log.info("DCP signal request from %s", mac_to_str(effect.source))
            self.callbacks.on_signal(effect)
        elif isinstance(effect, ResetRequested):
            self.log.warning(
                "DCP reset to factory (%s) by %s", effect.mode.name.lower(),
                mac_to_str(effect.source),
            )  # fmt: skip
            self.callbacks.on_reset(effect)
        elif isinstance(effect, Dropped):
            self._dropped(effect)

    def _send(self, frame: bytes) -> None:
        try:
            self.sock.send(frame)
            self.stats["sent"] += 1
        except OSError as exc:
            self.stats["send_failed"] += 1
            self.log.warning("DCP send on %s failed: %s", self.sock.interface, exc.strerror)

    def _persist(self, save: Callable[[], None]) -> None:
        try:
            save()
        except StoreError as exc:
            self.log.error("%s", exc)

    def _dropped(self, effect: Dropped) -> None:
        self.stats[f"dropped_{effect.reason}"] += 1
        if effect.reason == "NoMatch":
            return  # an Identify for another device: normal traffic
        now = self.clock()
        last = self._last_drop_log.get(effect.reason)
        if last is None or now - last >= DROP_LOG_INTERVAL_S:
            self._last_drop_log[effect.reason] = now
            self.log.warning(
                "DCP frame ignored (%s): %s (%d so far)",
                effect.reason, effect.detail, self.stats[f"dropped_{effect.reason}"],
            )  # fmt: skip

    async def _ip_worker(self) -> None:
        queue = self._ip_queue
        assert queue is not None  # set by start() before this task exists
        while True:
            ip, permanent = await queue.get()
            if self.netif is not None:
                try:
                    await self.netif.apply(ip, permanent, self.responder.state.station_name)
                except NetifError as exc:
                    self.stats["ip_failed"] += 1
                    try:
                        self.callbacks.on_ip_failed(ip, exc)
                    except Exception:
                        self.log.exception("on_ip_failed listener failed")
            if queue.empty():
                self.ip_idle.set()
