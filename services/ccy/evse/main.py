# SPDX-License-Identifier: Apache-2.0
"""ccy-evse: the charging session of the DC/MCS connector (org.ccy.Evse on the system bus).

The glue around the pure core (:mod:`ccy.evse.core`). Every input — a peer's
PropertiesChanged, a peer appearing or vanishing, an Evse1 call, the tick — runs as
*snapshot → core call → effects → diff*: the :class:`StatePublisher` emits one
PropertiesChanged per interface; effects go out in the core's order (power withdrawn first):
Bsp1 and PowerStage1 calls (SetTarget with NO_REPLY_EXPECTED, never awaited), Evse1 signals,
records and session-log lines (ccy.evse.recorder).

The session log gets, besides the core's lines, every unit's Errors1 raise/clear and
ccy-v2g's V2gMessage signals (ccy.evse.recorder); ccy-v2g and ccy-auth are only watched.

Stop (SIGTERM): inputs are dropped from the first moment (so nothing can switch the stage on
again behind the Off), power is withdrawn (stage Off, contactor open), then the bus is
closed, then the records: an input arriving late (a call, a signal, a peer's reply) is
dropped quietly, counted in one debug line; calls get org.ccy.Error.NotReady.

Start-up: open the records (unfinished transactions closed with PowerLoss: "Cleaning up any
other transaction on start up"; a corrupt or too new database ends the unit with 78, a locked
or unopenable one with 69, each one line), export Evse1 + Errors1, watch org.ccy.Bsp and
org.ccy.Profinet, own org.ccy.Evse. READY=1 does not wait for the peers (contracts.md):
WaitingFor says what is missing, "Ready to start charging" is logged once nothing is.
"""

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from dbus_fast.aio import MessageBus

from ccy.evse.contract import BUS_NAME, OBJECT_PATH, UNIT
from ccy.evse.core import EvseCore
from ccy.evse.dbus_iface import SIGNALS, EvseInterface
from ccy.evse.effects import (
    BspCall,
    Effect,
    Emit,
    RecordSessionFinished,
    Refused,
    StageMode,
    StageSelfTest,
    StageTarget,
)
from ccy.evse.peers import BSP, PEERS, STAGE, V2G, Peer, Peers
from ccy.evse.properties import EVSE_TABLE
from ccy.evse.recorder import ENABLED_KEY, ActiveRow, Recorder
from ccy.evse.records import POWER_LOSS_REASON, RecordsError, RecordStore, database_path
from ccy.evse.session_log import SessionLogs, sessions_dir
from ccy.evse.settings import EvseSettings
from ccy.evse.wording import CLEANUP
from ccy.runtime import bus, notify
from ccy.runtime.clock import clock_synchronized
from ccy.runtime.errors import ActiveError, ErrorRegistry, now_us
from ccy.runtime.errors_iface import ErrorsInterface, publish_errors
from ccy.runtime.heap import release_free_heap_soon
from ccy.runtime.service import UnitContext, run_unit
from ccy.runtime.state import StateDiff, StatePublisher

TICK_PERIOD_S = 0.05
STALE_TICKS = 20
DISCONNECT_WAIT_S = 2.0
"""Bound on the bus connection's close at stop (a failure bound)."""
STOPPING = "ccy-evse is stopping"
V2G_VANISHED = "ccy-v2g vanished"


class EvseUnit:
    def __init__(self, ctx: UnitContext) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.settings = s = EvseSettings.from_section(ctx.config.section("evse"), ctx.paths)
        self.errors = ErrorRegistry(ctx.log)
        self.store = self._open_records()
        enabled = self.store.get(ENABLED_KEY) != "false"
        now = time.monotonic()
        self.core = EvseCore(
            s,
            self.errors,
            ctx.log,
            now,
            enabled,
            time.time() - now,
            clock_synchronized=clock_synchronized(),
        )
        self.logs = SessionLogs(
            sessions_dir(ctx.paths), s.session_log_max_count, s.session_log_max_bytes
        )
        self._close_unfinished_log()
        self.recorder = Recorder(self.store, self.logs, self.errors, ctx.log)
        self.iface = EvseInterface(lambda: self.core.state, self, ctx.log)
        self.errors_iface = ErrorsInterface(self.errors, emit_active=False)
        self.publisher = StatePublisher(ctx.log)
        self.publisher.add(EVSE_TABLE, lambda: self.core.state, self.iface.emit_properties_changed)
        publish_errors(self.publisher, self.errors, self.errors_iface)
        self.publisher.listen(self._status)
        self.errors.on_raised.append(self._own_raised)
        self.errors.on_cleared.append(self._own_cleared)
        self.bus: MessageBus | None = None
        self.peers: Peers | None = None
        self._last_tick = now
        self._tasks: list[asyncio.Task[Any]] = []
        self.stopping = False
        """Set when stop begins: every input from then on is dropped."""
        self.dropped = 0
        """Inputs dropped while stopping."""
        self._deferred: list[Callable[[], None]] | None = None
        """Error-history writes of the input running now (None: no input runs)."""

    def _open_records(self) -> RecordStore:
        path = database_path(self.ctx.paths)
        try:
            store = RecordStore.open(path, now_us())
        except RecordsError as exc:
            self.log.critical("Not starting: %s", exc)
            raise SystemExit(exc.exit_code) from None
        self.log.info("%s", CLEANUP)
        for tx in store.closed_on_open:
            self.log.warning(
                "Transaction %s of session %s closed with reason PowerLoss",
                tx.transaction_id,
                tx.session_id,
            )
        return store

    def _close_unfinished_log(self) -> None:
        """The session log a killed or stopped run left open gets its end, as its row did."""
        try:
            name = self.logs.close_unfinished(now_us(), POWER_LOSS_REASON)
        except OSError as exc:
            self.log.warning("The last session log could not be closed: %s", exc)
            return
        if name is not None:
            self.log.warning("Session log %s closed with reason %s", name, POWER_LOSS_REASON)

    # ---------------------------------------------------------------- inputs
    def _late(self) -> bool:
        """True (and counted) when the unit is stopping: the input is dropped."""
        if self.stopping:
            self.dropped += 1
        return self.stopping

    def call(self, name: str, *args: Any) -> Any:
        """One input: the core's method ``name`` with the time first; effects applied."""
        if self._late():
            raise Refused("NotReady", STOPPING)
        now = time.monotonic()
        with self.publisher.input():
            self._deferred = []
            try:
                return getattr(self.core, name)(now, *args)
            except Refused:
                raise
            finally:
                deferred, self._deferred = self._deferred, None
                self._apply(self.core.drain())  # power withdrawn first ...
                for write in deferred:  # ... then the error history written
                    write()

    def list_transactions(self, limit: int) -> list[list[Any]]:
        """Evse1.ListTransactions: the newest ``limit`` transactions, newest first."""
        if self._late():
            raise Refused("NotReady", STOPPING)
        return [t.as_struct() for t in self.store.last_transactions(limit)]

    def list_errors(self, since_s: float, limit: int) -> list[list[Any]]:
        """Evse1.ListErrors: errors raised at or after ``since_s`` (epoch), newest first."""
        if self._late():
            raise Refused("NotReady", STOPPING)
        return [e.as_struct() for e in self.store.last_errors(limit, round(since_s * 1e6))]

    def _event(self, name: str, *args: Any) -> None:
        if self._late():
            return
        try:
            self.call(name, *args)
        except Exception as exc:
            self.ctx.supervisor.fail(f"ccy-evse core failed on {name}: {exc!r}", exc)

    def _apply(self, effects: list[Effect]) -> None:
        for e in effects:
            if isinstance(e, StageTarget):
                if self.peers is not None:
                    self.peers.send_no_reply(STAGE, "SetTarget", "dd", [e.voltage, e.current])
            elif isinstance(e, StageMode):
                self._peer_call(STAGE, "SetMode", "s", [e.mode])
            elif isinstance(e, StageSelfTest):
                self._peer_call(STAGE, "StartSelfTest", "", [])
            elif isinstance(e, BspCall):
                self._peer_call(BSP, e.method, "b" if isinstance(e.arg, bool) else "s", [e.arg])
            elif isinstance(e, Emit):
                SIGNALS[e.name](self.iface, *e.args)
            else:
                self.recorder.apply(e)
                if isinstance(e, RecordSessionFinished):
                    # a session leaves glibc's heap fragmented (the soak's RSS creep)
                    release_free_heap_soon()

    def _peer_call(self, peer: Peer, member: str, signature: str, body: list[Any]) -> None:
        if self.peers is None:
            return
        peers = self.peers

        async def run() -> None:
            failed = await peers.call(peer, member, signature, body)
            if failed is not None:
                iface = peer.iface.removeprefix("org.ccy.")
                self._event("on_call_failed", f"{iface}.{member}", failed)

        self._spawn(run(), f"{peer.unit}-{member}")

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> "asyncio.Task[Any]":
        task = asyncio.get_running_loop().create_task(coro, name=name)
        return self.ctx.supervise(task)

    # ---------------------------------------------------------------- peers
    def _on_present(self, peer: Peer, present: bool, props: dict[str, Any]) -> None:
        if peer in PEERS:
            self._event("on_bsp_presence" if peer is BSP else "on_stage_presence", present, props)
        elif peer is V2G and not present:
            # The V2G session's binder is gone (killed, crashed): nobody speaks for the
            # vehicle any more, so power is withdrawn as for a dropped connection (VehicleLost).
            self._event("end_v2g_session", V2G_VANISHED)
        if not present and not self._late():
            self.recorder.errors_now(peer.unit, (), now_us())

    def _on_props(self, peer: Peer, props: dict[str, Any]) -> None:
        self._event("on_bsp" if peer is BSP else "on_stage", props)

    def _on_errors(self, peer: Peer, active: list[ActiveRow]) -> None:
        self._event("on_peer_errors", peer.unit, [(e[0], e[1], e[2]) for e in active])
        if not self._late():
            self.recorder.errors_now(peer.unit, active, now_us())

    def _on_history(self, peer: Peer, kind: str, body: list[Any]) -> None:
        if self._late():
            return
        if kind == "Raised":
            t, sub, sev, msg, at = body
            self.recorder.error_raised(peer.unit, t, sub, sev, msg, int(at))
        else:
            t, sub, at = body
            self.recorder.error_cleared(peer.unit, t, sub, int(at))

    def _on_v2g(self, body: list[Any]) -> None:
        if self._late():
            return
        direction, name, text, exi_hex = body
        self.recorder.v2g_message(direction, name, text, exi_hex, now_us())

    def _record(self, write: Callable[[], None]) -> None:
        """An error-history write of ccy-evse's own: inside an input it waits until the
        input's effects went out (a stop's Off and contactor request before any disk write)."""
        if self._deferred is not None:
            self._deferred.append(write)
        else:
            write()

    def _own_raised(self, err: ActiveError) -> None:
        if not self._late():
            self._record(
                lambda: self.recorder.error_raised(
                    UNIT, err.type, err.subtype, str(err.severity), err.message, err.raised_us
                )
            )

    def _own_cleared(self, err: ActiveError, at_us: int) -> None:
        if not self._late():
            self._record(lambda: self.recorder.error_cleared(UNIT, err.type, err.subtype, at_us))

    # ---------------------------------------------------------------- loops
    async def _tick_loop(self) -> None:
        while not self.stopping:
            await asyncio.sleep(TICK_PERIOD_S)
            if self.stopping:
                return
            self._last_tick = now = time.monotonic()
            self.call("tick", time.time() - now, clock_synchronized())
            if self.store.health().pending:
                self.store.retry_pending()

    def healthy(self) -> bool:
        fresh = time.monotonic() - self._last_tick < STALE_TICKS * TICK_PERIOD_S
        return fresh and self.core.healthy()

    def _status(self, diff: StateDiff) -> None:
        if diff.touches("State", "WaitingFor"):
            notify.status(self.status_text())

    def status_text(self) -> str:
        st = self.core.state
        if st.waiting_for:
            return "waiting for " + ", ".join(st.waiting_for)
        return f"{st.state}" + (f", session {st.session_id}" if st.session_id else "")

    # ---------------------------------------------------------------- unit
    async def start(self) -> None:
        self.bus = b = await bus.connect_system_bus()
        b.export(OBJECT_PATH, self.iface)
        b.export(OBJECT_PATH, self.errors_iface)
        self.peers = Peers(
            b,
            self.log,
            self._on_present,
            self._on_props,
            self._on_errors,
            self._on_history,
            self._spawn,
            self._on_v2g,
        )
        await self.peers.start()
        await bus.own_name(b, BUS_NAME)
        for coro, name in ((self._tick_loop(), "tick"), (_bus_connection(b), "bus-connection")):
            task = asyncio.get_running_loop().create_task(coro, name=name)
            self._tasks.append(task)
            self.ctx.supervise(task, forever=True)

    async def stop(self) -> None:
        """Drop inputs from now on, withdraw power (stage Off, contactor open), close the
        bus, then the records. Dropping comes first because it is one assignment and costs
        the Off nothing: it goes out next, and no call arriving meanwhile can switch the
        stage on again behind it."""
        self.stopping = True
        peers, b = self.peers, self.bus
        if peers is not None and b is not None and b.connected:
            with contextlib.suppress(Exception):
                await asyncio.gather(
                    peers.call(STAGE, "SetMode", "s", ["Off"]),
                    peers.call(BSP, "AllowPowerOn", "b", [False]),
                )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.recorder.folder is not None:  # the session's log says why it ends here
            self.recorder.folder.event("unit_stopping", now_us(), why=STOPPING)
        if peers is not None:
            peers.close()
        if b is not None:
            b.disconnect()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(b.wait_for_disconnect(), DISCONNECT_WAIT_S)  # type: ignore[no-untyped-call]
        if self.dropped:
            self.log.debug("Stopping: %d late input(s) dropped", self.dropped)
        with contextlib.suppress(Exception):
            self.store.close()


async def _bus_connection(b: MessageBus) -> None:
    # Shielded: cancelling this task at stop must not cancel the bus's own disconnect future,
    # which stop() awaits after closing the connection.
    await asyncio.shield(b.wait_for_disconnect())  # type: ignore[no-untyped-call]
    raise ConnectionError("the system bus connection was lost")


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run_unit("ccy-evse", EvseUnit, argv))


if __name__ == "__main__":
    main()
_ = logging
