# SPDX-License-Identifier: Apache-2.0
"""The device's CM (context manager) as a pure core: datagrams in, datagrams and events out.

One AR at a time (IOCARSingle, or a supervisor AR for record access). A Connect from the
controller that owns the AR with a new AR UUID replaces it (the old one is aborted, "re-run"),
one from another controller is refused with CMRPC "out of AR resources". PrmEnd has to arrive
within the controller's CMInitiatorActivityTimeoutFactor × 100 ms (else abort, CMI timeout);
after it the device sends CControl ApplicationReady to the controller (we are the RPC client
there) and retries it; without an answer the AR is aborted with "RPC control error" (0x18),
the code p-net settled on for this case.

Nothing here touches a socket or a clock: the driver (``ccy.profinet.rpc.udp``) feeds
``datagram``/``client_datagram``/``tick`` and sends what they return.
"""

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.config_check import check_layout, module_diff
from ccy.profinet.rpc.connect_blocks import (
    ALARM_CR_BLOCK_REQ,
    AR_BLOCK_REQ,
    AR_TYPE_IOCAR_SINGLE,
    EXPECTED_SUBMODULE_BLOCK_REQ,
    FRAME_ID_ASSIGN,
    IOCR_BLOCK_REQ,
    IOCR_INPUT,
    IOCR_OUTPUT,
    MODULE_STATE_PROPER,
    RT_CLASS_2,
    AlarmCrBlockReq,
    AlarmCrBlockRes,
    ArBlockReq,
    ArBlockRes,
    DiffModule,
    ExpectedSlot,
    IocrBlockReq,
    IocrBlockRes,
    decode_expected,
    encode_module_diff,
)
from ccy.profinet.rpc.dcerpc import Opnum, PType, RpcError, RpcHeader, RpcPdu
from ccy.profinet.rpc.epm import EpmEndpoint, answer_lookup
from ccy.profinet.rpc.model import DeviceModel
from ccy.profinet.rpc.record_access import RecordAccess, WriteHook
from ccy.profinet.rpc.records import (
    CMD_APPLICATION_READY,
    CMD_DONE,
    CMD_PRM_END,
    CMD_RELEASE,
    CONTROL_APP_READY_REQ,
    CONTROL_PRM_END_REQ,
    CONTROL_RELEASE_REQ,
    CONTROL_RES_OFFSET,
    ControlBlock,
    ImData,
)
from ccy.profinet.rpc.status import (
    OK,
    AbortReason,
    Cmdev,
    Cmrpc,
    Code1,
    ErrorCode,
    PnioError,
    PnioStatus,
    pnio,
)
from ccy.profinet.rpc.wire import split_blocks

AREP = 1
"""The single AR's endpoint number (the seed's "AREP: 1")."""
APP_READY_RETRY_S = 1.0
APP_READY_TRIES = 3
OUTPUT_FRAME_ID_RT1 = 0xC010
OUTPUT_FRAME_ID_RT2 = 0x8010
LOCAL_ALARM_REFERENCE = 0x0001
MAX_ALARM_DATA_LENGTH = 200


class ArState(StrEnum):
    IDLE = "Idle"
    PARAMETERIZING = "Parameterizing"
    """Connected, waiting for the controller's writes and PrmEnd."""
    APPLICATION_READY = "ApplicationReady"
    """PrmEnd answered, our ApplicationReady sent, waiting for the controller's answer."""
    DATA = "Data"
    ABORTED = "Aborted"


@dataclass
class Ar:
    ar_uuid: uuid.UUID
    req: ArBlockReq
    controller: tuple[str, int]
    input_cr: IocrBlockReq | None
    output_cr: IocrBlockReq | None
    alarm_cr: AlarmCrBlockReq | None
    expected: list[ExpectedSlot]
    diff: list[DiffModule]
    connected_at: float
    state: ArState = ArState.PARAMETERIZING
    arep: int = AREP
    app_ready_activity: uuid.UUID | None = None
    app_ready_sent: int = 0
    app_ready_due: float = 0.0

    @property
    def session_key(self) -> int:
        return self.req.session_key

    @property
    def controller_mac(self) -> bytes:
        return self.req.initiator_mac

    @property
    def io(self) -> bool:
        return self.req.ar_type == AR_TYPE_IOCAR_SINGLE


@dataclass(frozen=True)
class Connected:
    ar: Ar


@dataclass(frozen=True)
class PrmEnd:
    ar: Ar


@dataclass(frozen=True)
class AppReadyConfirmed:
    ar: Ar
    status: PnioStatus


@dataclass(frozen=True)
class ArEnded:
    ar: Ar
    reason: AbortReason
    text: str
    by_release: bool = False


@dataclass(frozen=True)
class ImChanged:
    im: ImData


@dataclass(frozen=True)
class Refused:
    """A request answered with an error status (for the unit's journal)."""

    error: PnioError


Event = Connected | PrmEnd | AppReadyConfirmed | ArEnded | ImChanged | Refused
Send = tuple[bytes, tuple[str, int]]


@dataclass
class Output:
    replies: list[Send] = field(default_factory=list)
    """Answers to the peer the request came from (from the server port)."""
    client: list[Send] = field(default_factory=list)
    """Our own requests (CControl), sent from the client socket."""
    events: list[Event] = field(default_factory=list)


@dataclass
class RpcCounters:
    requests: int = 0
    rejected: int = 0
    malformed: int = 0
    refused: int = 0


class RpcDevice:
    """The CM core of the IO device."""

    def __init__(
        self,
        model: DeviceModel,
        im: ImData,
        mac: bytes,
        *,
        station_name: Callable[[], str] = lambda: "",
        host_ip: Callable[[], str] = lambda: "0.0.0.0",
        write_hook: WriteHook | None = None,
    ) -> None:
        self.model = model
        self.im = im
        self.mac = mac
        self.station_name = station_name
        self.host_ip = host_ip
        self.write_hook = write_hook
        self.records = RecordAccess(model, im, write_hook)
        self.ar: Ar | None = None
        self.counters = RpcCounters()
        self.object_uuid = uuid.UUID(
            f"dea00000-6c97-11d1-8271-0001{im.device_id:04x}{im.vendor_id:04x}"
        )
        self._reassembly = dcerpc.Reassembly()
        self._done: dict[uuid.UUID, tuple[int, list[bytes]]] = {}
        self._client_seq = itertools.count()
        self.boot_time = 0

    # ---- server side

    def datagram(self, data: bytes, peer: tuple[str, int], now: float) -> Output:
        out = Output()
        try:
            pdu = dcerpc.decode_pdu(data)
        except RpcError:
            self.counters.malformed += 1
            return out
        h = pdu.header
        if h.ptype == PType.PING:
            done = self._done.get(h.activity_uuid)
            if done is not None and done[0] == h.sequence:
                out.replies += [(d, peer) for d in done[1]]
            else:
                reply = RpcPdu(self._reply_header(h, PType.NOCALL), b"")
                out.replies.append((reply.encode(), peer))
            return out
        if h.ptype != PType.REQUEST:
            return out  # ACK, FACK, cancel: nothing to answer
        done = self._done.get(h.activity_uuid)
        if done is not None and done[0] == h.sequence:  # a retransmission: the same answer
            out.replies += [(d, peer) for d in done[1]]
            return out
        try:
            whole = self._reassembly.add(pdu)
        except RpcError:
            self.counters.malformed += 1
            return out
        if whole is None:
            if h.flags1 & dcerpc.Flags1.FRAG and not h.flags1 & dcerpc.Flags1.NO_FACK:
                fack = RpcPdu(self._reply_header(h, PType.FACK), b"")
                out.replies.append((fack.encode(), peer))
            return out
        self.counters.requests += 1
        body = self._dispatch(whole, peer, now, out)
        if body is None:
            return out
        reply_header = self._reply_header(whole.header, PType.RESPONSE)
        datagrams = dcerpc.fragments(reply_header, body)
        self._remember(whole.header, datagrams)
        out.replies += [(d, peer) for d in datagrams]
        return out

    def _remember(self, h: RpcHeader, datagrams: list[bytes]) -> None:
        self._done[h.activity_uuid] = (h.sequence, datagrams)
        while len(self._done) > 16:
            del self._done[next(iter(self._done))]

    def _reply_header(self, h: RpcHeader, ptype: PType) -> RpcHeader:
        return RpcHeader(
            ptype=ptype,
            flags1=dcerpc.Flags1.LAST_FRAG | (h.flags1 & dcerpc.Flags1.IDEMPOTENT),
            object_uuid=h.object_uuid,
            interface_uuid=h.interface_uuid,
            activity_uuid=h.activity_uuid,
            sequence=h.sequence,
            opnum=h.opnum,
            little=h.little,
            server_boot=self.boot_time,
            interface_version=h.interface_version,
            interface_hint=h.interface_hint,
            activity_hint=h.activity_hint,
        )

    def _reject(self, h: RpcHeader, status: int) -> bytes:
        body = status.to_bytes(4, "little" if h.little else "big")
        return RpcPdu(self._reply_header(h, PType.REJECT), body).encode()

    def _dispatch(
        self, pdu: RpcPdu, peer: tuple[str, int], now: float, out: Output
    ) -> bytes | None:
        h = pdu.header
        if h.interface_uuid == dcerpc.EPM_IFACE:
            if h.opnum != dcerpc.EPM_LOOKUP:
                out.replies.append((self._reject(h, dcerpc.NCA_OP_RNG_ERROR), peer))
                self.counters.rejected += 1
                return None
            return answer_lookup(pdu.body, h.little, self._epm_endpoint())
        if h.interface_uuid != dcerpc.DEVICE_IFACE:
            out.replies.append((self._reject(h, dcerpc.NCA_UNK_IF), peer))
            self.counters.rejected += 1
            return None
        if h.opnum > Opnum.READ_IMPLICIT:
            out.replies.append((self._reject(h, dcerpc.NCA_OP_RNG_ERROR), peer))
            self.counters.rejected += 1
            return None
        service = {
            Opnum.CONNECT: ErrorCode.CONNECT,
            Opnum.RELEASE: ErrorCode.RELEASE,
            Opnum.READ: ErrorCode.READ,
            Opnum.WRITE: ErrorCode.WRITE,
            Opnum.CONTROL: ErrorCode.CONTROL,
            Opnum.READ_IMPLICIT: ErrorCode.READ,
        }[Opnum(h.opnum)]
        args_maximum = 0
        try:
            try:
                ndr, payload = dcerpc.decode_ndr(pdu.body, h.little)
            except RpcError as exc:
                raise PnioError(
                    pnio(service, Code1.CMRPC, Cmrpc.ARGS_LENGTH_INVALID), exc.reason
                ) from None
            args_maximum = ndr.first
            status, result = self._call(Opnum(h.opnum), payload, peer, now, out)
        except PnioError as exc:
            self.counters.refused += 1
            status, result = exc.status, b""
            out.events.append(Refused(exc))
        return dcerpc.encode_response_ndr(status.encode(), result, h.little, args_maximum)

    def _call(
        self, opnum: Opnum, payload: bytes, peer: tuple[str, int], now: float, out: Output
    ) -> tuple[PnioStatus, bytes]:
        if opnum == Opnum.CONNECT:
            return OK, self._connect(payload, peer, now, out)
        if opnum == Opnum.RELEASE:
            return OK, self._release(payload, out)
        if opnum == Opnum.CONTROL:
            return OK, self._control(payload, peer, now, out)
        if opnum in (Opnum.READ, Opnum.READ_IMPLICIT):
            return self._read(payload, implicit=opnum == Opnum.READ_IMPLICIT)
        return self._write(payload, out)

    # ---- Connect

    def _connect(self, payload: bytes, peer: tuple[str, int], now: float, out: Output) -> bytes:
        svc = ErrorCode.CONNECT
        blocks = split_blocks(payload, svc, Code1.CMRPC)
        known = (AR_BLOCK_REQ, IOCR_BLOCK_REQ, ALARM_CR_BLOCK_REQ, EXPECTED_SUBMODULE_BLOCK_REQ)
        unknown = [b for b in blocks if b.block_type not in known]
        if unknown:
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.UNKNOWN_BLOCKS),
                f"unknown block 0x{unknown[0].block_type:04X}",
            )
        ar_blocks = [b for b in blocks if b.block_type == AR_BLOCK_REQ]
        if len(ar_blocks) != 1:
            raise PnioError(pnio(svc, Code1.AR_BLOCK, 0), f"{len(ar_blocks)} ARBlockReq")
        ar_req = ArBlockReq.decode(ar_blocks[0].body, ar_blocks[0].version)
        iocrs = [
            IocrBlockReq.decode(b.body, b.version) for b in blocks if b.block_type == IOCR_BLOCK_REQ
        ]
        alarms = [
            AlarmCrBlockReq.decode(b.body, b.version)
            for b in blocks
            if b.block_type == ALARM_CR_BLOCK_REQ
        ]
        expected: list[ExpectedSlot] = []
        for b in blocks:
            if b.block_type == EXPECTED_SUBMODULE_BLOCK_REQ:
                expected += decode_expected(b.body, b.version)
        inputs = [c for c in iocrs if c.iocr_type == IOCR_INPUT]
        outputs = [c for c in iocrs if c.iocr_type == IOCR_OUTPUT]
        io = ar_req.ar_type == AR_TYPE_IOCAR_SINGLE
        if io and (not inputs or not outputs):
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.IOCR_MISSING), "input or output IOCR missing"
            )
        if len(inputs) > 1 or len(outputs) > 1 or (iocrs and not io):
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.OUT_OF_RESOURCES), "one IOCR per direction"
            )
        if len(alarms) != (1 if io else len(alarms[:1])):
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.WRONG_ALARM_CR_COUNT), f"{len(alarms)} AlarmCRBlockReq"
            )
        if io and not expected:
            raise PnioError(
                pnio(svc, Code1.EXPECTED_SUBMODULE_BLOCK, 0), "no ExpectedSubmoduleBlockReq"
            )
        check_layout(iocrs, expected)
        if self.ar is not None:
            if self.ar.ar_uuid == ar_req.ar_uuid or self.ar.controller_mac != ar_req.initiator_mac:
                raise PnioError(
                    pnio(svc, Code1.CMRPC, Cmrpc.OUT_OF_AR_RESOURCES),
                    "the AR is in use by " + self.ar.req.station_name,
                )
            self._end(AbortReason.RERUN_ABORTS_EXISTING, "a new connect replaces the AR", out)
        in_cr = inputs[0] if inputs else None
        out_cr = outputs[0] if outputs else None
        if out_cr is not None and out_cr.frame_id == FRAME_ID_ASSIGN:
            wanted = (
                OUTPUT_FRAME_ID_RT2
                if out_cr.properties & 0xF == RT_CLASS_2
                else OUTPUT_FRAME_ID_RT1
            )
            if in_cr is not None and in_cr.frame_id == wanted:
                wanted += 1
            out_cr = _with_frame_id(out_cr, wanted)
        diff = module_diff(self.model, expected)
        ar = Ar(
            ar_req.ar_uuid,
            ar_req,
            peer,
            in_cr,
            out_cr,
            alarms[0] if alarms else None,
            expected,
            diff,
            now,
            ArState.PARAMETERIZING if io else ArState.DATA,
        )
        self.ar = ar
        out.events.append(Connected(ar))
        res = ArBlockRes(ar_req.ar_type, ar_req.ar_uuid, ar_req.session_key, self.mac).encode()
        for cr in (in_cr, out_cr):
            if cr is not None:
                res += IocrBlockRes(cr.iocr_type, cr.reference, cr.frame_id).encode()
        if ar.alarm_cr is not None:
            max_len = min(ar.alarm_cr.max_alarm_data_length, MAX_ALARM_DATA_LENGTH)
            res += AlarmCrBlockRes(LOCAL_ALARM_REFERENCE, max_len).encode()
        if diff:
            res += encode_module_diff(0, diff)
        return res

    def proper(self, slot: int, subslot: int) -> bool:
        """Whether the AR's expected submodule equals the real one (IOPS good only then)."""
        if self.ar is None:
            return False
        for module in self.ar.diff:
            if module.slot == slot and (
                module.state != MODULE_STATE_PROPER
                or any(s.subslot == subslot for s in module.submodules)
            ):
                return False
        return self.model.submodule(slot, subslot) is not None

    # ---- Release, Control

    def _control_block(self, payload: bytes, svc: ErrorCode, code1: int, want: int) -> ControlBlock:
        blocks = split_blocks(payload, svc, code1)
        if len(blocks) != 1 or blocks[0].block_type != want:
            got = blocks[0].block_type if blocks else 0
            raise PnioError(pnio(svc, code1, 0), f"block 0x{got:04X}, expected 0x{want:04X}")
        b = blocks[0]
        if b.version != (1, 0):
            raise PnioError(pnio(svc, code1, 2), f"BlockVersion {b.version}")
        cb = ControlBlock.decode(b.block_type, b.body, svc, code1)
        if self.ar is None or cb.ar_uuid != self.ar.ar_uuid:
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.AR_UUID_UNKNOWN), f"AR {cb.ar_uuid} unknown"
            )
        if cb.session_key != self.ar.session_key:
            raise PnioError(pnio(svc, code1, 6), f"SessionKey {cb.session_key}")
        return cb

    def _release(self, payload: bytes, out: Output) -> bytes:
        svc = ErrorCode.RELEASE
        cb = self._control_block(payload, svc, Code1.RELEASE_BLOCK, CONTROL_RELEASE_REQ)
        if cb.command != CMD_RELEASE:
            raise PnioError(pnio(svc, Code1.RELEASE_BLOCK, 8), f"ControlCommand 0x{cb.command:04X}")
        self._end(AbortReason.RELEASE_IND, "the PLC released the AR", out, by_release=True)
        return ControlBlock(
            CONTROL_RELEASE_REQ + CONTROL_RES_OFFSET, cb.ar_uuid, cb.session_key, CMD_DONE
        ).encode()

    def _control(self, payload: bytes, peer: tuple[str, int], now: float, out: Output) -> bytes:
        svc = ErrorCode.CONTROL
        cb = self._control_block(payload, svc, Code1.CONTROL_BLOCK, CONTROL_PRM_END_REQ)
        if cb.command != CMD_PRM_END:
            raise PnioError(pnio(svc, Code1.CONTROL_BLOCK, 8), f"ControlCommand 0x{cb.command:04X}")
        ar = self.ar
        assert ar is not None
        if ar.state != ArState.PARAMETERIZING:
            raise PnioError(pnio(svc, Code1.CMDEV, Cmdev.STATE_CONFLICT), f"PrmEnd in {ar.state}")
        out.events.append(PrmEnd(ar))
        if ar.io:
            ar.state = ArState.APPLICATION_READY
            ar.app_ready_activity = uuid.uuid4()
            ar.app_ready_sent = 0
            self._send_app_ready(ar, now, out)
        else:
            ar.state = ArState.DATA
        return ControlBlock(
            CONTROL_PRM_END_REQ + CONTROL_RES_OFFSET, cb.ar_uuid, cb.session_key, CMD_DONE
        ).encode()

    # ---- client side: CControl ApplicationReady

    def _send_app_ready(self, ar: Ar, now: float, out: Output) -> None:
        assert ar.app_ready_activity is not None
        block = ControlBlock(
            CONTROL_APP_READY_REQ, ar.ar_uuid, ar.session_key, CMD_APPLICATION_READY
        ).encode()
        header = RpcHeader(
            ptype=PType.REQUEST,
            flags1=dcerpc.Flags1.IDEMPOTENT,
            object_uuid=ar.req.initiator_object_uuid,
            interface_uuid=dcerpc.CONTROLLER_IFACE,
            activity_uuid=ar.app_ready_activity,
            sequence=0,
            opnum=Opnum.CONTROL,
            server_boot=self.boot_time,
        )
        body = dcerpc.encode_request_ndr(block, little=True)
        out.client += [
            (d, (ar.controller[0], dcerpc.PNIO_PORT)) for d in dcerpc.fragments(header, body)
        ]
        ar.app_ready_sent += 1
        ar.app_ready_due = now + APP_READY_RETRY_S

    def client_datagram(self, data: bytes, now: float) -> Output:
        """The controller's answer to our CControl."""
        out = Output()
        ar = self.ar
        try:
            pdu = dcerpc.decode_pdu(data)
        except RpcError:
            self.counters.malformed += 1
            return out
        h = pdu.header
        if (
            ar is None
            or ar.state != ArState.APPLICATION_READY
            or h.activity_uuid != ar.app_ready_activity
            or h.ptype != PType.RESPONSE
        ):
            return out
        try:
            status = PnioStatus.decode_from(pdu.body[:4])
            _ndr, payload = dcerpc.decode_ndr(pdu.body, h.little)
            blocks = (
                split_blocks(payload, ErrorCode.CONTROL, Code1.CONTROL_BLOCK) if status.ok else []
            )
            if status.ok and (
                len(blocks) != 1
                or blocks[0].block_type != CONTROL_APP_READY_REQ + CONTROL_RES_OFFSET
            ):
                raise RpcError("no ApplicationReady response block")
        except (RpcError, PnioError, IndexError):
            self.counters.malformed += 1
            return out
        out.events.append(AppReadyConfirmed(ar, status))
        if status.ok:
            ar.state = ArState.DATA
        else:
            self._end(
                AbortReason.RPC_CONTROL_ERROR, f"the PLC refused ApplicationReady ({status})", out
            )
        return out

    def tick(self, now: float) -> Output:
        """Timers: CMI timeout before PrmEnd, ApplicationReady retries."""
        out = Output()
        ar = self.ar
        if ar is None:
            return out
        if ar.state == ArState.PARAMETERIZING:
            if now - ar.connected_at > ar.req.activity_timeout_factor * 0.1:
                self._end(AbortReason.CMI_TIMEOUT, "no PrmEnd within the CMI timeout", out)
        elif ar.state == ArState.APPLICATION_READY and now >= ar.app_ready_due:
            if ar.app_ready_sent >= APP_READY_TRIES:
                self._end(AbortReason.RPC_CONTROL_ERROR, "no answer to ApplicationReady", out)
            else:
                self._send_app_ready(ar, now, out)
        return out

    # ---- AR end

    def abort(self, reason: AbortReason, text: str) -> Output:
        """End the AR from our side (DHT expired, operator, shutdown)."""
        out = Output()
        self._end(reason, text, out)
        return out

    def _end(self, reason: AbortReason, text: str, out: Output, by_release: bool = False) -> None:
        ar = self.ar
        if ar is None:
            return
        ar.state = ArState.ABORTED
        self.ar = None
        out.events.append(ArEnded(ar, reason, text, by_release))

    # ---- records

    def _read(self, payload: bytes, implicit: bool) -> tuple[PnioStatus, bytes]:
        ar_uuid = None if implicit else (self.ar.ar_uuid if self.ar else dcerpc.NIL_UUID)
        return self.records.read(payload, ar_uuid)

    def _write(self, payload: bytes, out: Output) -> tuple[PnioStatus, bytes]:
        status, body, changed = self.records.write(payload, self.ar.ar_uuid if self.ar else None)
        if changed:
            out.events.append(ImChanged(self.im))
        return status, body

    def _epm_endpoint(self) -> EpmEndpoint:
        return EpmEndpoint(
            object_uuid=self.object_uuid,
            host_ip=self.host_ip(),
            annotation=f"{self.station_name()} {self.im.order_id}".strip(),
        )


def _with_frame_id(cr: IocrBlockReq, frame_id: int) -> IocrBlockReq:
    return replace(cr, frame_id=frame_id)
