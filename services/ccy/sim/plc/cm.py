# SPDX-License-Identifier: Apache-2.0
"""The controller's side of PNIO CM: build the Connect, Write, Control and Release requests,
read the answers, call the device over UDP with retransmission, and answer the device's
CControl ApplicationReady on our own UDP 34964."""

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.connect_blocks import (
    AR_BLOCK_RES,
    AR_TYPE_IOCAR_SINGLE,
    IOCR_BLOCK_RES,
    IOCR_INPUT,
    IOCR_OUTPUT,
    MODULE_DIFF_BLOCK,
    AlarmCrBlockReq,
    ArBlockReq,
    DiffModule,
    ExpectedSlot,
    IocrApi,
    IocrBlockReq,
    IocrBlockRes,
    IoObject,
    decode_module_diff,
    encode_expected,
)
from ccy.profinet.rpc.dcerpc import Opnum, PType, RpcHeader, RpcPdu
from ccy.profinet.rpc.records import (
    CMD_APPLICATION_READY,
    CMD_DONE,
    CMD_PRM_END,
    CMD_RELEASE,
    CONTROL_APP_READY_REQ,
    CONTROL_PRM_END_REQ,
    CONTROL_RELEASE_REQ,
    CONTROL_RES_OFFSET,
    INDEX_WRITE_MULTIPLE,
    IOD_READ_REQ,
    IOD_WRITE_REQ,
    ControlBlock,
    IodHeader,
    join_write_multiple,
)
from ccy.profinet.rpc.status import Code1, ErrorCode, PnioError, PnioStatus
from ccy.profinet.rpc.wire import split_blocks

RPC_TIMEOUT_S = 1.0
RPC_TRIES = 3


class CmError(RuntimeError):
    """The device refused a request or did not answer."""


@dataclass(frozen=True)
class CrPlan:
    """How one IOCR's frame is laid out (offsets per submodule) for a given configuration."""

    block: IocrBlockReq


def plan_iocrs(
    expected: list[ExpectedSlot],
    input_frame_id: int,
    send_clock_factor: int,
    reduction_ratio: int,
    data_hold_factor: int,
) -> tuple[IocrBlockReq, IocrBlockReq]:
    """Input and output IOCR requests for ``expected``: data objects first (data + IOPS), then
    the IOCS of the other direction, each frame at least 40 bytes."""
    in_data: list[IoObject] = []
    in_iocs: list[IoObject] = []
    out_data: list[IoObject] = []
    out_iocs: list[IoObject] = []
    in_pos = out_pos = 0
    subs = [(slot.slot, s) for slot in expected for s in slot.submodules]
    for slot, sub in subs:
        if sub.output_length == 0 or sub.input_length:  # provides input data (NO_IO too)
            in_data.append(IoObject(slot, sub.subslot, in_pos))
            in_pos += sub.input_length + 1
        if sub.output_length:
            out_data.append(IoObject(slot, sub.subslot, out_pos))
            out_pos += sub.output_length + 1
    for slot, sub in subs:
        if sub.output_length == 0 or sub.input_length:
            out_iocs.append(IoObject(slot, sub.subslot, out_pos))
            out_pos += 1
        if sub.output_length:
            in_iocs.append(IoObject(slot, sub.subslot, in_pos))
            in_pos += 1

    def cr(
        kind: int, ref: int, frame_id: int, data: list[IoObject], iocs: list[IoObject], size: int
    ) -> IocrBlockReq:
        return IocrBlockReq(
            kind, ref, max(40, size), frame_id, send_clock_factor, reduction_ratio, 1,
            data_hold_factor, data_hold_factor, (IocrApi(0, tuple(data), tuple(iocs)),),
        )  # fmt: skip

    return (
        cr(IOCR_INPUT, 1, input_frame_id, in_data, in_iocs, in_pos),
        cr(IOCR_OUTPUT, 2, 0xFFFF, out_data, out_iocs, out_pos),
    )


@dataclass(frozen=True)
class ConnectResult:
    input_frame_id: int
    output_frame_id: int
    device_mac: bytes
    diff: list[DiffModule]


def connect_payload(
    ar: ArBlockReq,
    iocrs: tuple[IocrBlockReq, IocrBlockReq],
    alarm_cr: AlarmCrBlockReq,
    expected: list[ExpectedSlot],
) -> bytes:
    return (
        ar.encode()
        + b"".join(c.encode() for c in iocrs)
        + alarm_cr.encode()
        + b"".join(encode_expected(s) for s in expected)
    )


def read_connect_response(payload: bytes) -> ConnectResult:
    frame_ids = {IOCR_INPUT: 0, IOCR_OUTPUT: 0}
    mac = b""
    diff: list[DiffModule] = []
    for b in split_blocks(payload, 0xDB, 64):  # type: ignore[arg-type]
        if b.block_type == AR_BLOCK_RES:
            mac = b.body[20:26]
        elif b.block_type == IOCR_BLOCK_RES:
            res = IocrBlockRes.decode(b.body)
            frame_ids[res.iocr_type] = res.frame_id
        elif b.block_type == MODULE_DIFF_BLOCK:
            diff = decode_module_diff(b.body)
    return ConnectResult(frame_ids[IOCR_INPUT], frame_ids[IOCR_OUTPUT], mac, diff)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.on_datagram(data, (str(addr[0]), int(addr[1])))


class CmClient:
    """One AR's requests toward ``device_ip``; ``serve()`` answers ApplicationReady."""

    def __init__(self, device_ip: str, object_uuid: uuid.UUID, *, little: bool = True) -> None:
        self.device_ip = device_ip
        self.object_uuid = object_uuid
        self.little = little
        self.activity = uuid.uuid4()
        self._seq = itertools.count()
        self._pending: dict[int, asyncio.Future[RpcPdu]] = {}
        self._client: _Udp | None = None
        self._server: _Udp | None = None
        self.app_ready = asyncio.Event()
        self.app_ready_status = PnioStatus()
        self.ar_uuid = dcerpc.NIL_UUID
        self.session_key = 0
        self.app_ready_answer: Callable[[ControlBlock], PnioStatus] = lambda _b: PnioStatus()

    async def open(self, serve_port: int | None = dcerpc.PNIO_PORT) -> None:
        loop = asyncio.get_running_loop()
        _, self._client = await loop.create_datagram_endpoint(
            lambda: _Udp(self._answer), local_addr=("0.0.0.0", 0)
        )
        if serve_port is not None:
            _, self._server = await loop.create_datagram_endpoint(
                lambda: _Udp(self._serve), local_addr=("0.0.0.0", serve_port)
            )

    def close(self) -> None:
        for ep in (self._client, self._server):
            if ep is not None and ep.transport is not None:
                ep.transport.close()

    def _answer(self, data: bytes, _peer: tuple[str, int]) -> None:
        with contextlib.suppress(dcerpc.RpcError):
            pdu = dcerpc.decode_pdu(data)
            fut = self._pending.get(pdu.header.sequence)
            if (
                pdu.header.activity_uuid == self.activity
                and fut is not None
                and not fut.done()
                and pdu.header.ptype in (PType.RESPONSE, PType.REJECT, PType.FAULT)
            ):
                fut.set_result(pdu)

    async def call(
        self, opnum: int, payload: bytes, iface: uuid.UUID = dcerpc.DEVICE_IFACE
    ) -> tuple[PnioStatus, bytes]:
        """One request; (PNIOStatus, response blocks). CmError on reject or silence."""
        assert self._client is not None and self._client.transport is not None
        seq = next(self._seq)
        header = RpcHeader(
            ptype=PType.REQUEST, flags1=dcerpc.Flags1.IDEMPOTENT, object_uuid=self.object_uuid,
            interface_uuid=iface, activity_uuid=self.activity, sequence=seq, opnum=opnum,
            little=self.little,
        )  # fmt: skip
        body = dcerpc.encode_request_ndr(payload, self.little)
        fut: asyncio.Future[RpcPdu] = asyncio.get_running_loop().create_future()
        self._pending[seq] = fut
        try:
            for _ in range(RPC_TRIES):
                for datagram in dcerpc.fragments(header, body):
                    self._client.transport.sendto(datagram, (self.device_ip, dcerpc.PNIO_PORT))
                with contextlib.suppress(TimeoutError):
                    pdu = await asyncio.wait_for(asyncio.shield(fut), RPC_TIMEOUT_S)
                    break
            else:
                raise CmError(f"no answer to opnum {opnum} from {self.device_ip}")
        finally:
            del self._pending[seq]
        if pdu.header.ptype != PType.RESPONSE:
            raise CmError(f"opnum {opnum}: {PType(pdu.header.ptype).name} {pdu.body[:4].hex()}")
        status = PnioStatus.decode_from(pdu.body[:4])
        _ndr, blocks = dcerpc.decode_ndr(pdu.body, pdu.header.little)
        return status, blocks

    async def connect(
        self, ar: ArBlockReq, iocrs: tuple[IocrBlockReq, IocrBlockReq], alarm_cr: AlarmCrBlockReq,
        expected: list[ExpectedSlot],
    ) -> ConnectResult:  # fmt: skip
        self.ar_uuid = ar.ar_uuid
        self.session_key = ar.session_key
        status, blocks = await self.call(
            Opnum.CONNECT, connect_payload(ar, iocrs, alarm_cr, expected)
        )
        if not status.ok:
            raise CmError(f"Connect refused: {status}")
        return read_connect_response(blocks)

    async def write(self, writes: list[tuple[int, int, int, bytes]]) -> PnioStatus:
        """(slot, subslot, index, data) each; more than one goes as WriteMultiple."""
        headers = [
            (IodHeader(IOD_WRITE_REQ, n, self.ar_uuid, 0, slot, sub, index, len(data)), data)
            for n, (slot, sub, index, data) in enumerate(writes)
        ]
        if len(headers) == 1:
            payload = headers[0][0].encode() + headers[0][1]
        else:
            inner = join_write_multiple(headers)
            outer = IodHeader(
                IOD_WRITE_REQ,
                99,
                self.ar_uuid,
                0xFFFFFFFF,
                0xFFFF,
                0xFFFF,
                INDEX_WRITE_MULTIPLE,
                len(inner),
            )
            payload = outer.encode() + inner
        status, _ = await self.call(Opnum.WRITE, payload)
        return status

    async def read(
        self, slot: int, subslot: int, index: int, implicit: bool = False
    ) -> tuple[PnioStatus, bytes]:
        ar = dcerpc.NIL_UUID if implicit else self.ar_uuid
        req = IodHeader(IOD_READ_REQ, 1, ar, 0, slot, subslot, index, 4096)
        status, blocks = await self.call(
            Opnum.READ_IMPLICIT if implicit else Opnum.READ, req.encode()
        )
        return status, blocks[64:]

    async def prm_end(self) -> PnioStatus:
        block = ControlBlock(CONTROL_PRM_END_REQ, self.ar_uuid, self.session_key, CMD_PRM_END)
        status, _ = await self.call(Opnum.CONTROL, block.encode())
        return status

    async def release(self) -> PnioStatus:
        block = ControlBlock(CONTROL_RELEASE_REQ, self.ar_uuid, self.session_key, CMD_RELEASE)
        status, _ = await self.call(Opnum.RELEASE, block.encode())
        return status

    def _serve(self, data: bytes, peer: tuple[str, int]) -> None:
        """The device's CControl ApplicationReady → our answer (Done)."""
        try:
            pdu = dcerpc.decode_pdu(data)
            h = pdu.header
            if h.ptype != PType.REQUEST or h.interface_uuid != dcerpc.CONTROLLER_IFACE:
                return
            _ndr, payload = dcerpc.decode_ndr(pdu.body, h.little)
            blocks = split_blocks(payload, ErrorCode.CONTROL, Code1.CONTROL_BLOCK)
            if len(blocks) != 1 or blocks[0].block_type != CONTROL_APP_READY_REQ:
                return
            block = ControlBlock.decode(
                blocks[0].block_type, blocks[0].body, ErrorCode.CONTROL, Code1.CONTROL_BLOCK
            )
        except (dcerpc.RpcError, PnioError):  # a simulator ignores what it cannot read
            return
        status = self.app_ready_answer(block)
        if block.command != CMD_APPLICATION_READY or block.ar_uuid != self.ar_uuid:
            status = PnioStatus(0xDD, 0x81, 64, 5)
        answer = ControlBlock(
            CONTROL_APP_READY_REQ + CONTROL_RES_OFFSET, block.ar_uuid, block.session_key, CMD_DONE
        )
        reply_h = RpcHeader(
            ptype=PType.RESPONSE, flags1=dcerpc.Flags1.LAST_FRAG, object_uuid=h.object_uuid,
            interface_uuid=h.interface_uuid, activity_uuid=h.activity_uuid, sequence=h.sequence,
            opnum=h.opnum, little=h.little,
        )  # fmt: skip
        body = dcerpc.encode_response_ndr(
            status.encode(), answer.encode() if status.ok else b"", h.little
        )
        assert self._server is not None and self._server.transport is not None
        self._server.transport.sendto(RpcPdu(reply_h, body).encode(), peer)
        self.app_ready_status = status
        self.app_ready.set()


def ar_block(plc_mac: bytes, station: str = "ccy-plc-sim", timeout_factor: int = 100) -> ArBlockReq:
    return ArBlockReq(
        AR_TYPE_IOCAR_SINGLE, uuid.uuid4(), 1, plc_mac,
        uuid.UUID("dea00000-6c97-11d1-8271-000100020003"), 0x00000011, timeout_factor, station,
    )  # fmt: skip
