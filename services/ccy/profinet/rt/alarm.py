# SPDX-License-Identifier: Apache-2.0
"""Alarms over RTA (IEC 61158-6-10 "Alarm protocol machines"), pure: every input carries its
time, every output is a list of frame payloads (after the Ethertype) to send.

RTA-PDU: AlarmDstEndpoint, AlarmSrcEndpoint, PDUType (version 1, type DATA 1 / NACK 2 /
ACK 3 / ERR 4), AddFlags (WindowSize 1, TACK), SendSeqNum, AckSeqNum, VarPartLen, VarPart.
Sequence numbers run 0..0x7FFF; the initial values are 0xFFFF (last sent) and 0xFFFE (last
acknowledged), so the first DATA carries 0. Window size 1: one DATA in flight per endpoint,
retransmitted every RTATimeoutFactor × 100 ms, at most RTARetries times; then the AR is
aborted (ALARM_SEND_NEG). Each received DATA is acknowledged with an ACK; a DATA that repeats
the last one is acknowledged again and not delivered twice.

The notification carries an AlarmNotification block (0x0001 high, 0x0002 low priority) with
a ChannelDiagnosis (UserStructureIdentifier 0x8000); the controller's application answers
with an AlarmAck block (0x8001/0x8002) in a DATA of its own. An ERR PDU carries a PNIOStatus:
it ends the AR (our abort, e.g. DHT expired, or the controller's).
"""

import struct
from dataclasses import dataclass, field

from ccy.profinet.rpc.status import PnioStatus
from ccy.profinet.rpc.wire import block

FRAME_ID_HIGH = 0xFC01
FRAME_ID_LOW = 0xFE01
PDU_DATA = 1
PDU_NACK = 2
PDU_ACK = 3
PDU_ERR = 4
RTA_VERSION = 1
TACK = 0x10
WINDOW_SIZE = 1
SEQ_MASK = 0x7FFF
SEQ_INITIAL = 0xFFFF
ACK_INITIAL = 0xFFFE
RTA_HEADER_LEN = 12

ALARM_NOTIFICATION_HIGH = 0x0001
ALARM_NOTIFICATION_LOW = 0x0002
ALARM_ACK_HIGH = 0x8001
ALARM_ACK_LOW = 0x8002
ALARM_TYPE_DIAGNOSIS = 0x0001
ALARM_TYPE_PROCESS = 0x0002
ALARM_TYPE_DIAGNOSIS_DISAPPEARS = 0x000C
USI_CHANNEL_DIAGNOSIS = 0x8000
CHANNEL_WHOLE_SUBMODULE = 0x8000
SPECIFIER_APPEARS = 1
SPECIFIER_DISAPPEARS = 2
SPECIFIER_DISAPPEARS_OTHERS_REMAIN = 3


class AlarmError(ValueError):
    """A malformed RTA-PDU or alarm block."""


@dataclass(frozen=True)
class RtaPdu:
    dst: int
    src: int
    pdu_type: int
    add_flags: int
    send_seq: int
    ack_seq: int
    var_part: bytes = b""

    def encode(self, frame_id: int) -> bytes:
        return (
            struct.pack(
                ">HHHBBHHH",
                frame_id,
                self.dst,
                self.src,
                RTA_VERSION << 4 | self.pdu_type,
                self.add_flags,
                self.send_seq,
                self.ack_seq,
                len(self.var_part),
            )
            + self.var_part
        )


def decode_rta(payload: bytes) -> tuple[int, RtaPdu]:
    """Payload after the Ethertype → FrameID and PDU (padding after VarPart ignored)."""
    if len(payload) < 2 + RTA_HEADER_LEN:
        raise AlarmError(f"RTA frame of {len(payload)} bytes is too short")
    frame_id, dst, src, ptype, flags, send, ack, var_len = struct.unpack_from(">HHHBBHHH", payload)
    if frame_id not in (FRAME_ID_HIGH, FRAME_ID_LOW):
        raise AlarmError(f"FrameID 0x{frame_id:04X} is not an alarm")
    if ptype >> 4 != RTA_VERSION or not PDU_DATA <= ptype & 0xF <= PDU_ERR:
        raise AlarmError(f"PDUType 0x{ptype:02X}")
    if 2 + RTA_HEADER_LEN + var_len > len(payload):
        raise AlarmError(f"VarPartLen {var_len} exceeds the frame")
    var = payload[2 + RTA_HEADER_LEN : 2 + RTA_HEADER_LEN + var_len]
    return frame_id, RtaPdu(dst, src, ptype & 0xF, flags, send, ack, bytes(var))


@dataclass(frozen=True)
class Notification:
    """One alarm (AlarmNotification block)."""

    alarm_type: int
    slot: int
    subslot: int
    module_ident: int
    submodule_ident: int
    specifier: int
    """AlarmSpecifier without the sequence number bits (those are set when sent)."""
    user_data: bytes = b""
    """UserStructureIdentifier and its data."""
    api: int = 0

    def encode(self, high: bool, sequence: int) -> bytes:
        body = struct.pack(
            ">HIHHIIH",
            self.alarm_type,
            self.api,
            self.slot,
            self.subslot,
            self.module_ident,
            self.submodule_ident,
            (self.specifier & ~0x7FF) | (sequence & 0x7FF),
        )
        block_type = ALARM_NOTIFICATION_HIGH if high else ALARM_NOTIFICATION_LOW
        return block(block_type, body + self.user_data)


def diagnosis(
    appears: bool,
    slot: int,
    subslot: int,
    module_ident: int,
    submodule_ident: int,
    error_type: int,
    *,
    channel: int = CHANNEL_WHOLE_SUBMODULE,
    others_remain: bool = False,
) -> Notification:
    """A channel diagnosis appearing or disappearing (ChannelProperties: type bit, fault,
    direction manufacturer specific)."""
    if appears:
        spec = SPECIFIER_APPEARS
    else:
        spec = SPECIFIER_DISAPPEARS_OTHERS_REMAIN if others_remain else SPECIFIER_DISAPPEARS
    properties = spec << 11
    user = struct.pack(">HHHH", USI_CHANNEL_DIAGNOSIS, channel, properties, error_type)
    diag_state = appears or others_remain
    specifier = 1 << 11 | (1 << 13 if diag_state else 0) | (1 << 15 if diag_state else 0)
    kind = ALARM_TYPE_DIAGNOSIS if appears else ALARM_TYPE_DIAGNOSIS_DISAPPEARS
    return Notification(kind, slot, subslot, module_ident, submodule_ident, specifier, user)


@dataclass(frozen=True)
class AlarmAck:
    alarm_type: int
    slot: int
    subslot: int
    specifier: int
    status: PnioStatus
    api: int = 0

    def encode(self, high: bool) -> bytes:
        body = (
            struct.pack(
                ">HIHHH", self.alarm_type, self.api, self.slot, self.subslot, self.specifier
            )
            + self.status.encode()
        )
        return block(ALARM_ACK_HIGH if high else ALARM_ACK_LOW, body)


def decode_alarm_block(data: bytes) -> Notification | AlarmAck:
    if len(data) < 6:
        raise AlarmError("alarm block too short")
    block_type, blen = struct.unpack_from(">HH", data)
    body = data[6 : 4 + blen]
    if len(body) != blen - 2:
        raise AlarmError(f"alarm block length {blen} exceeds the data")
    if block_type in (ALARM_NOTIFICATION_HIGH, ALARM_NOTIFICATION_LOW):
        if len(body) < 20:
            raise AlarmError("AlarmNotification too short")
        atype, api, slot, sub, mod, submod, spec = struct.unpack_from(">HIHHIIH", body)
        return Notification(atype, slot, sub, mod, submod, spec, bytes(body[20:]), api)
    if block_type in (ALARM_ACK_HIGH, ALARM_ACK_LOW):
        if len(body) < 16:
            raise AlarmError("AlarmAck too short")
        atype, api, slot, sub, spec = struct.unpack_from(">HIHHH", body)
        return AlarmAck(atype, slot, sub, spec, PnioStatus.decode_from(body[12:16]), api)
    raise AlarmError(f"block 0x{block_type:04X} is not an alarm block")


@dataclass
class _InFlight:
    pdu: RtaPdu
    due: float
    sent: int
    notification: Notification | None


@dataclass
class AlarmStats:
    sent: int = 0
    retransmitted: int = 0
    acked: int = 0
    received: int = 0
    malformed: int = 0


@dataclass
class Delivered:
    """What one input produced: payloads to send, and what the other side told us."""

    send: list[bytes] = field(default_factory=list)
    received: list[Notification | AlarmAck] = field(default_factory=list)
    transport_acked: list[Notification] = field(default_factory=list)
    error: PnioStatus | None = None
    """The peer's ERR PDU (it ended the AR)."""
    failed: bool = False
    """Our DATA went unacknowledged after every retry: abort the AR (ALARM_SEND_NEG)."""


class RtaEndpoint:
    """One alarm endpoint (one priority) between ``local_ref`` and ``remote_ref``."""

    def __init__(
        self,
        local_ref: int,
        remote_ref: int,
        high: bool,
        retransmit_s: float,
        retries: int,
    ) -> None:
        self.local_ref = local_ref
        self.remote_ref = remote_ref
        self.high = high
        self.frame_id = FRAME_ID_HIGH if high else FRAME_ID_LOW
        self.retransmit_s = retransmit_s
        self.retries = retries
        self.send_seq = SEQ_INITIAL
        self.last_received = SEQ_INITIAL
        """SendSeqNum of the last DATA we accepted (0xFFFF: none yet)."""
        self.alarm_sequence = 0
        self.queue: list[Notification | AlarmAck] = []
        self.in_flight: _InFlight | None = None
        self.stats = AlarmStats()
        self.closed = False

    @property
    def _ack_value(self) -> int:
        return ACK_INITIAL if self.last_received == SEQ_INITIAL else self.last_received

    def send(self, item: Notification | AlarmAck, now: float) -> Delivered:
        """Queue an alarm (or, for a controller, an AlarmAck) and send it when the window is
        free."""
        self.queue.append(item)
        out = Delivered()
        self._pump(now, out)
        return out

    def _pump(self, now: float, out: Delivered) -> None:
        if self.in_flight is not None or not self.queue or self.closed:
            return
        item = self.queue.pop(0)
        if isinstance(item, Notification):
            var = item.encode(self.high, self.alarm_sequence)
            self.alarm_sequence = (self.alarm_sequence + 1) & 0x7FF
        else:
            var = item.encode(self.high)
        self.send_seq = (self.send_seq + 1) & SEQ_MASK
        pdu = RtaPdu(
            self.remote_ref, self.local_ref, PDU_DATA, WINDOW_SIZE | TACK, self.send_seq,
            self._ack_value, var,
        )  # fmt: skip
        note = item if isinstance(item, Notification) else None
        self.in_flight = _InFlight(pdu, now + self.retransmit_s, 1, note)
        self.stats.sent += 1
        out.send.append(pdu.encode(self.frame_id))

    def tick(self, now: float) -> Delivered:
        out = Delivered()
        flight = self.in_flight
        if flight is None or now < flight.due or self.closed:
            return out
        if flight.sent > self.retries:
            self.in_flight = None
            self.closed = True
            out.failed = True
            return out
        flight.sent += 1
        flight.due = now + self.retransmit_s
        self.stats.retransmitted += 1
        out.send.append(flight.pdu.encode(self.frame_id))
        return out

    def next_due(self) -> float | None:
        return None if self.in_flight is None else self.in_flight.due

    def receive(self, pdu: RtaPdu, now: float) -> Delivered:
        out = Delivered()
        if pdu.dst != self.local_ref or self.closed:
            return out
        if pdu.pdu_type == PDU_ERR:
            self.closed = True
            self.in_flight = None
            out.error = PnioStatus.decode_from(pdu.var_part[:4].ljust(4, b"\x00"))
            return out
        flight = self.in_flight
        if flight is not None and pdu.ack_seq == flight.pdu.send_seq:
            self.in_flight = None
            self.stats.acked += 1
            if flight.notification is not None:
                out.transport_acked.append(flight.notification)
        if pdu.pdu_type == PDU_DATA:
            expected = (self.last_received + 1) & SEQ_MASK
            if pdu.send_seq == expected:
                self.last_received = pdu.send_seq
                try:
                    if pdu.var_part:
                        out.received.append(decode_alarm_block(pdu.var_part))
                        self.stats.received += 1
                except AlarmError:
                    self.stats.malformed += 1
                out.send.append(self._ack(pdu.send_seq))
            elif pdu.send_seq == self.last_received:  # a repeat: our ACK was lost
                out.send.append(self._ack(pdu.send_seq))
        self._pump(now, out)
        return out

    def _ack(self, seq: int) -> bytes:
        last_sent = self.send_seq
        return RtaPdu(self.remote_ref, self.local_ref, PDU_ACK, WINDOW_SIZE, last_sent, seq).encode(
            self.frame_id
        )

    def error_pdu(self, status: PnioStatus) -> bytes:
        """ERR-RTA-PDU ending the AR with ``status`` (e.g. 0xCF81FD05, DHT expired)."""
        self.closed = True
        return RtaPdu(
            self.remote_ref, self.local_ref, PDU_ERR, WINDOW_SIZE, self.send_seq,
            self._ack_value, status.encode(),
        ).encode(self.frame_id)  # fmt: skip
