# SPDX-License-Identifier: Apache-2.0
"""IoDevice: the Profinet IO device the unit composes — the CM core on UDP 34964, the cyclic
provider thread and consumer, the data-hold watchdog and the alarm endpoints of the one AR.

The unit gives it a frame link (``send(bytes)`` + ``mac``; received 0x8892 frames come in
through ``on_frame``, see ``register``), the real configuration and I&M data, and a listener.
Every listener call runs on the asyncio loop. When an AR that exchanged data ends — DHT
expired, Release, abort, a new Connect replacing it — ``on_ar_state("Aborted"|"Released")`` is
the first thing that happens (the unit switches the power stage Off inside it); only then is
the ERR-RTA-PDU sent and the provider stopped.
"""

import asyncio
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ccy.profinet.rpc.device import (
    LOCAL_ALARM_REFERENCE,
    AppReadyConfirmed,
    Ar,
    ArEnded,
    Connected,
    Event,
    ImChanged,
    PrmEnd,
    Refused,
    RpcDevice,
)
from ccy.profinet.rpc.model import IO_SLOT, IO_SUBSLOT, DeviceModel
from ccy.profinet.rpc.record_access import WriteHook
from ccy.profinet.rpc.records import ImData
from ccy.profinet.rpc.status import AbortReason, abort
from ccy.profinet.rpc.udp import RpcServer
from ccy.profinet.rt import alarm
from ccy.profinet.rt.cyclic import (
    ConsumerStats,
    CyclicConsumer,
    CyclicSender,
    SenderStats,
    use_short_gil_slices,
)
from ccy.profinet.rt.frames import (
    DS_GOOD,
    IOXS_BAD,
    IOXS_GOOD,
    CrLayout,
    build_c_sdu,
    encode_payload,
    layout,
)

ETH_P_PROFINET = 0x8892
ETH_P_VLAN = 0x8100
RT_PRIORITY = 6
ALARM_LOW_PRIORITY = 5
ALARM_HIGH_PRIORITY = 6
MIN_FRAME_LEN = 60
STARTUP_S = 10.0
"""Time after the Connect for the controller's first cyclic frame (the watchdog then runs on
DataHoldFactor × cycle)."""
FRAME_IDS_CYCLIC = (0x0100, 0xFBFF)
FRAME_IDS_ALARM = (alarm.FRAME_ID_HIGH, alarm.FRAME_ID_LOW)


class AlarmTarget(Protocol):
    def register(self, first: int, last: int, handler: Callable[..., None]) -> None: ...


class FrameLink(Protocol):
    """What IoDevice needs to send frames (ccy.profinet.ethernet.RawSocket fits)."""

    @property
    def mac(self) -> bytes: ...

    def send(self, frame: bytes) -> None: ...


class ReceivedFrame(Protocol):
    """A received frame (ccy.profinet.ethernet.EthernetFrame fits)."""

    @property
    def src(self) -> bytes: ...

    @property
    def ethertype(self) -> int: ...

    @property
    def payload(self) -> bytes: ...


class IoListener(Protocol):
    """What the unit implements. It may also have ``on_data_lost(reason: str)``: called first,
    before ``on_ar_state``, when an IO AR ends (v1 of the API note; both work)."""

    def on_ar_state(self, state: str, arep: int, reason: str) -> None:
        """States: Connected, PrmEnd, DataExchange, Aborted, Released."""

    def on_output(self, data: bytes, valid: bool) -> None:
        """The PLC's output data of slot 1/1 (when it or its validity changed)."""


@dataclass
class CycleStats:
    frames_sent: int = 0
    frames_received: int = 0
    frames_accepted: int = 0
    dropped_length: int = 0
    dropped_stale: int = 0
    dropped_frame_id: int = 0
    dropped_foreign: int = 0
    """Cyclic or alarm frames from another MAC than the AR's controller."""
    skipped_cycles: int = 0
    send_late_max_s: float = 0.0
    dht_expired: int = 0
    cycle_time_s: float = 0.0
    alarms_sent: int = 0
    alarms_acked: int = 0
    last_alarm: str = ""


def _eth_header(dst: bytes, src: bytes, priority: int) -> bytes:
    return dst + src + struct.pack(">HHH", ETH_P_VLAN, priority << 13, ETH_P_PROFINET)


class _Session:
    """What exists while one IO AR exists."""

    def __init__(self, ar: Ar, mac: bytes, now: float) -> None:
        assert ar.input_cr is not None and ar.output_cr is not None
        self.ar = ar
        self.in_layout: CrLayout = layout(ar.input_cr, ar.expected)
        self.out_layout: CrLayout = layout(ar.output_cr, ar.expected)
        self.consumer = CyclicConsumer(self.out_layout, ar.output_cr.hold_s, now)
        self.first_frame = False
        self.connected_at = now
        self.prefix = _eth_header(ar.controller_mac, mac, RT_PRIORITY)
        self.sdu = bytes(self.in_layout.data_length)
        self.sender: CyclicSender | None = None
        self.data_exchange = False
        self.last_output: tuple[bytes, bool] | None = None
        self.alarm_low: alarm.RtaEndpoint | None = None
        self.alarm_high: alarm.RtaEndpoint | None = None
        cr = ar.alarm_cr
        if cr is not None:
            for high in (False, True):
                ep = alarm.RtaEndpoint(
                    LOCAL_ALARM_REFERENCE,
                    cr.local_alarm_reference,
                    high,
                    cr.retransmit_s,
                    cr.rta_retries,
                )
                if high:
                    self.alarm_high = ep
                else:
                    self.alarm_low = ep
            self.alarm_prefix = {
                False: _eth_header(ar.controller_mac, mac, ALARM_LOW_PRIORITY),
                True: _eth_header(ar.controller_mac, mac, ALARM_HIGH_PRIORITY),
            }

    def frame_for(self, cycle: int) -> bytes:
        """Called by the sender thread: reads ``self.sdu`` once (one reference)."""
        return self.prefix + encode_payload(self.in_layout.frame_id, self.sdu, cycle, DS_GOOD)

    def watchdog_deadline(self) -> float:
        if not self.first_frame:
            return self.connected_at + max(STARTUP_S, self.consumer.hold_s)
        return self.consumer.deadline()


class IoDevice:
    def __init__(
        self,
        link: FrameLink,
        model: DeviceModel,
        im: ImData,
        listener: IoListener,
        log: logging.Logger,
        *,
        station_name: Callable[[], str] = lambda: "",
        host_ip: Callable[[], str] = lambda: "0.0.0.0",
        rpc_host: str = "0.0.0.0",
        rpc_port: int = 34964,
        write_hook: WriteHook | None = None,
        on_im_changed: Callable[[ImData], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        record_lateness: bool = False,
    ) -> None:
        self.record_lateness = record_lateness
        """Keep every send's lateness (benchmark only: the list grows with each cycle)."""
        self.link = link
        self.model = model
        self.listener = listener
        self.log = log
        self.clock = clock
        self.on_im_changed = on_im_changed
        self.core = RpcDevice(
            model, im, link.mac, station_name=station_name, host_ip=host_ip, write_hook=write_hook
        )
        self.rpc = RpcServer(self.core, self._events, host=rpc_host, port=rpc_port, clock=clock)
        self.stats = CycleStats()
        self.ar_state = "Idle"
        self._session: _Session | None = None
        self._inputs: bytes = bytes(self._io_input_len())
        self._inputs_good = False
        self._diagnoses: dict[tuple[int, int], str] = {}
        self._watchdog: asyncio.TimerHandle | None = None
        self._alarm_timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._consumed = ConsumerStats()

    def _io_input_len(self) -> int:
        sub = self.model.submodule(IO_SLOT, IO_SUBSLOT)
        return 0 if sub is None else sub.input_length

    # ---- unit API ----------------------------------------------------------------------------

    def register(self, dispatcher: AlarmTarget) -> None:
        """Route received cyclic and alarm frames here (ccy.profinet.ethernet.FrameIdDispatcher)."""
        dispatcher.register(*FRAME_IDS_CYCLIC, self.on_frame)
        dispatcher.register(alarm.FRAME_ID_HIGH, alarm.FRAME_ID_HIGH, self.on_frame)
        dispatcher.register(alarm.FRAME_ID_LOW, alarm.FRAME_ID_LOW, self.on_frame)

    async def start(self) -> None:
        """Bind UDP 34964; from here on the process uses short GIL slices (see
        ccy.profinet.rt.cyclic.use_short_gil_slices) so the provider thread keeps its time."""
        use_short_gil_slices()
        self._loop = asyncio.get_running_loop()
        await self.rpc.start()

    async def stop(self) -> None:
        self.abort("the unit stops", AbortReason.INSTANCE_CLOSED)
        await self.rpc.stop()

    def set_input_data(self, data: bytes, iops_good: bool = True) -> None:
        """The charger's data for the PLC (slot 1/1); the sender thread sends it from the next
        cycle on. A wrong length is refused with ValueError."""
        if len(data) != len(self._inputs):
            raise ValueError(f"input data of {len(data)} bytes, the layout has {len(self._inputs)}")
        self._inputs = bytes(data)
        self._inputs_good = iops_good
        self._rebuild_sdu()

    set_inputs = set_input_data
    """The name in v1 of the API note."""

    def alarm_diagnosis(
        self, appear: bool, error_type: int, slot: int = IO_SLOT, subslot: int = IO_SUBSLOT,
        channel: int = alarm.CHANNEL_WHOLE_SUBMODULE,
    ) -> None:  # fmt: skip
        """v1 of the API note: ``send_diagnosis`` for slot 1/1 (the only IO submodule)."""
        if (slot, subslot) != (IO_SLOT, IO_SUBSLOT):
            raise ValueError(f"diagnosis only on slot {IO_SLOT}/{IO_SUBSLOT}")
        self.send_diagnosis(appear, error_type, channel=channel)

    def abort(
        self, reason: str = "aborted by the unit", code: AbortReason = AbortReason.ABORT_REQUEST
    ) -> None:
        self.rpc.apply(self.core.abort(code, reason))

    def send_diagnosis(
        self,
        appears: bool,
        error_type: int,
        *,
        channel: int = alarm.CHANNEL_WHOLE_SUBMODULE,
        text: str = "",
    ) -> None:
        """A channel diagnosis of slot 1/1 appearing or disappearing (sent at once when an AR
        exchanges data; active ones are sent again to each new AR)."""
        key = (channel, error_type)
        if appears:
            if key in self._diagnoses:
                return
            self._diagnoses[key] = text
        else:
            if key not in self._diagnoses:
                return
            del self._diagnoses[key]
        self.stats.last_alarm = (
            f"{'appears' if appears else 'disappears'} 0x{error_type:04X} {text}".strip()
        )
        session = self._session
        if session is not None and session.data_exchange:
            self._send_alarm(session, appears, channel, error_type)

    def sender_stats(self) -> SenderStats | None:
        """The running AR's provider statistics (None without an IO AR)."""
        session = self._session
        return None if session is None or session.sender is None else session.sender.stats

    # ---- frames ------------------------------------------------------------------------------

    def on_frame(self, frame: ReceivedFrame) -> None:
        session = self._session
        payload = frame.payload
        if session is None or frame.ethertype != ETH_P_PROFINET or len(payload) < 2:
            return
        frame_id = payload[0] << 8 | payload[1]
        if (
            not FRAME_IDS_CYCLIC[0] <= frame_id <= FRAME_IDS_CYCLIC[1]
            and frame_id not in FRAME_IDS_ALARM
        ):
            return
        if frame.src and frame.src != session.ar.controller_mac:
            self.stats.dropped_foreign += 1
            return
        if frame_id in FRAME_IDS_ALARM:
            self._alarm_frame(session, payload)
            return
        now = self.clock()
        self.stats.frames_received += 1
        got = session.consumer.frame(payload, now)
        self._count(session.consumer.stats)
        if got is None:
            return
        if not session.first_frame:
            session.first_frame = True
            self._arm_watchdog()  # from the start-up allowance to the data-hold time
        obj = session.out_layout.find(IO_SLOT, IO_SUBSLOT)
        if obj is None:
            return
        data = got.sdu[obj.offset : obj.offset + obj.length]
        iops = got.sdu[obj.offset + obj.length]
        valid = (
            session.data_exchange
            and iops == IOXS_GOOD
            and got.data_status & DS_GOOD == DS_GOOD
            and self.core.proper(IO_SLOT, IO_SUBSLOT)
        )
        now_output = (bytes(data), valid)
        if now_output != session.last_output:
            session.last_output = now_output
            listener = self.listener
            on_output = getattr(listener, "on_output", None) or getattr(
                listener, "on_outputs", None
            )
            if on_output is not None:
                on_output(*now_output)

    def _count(self, c: ConsumerStats) -> None:
        """Counters since start: those of ended ARs plus the current one's."""
        b = self._consumed
        self.stats.frames_accepted = b.accepted + c.accepted
        self.stats.dropped_length = b.dropped_length + c.dropped_length
        self.stats.dropped_stale = b.dropped_stale + c.dropped_stale
        self.stats.dropped_frame_id = b.dropped_frame_id + c.dropped_frame_id

    def _arm_watchdog(self) -> None:
        """The watchdog is re-armed lazily: it fires at the deadline known when armed and
        re-arms itself when frames came in meanwhile, so a frame costs no timer."""
        session = self._session
        loop = self._loop
        if session is None or loop is None:
            return
        if self._watchdog is not None:
            self._watchdog.cancel()
        # call_at runs on the loop's clock; ours may differ, so convert by offset
        delay = session.watchdog_deadline() - self.clock()
        self._watchdog = loop.call_at(loop.time() + max(delay, 0.0), self._watchdog_fired)

    def _watchdog_fired(self) -> None:
        self._watchdog = None
        session = self._session
        if session is None:
            return
        now = self.clock()
        if now < session.watchdog_deadline():
            self._arm_watchdog()
            return
        self.stats.dht_expired += 1
        self.rpc.apply(self.core.abort(AbortReason.DHT_EXPIRED, "DHT expired"))

    # ---- alarms ------------------------------------------------------------------------------

    def _send_alarm(self, session: _Session, appears: bool, channel: int, error_type: int) -> None:
        ep = session.alarm_low
        if ep is None:
            return
        sub = self.model.submodule(IO_SLOT, IO_SUBSLOT)
        module = self.model.module(IO_SLOT)
        if sub is None or module is None:
            return
        others = bool(self._diagnoses) and not appears
        note = alarm.diagnosis(
            appears, IO_SLOT, IO_SUBSLOT, module.ident, sub.ident, error_type,
            channel=channel, others_remain=others,
        )  # fmt: skip
        self._alarm_out(session, False, ep.send(note, self.clock()))

    def _alarm_frame(self, session: _Session, payload: bytes) -> None:
        try:
            frame_id, pdu = alarm.decode_rta(payload)
        except alarm.AlarmError as exc:
            self.log.debug("alarm frame dropped: %s", exc)
            return
        high = frame_id == alarm.FRAME_ID_HIGH
        ep = session.alarm_high if high else session.alarm_low
        if ep is None:
            return
        out = ep.receive(pdu, self.clock())
        self._alarm_out(session, high, out)
        for item in out.received:
            if isinstance(item, alarm.AlarmAck):
                self.stats.alarms_acked += 1
        if out.error is not None:
            self.rpc.apply(
                self.core.abort(AbortReason.ABORT_REQUEST, f"the PLC aborted the AR ({out.error})")
            )

    def _alarm_out(self, session: _Session, high: bool, out: alarm.Delivered) -> None:
        for payload in out.send:
            self._send(session.alarm_prefix[high] + payload)
        self.stats.alarms_sent = sum(
            ep.stats.sent for ep in (session.alarm_low, session.alarm_high) if ep is not None
        )
        if out.failed:
            self.rpc.apply(self.core.abort(AbortReason.ALARM_SEND_NEG, "alarm not acknowledged"))
            return
        self._arm_alarm_timer(session)

    def _arm_alarm_timer(self, session: _Session) -> None:
        loop = self._loop
        if loop is None:
            return
        dues = [
            d for ep in (session.alarm_low, session.alarm_high) if ep is not None
            for d in (ep.next_due(),) if d is not None
        ]  # fmt: skip
        if self._alarm_timer is not None:
            self._alarm_timer.cancel()
            self._alarm_timer = None
        if dues:
            delay = max(min(dues) - self.clock(), 0.0)
            self._alarm_timer = loop.call_at(loop.time() + delay, self._alarm_tick)

    def _alarm_tick(self) -> None:
        self._alarm_timer = None
        session = self._session
        if session is None:
            return
        now = self.clock()
        for high, ep in ((False, session.alarm_low), (True, session.alarm_high)):
            if ep is not None:
                self._alarm_out(session, high, ep.tick(now))
                if self._session is not session:
                    return

    def _send(self, frame: bytes) -> None:
        if len(frame) < MIN_FRAME_LEN:
            frame += bytes(MIN_FRAME_LEN - len(frame))
        try:
            self.link.send(frame)
        except OSError as exc:
            self.log.warning("cannot send a Profinet frame: %s", exc)

    # ---- AR events ---------------------------------------------------------------------------

    def _events(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, ArEnded):
                self._ended(event)
            elif isinstance(event, Connected):
                self._connected(event.ar)
            elif isinstance(event, PrmEnd):
                self.log.info(
                    "PLC dcontrol message (The PLC is done with parameter writing). AREP: %d"
                    " Command: PRM_END",
                    event.ar.arep,
                )
                self._state("PrmEnd", event.ar.arep, "")
                if event.ar.io:
                    self.log.info(
                        "Application will signal that it is ready for data, for AREP %d",
                        event.ar.arep,
                    )
            elif isinstance(event, AppReadyConfirmed):
                self.log.info(
                    "PLC ccontrol message confirmation (The PLC has received our Application"
                    " Ready message). AREP: %d Status codes: %s",
                    event.ar.arep,
                    event.status,
                )
                if event.status.ok:
                    self._data_exchange()
            elif isinstance(event, ImChanged):
                if self.on_im_changed is not None:
                    self.on_im_changed(event.im)
            elif isinstance(event, Refused):
                self.log.warning("PLC request refused: %s", event.error)

    def _state(self, state: str, arep: int, reason: str) -> None:
        self.ar_state = state
        self.listener.on_ar_state(state, arep, reason)

    def _connected(self, ar: Ar) -> None:
        self.log.info("PLC connect indication. AREP: %d", ar.arep)
        if ar.io:
            session = _Session(ar, self.link.mac, self.clock())
            self._session = session
            self.stats.cycle_time_s = ar.input_cr.cycle_s if ar.input_cr else 0.0
            self._rebuild_sdu()
            cr = ar.input_cr
            assert cr is not None
            session.sender = CyclicSender(
                self._send, session.frame_for, cr.cycle_s, cr.counter_step,
                record=self.record_lateness,
            )  # fmt: skip
            session.sender.start()
            self._arm_watchdog()
        self._state("Connected", ar.arep, f"from {ar.req.station_name} {ar.controller[0]}")

    def _data_exchange(self) -> None:
        session = self._session
        if session is None:
            ar = self.core.ar
            if ar is not None:
                self._state("DataExchange", ar.arep, "")
            return
        session.data_exchange = True
        self._rebuild_sdu()
        self._state("DataExchange", session.ar.arep, "")
        for channel, error_type in list(self._diagnoses):
            self._send_alarm(session, True, channel, error_type)

    def _ended(self, event: ArEnded) -> None:
        session = self._session if self._session and self._session.ar is event.ar else None
        state = "Released" if event.by_release else "Aborted"
        data_lost = getattr(self.listener, "on_data_lost", None)
        if session is not None and data_lost is not None:
            data_lost(event.text)  # power Off first
        self._state(state, event.ar.arep, event.text)
        self.log.warning("AR %d ended: %s", event.ar.arep, event.text)
        if session is None:
            return
        self._session = None
        c, b = session.consumer.stats, self._consumed
        b.accepted += c.accepted
        b.dropped_length += c.dropped_length
        b.dropped_stale += c.dropped_stale
        b.dropped_frame_id += c.dropped_frame_id
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._alarm_timer is not None:
            self._alarm_timer.cancel()
            self._alarm_timer = None
        if session.sender is not None:
            session.sender.stop()
            s = session.sender.stats
            self.stats.frames_sent += s.frames
            self.stats.skipped_cycles += s.skipped
            self.stats.send_late_max_s = max(self.stats.send_late_max_s, s.late_max_s)
        if not event.by_release and session.alarm_low is not None:
            self._send(
                session.alarm_prefix[False] + session.alarm_low.error_pdu(abort(event.reason))
            )

    def _rebuild_sdu(self) -> None:
        session = self._session
        if session is None:
            return
        data: dict[tuple[int, int], tuple[bytes, int]] = {}
        for obj in session.in_layout.data:
            proper = self.core.proper(obj.slot, obj.subslot)
            if (obj.slot, obj.subslot) == (IO_SLOT, IO_SUBSLOT):
                good = proper and session.data_exchange and self._inputs_good
                data[(obj.slot, obj.subslot)] = (self._inputs, IOXS_GOOD if good else IOXS_BAD)
            else:
                data[(obj.slot, obj.subslot)] = (b"", IOXS_GOOD if proper else IOXS_BAD)
        iocs = {
            (slot, sub): IOXS_GOOD if self.core.proper(slot, sub) else IOXS_BAD
            for slot, sub, _ in session.in_layout.iocs
        }
        session.sdu = bytes(build_c_sdu(session.in_layout, data, iocs))
