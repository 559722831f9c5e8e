# SPDX-License-Identifier: Apache-2.0
"""Record reads and writes of the device (IODReadReq, IODWriteReq, IODWriteMultipleReq), pure:
I&M0 on every submodule, I&M1–4 on the DAP's first submodule (written ones kept in
``ImData``), I&M0FilterData, RealIdentificationData; other indexes go to the unit's write
hook, or are refused with "invalid index". Errors use the PNIORW codes of IEC 61158-6-10."""

import uuid
from collections.abc import Callable

from ccy.profinet.rpc.model import DeviceModel
from ccy.profinet.rpc.records import (
    IM_BLOCKS,
    INDEX_IM0,
    INDEX_IM0_FILTER,
    INDEX_REAL_IDENTIFICATION,
    INDEX_WRITE_MULTIPLE,
    IOD_HEADER_LEN,
    ImData,
    IodHeader,
    encode_read_res,
    encode_write_res,
    im0_filter_data,
    real_identification,
    split_write_multiple,
)
from ccy.profinet.rpc.status import (
    OK,
    Cmrpc,
    Code1,
    ErrorCode,
    ErrorDecode,
    PnioError,
    PnioStatus,
    Rw,
    pnio,
    rw,
)

WriteHook = Callable[[int, int, int, bytes], int]
"""(slot, subslot, index, data) → 0 accepted, else a PNIORW ErrorCode1 (e.g. 0xB0)."""


class RecordAccess:
    def __init__(self, model: DeviceModel, im: ImData, write_hook: WriteHook | None) -> None:
        self.model = model
        self.im = im
        self.write_hook = write_hook

    def read(self, payload: bytes, ar_uuid: uuid.UUID | None) -> tuple[PnioStatus, bytes]:
        """A Read (``ar_uuid`` the AR's, NIL without one) or ReadImplicit (``ar_uuid`` None)."""
        svc = ErrorCode.READ
        if len(payload) < IOD_HEADER_LEN:
            raise PnioError(pnio(svc, Code1.CMRPC, Cmrpc.ARGS_LENGTH_INVALID), "short read request")
        req = IodHeader.decode(payload[:IOD_HEADER_LEN], svc)
        if ar_uuid is not None and (ar_uuid.int == 0 or req.ar_uuid != ar_uuid):
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.AR_UUID_UNKNOWN), f"AR {req.ar_uuid} unknown"
            )
        try:
            data = self.record(req)
        except PnioError as exc:
            return exc.status, encode_read_res(req, b"")
        return OK, encode_read_res(req, data[: req.length])

    def record(self, req: IodHeader) -> bytes:
        svc = ErrorCode.READ
        if req.api != 0:
            raise PnioError(rw(svc, Rw.INVALID_API), f"API {req.api}")
        if req.index == INDEX_REAL_IDENTIFICATION:
            return real_identification(self.model)
        if req.index == INDEX_IM0_FILTER:
            return im0_filter_data(self.model)
        if self.model.submodule(req.slot, req.subslot) is None:
            raise PnioError(rw(svc, Rw.INVALID_SLOT), f"no submodule {req.slot}/{req.subslot}")
        if req.index == INDEX_IM0:
            return self.im.im0()
        if req.index in IM_BLOCKS and (req.slot, req.subslot) == (0, 1):
            return self.im.im(req.index)
        raise PnioError(rw(svc, Rw.INVALID_INDEX), f"index 0x{req.index:04X}")

    def write(self, payload: bytes, ar_uuid: uuid.UUID | None) -> tuple[PnioStatus, bytes, bool]:
        """A Write or WriteMultiple → (status, response blocks, I&M changed)."""
        svc = ErrorCode.WRITE
        if len(payload) < IOD_HEADER_LEN:
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.ARGS_LENGTH_INVALID), "short write request"
            )
        req = IodHeader.decode(payload[:IOD_HEADER_LEN], svc)
        if ar_uuid is None or req.ar_uuid != ar_uuid:
            raise PnioError(
                pnio(svc, Code1.CMRPC, Cmrpc.AR_UUID_UNKNOWN), f"AR {req.ar_uuid} unknown"
            )
        data = payload[IOD_HEADER_LEN:]
        if len(data) != req.length:
            raise PnioError(rw(svc, Rw.WRITE_LENGTH), f"{len(data)} bytes for length {req.length}")
        if req.index != INDEX_WRITE_MULTIPLE:
            status, changed = self._one(req, data)
            return status, encode_write_res(req, status), changed
        results = []
        first_bad = OK
        any_changed = False
        for sub_req, sub_data in split_write_multiple(data):
            if sub_req.ar_uuid != req.ar_uuid:
                status, changed = pnio(svc, Code1.CMRPC, Cmrpc.AR_UUID_UNKNOWN), False
            else:
                status, changed = self._one(sub_req, sub_data)
            any_changed |= changed
            if not status.ok and first_bad.ok:
                first_bad = status
            results.append(encode_write_res(sub_req, status))
        body = b"".join(results)
        outer = IodHeader(
            req.block_type, req.seq, req.ar_uuid, 0, req.slot, req.subslot, req.index, len(body)
        )
        return first_bad, encode_write_res(outer, first_bad) + body, any_changed

    def _one(self, req: IodHeader, data: bytes) -> tuple[PnioStatus, bool]:
        svc = ErrorCode.WRITE
        try:
            if req.api != 0:
                raise PnioError(rw(svc, Rw.INVALID_API), f"API {req.api}")
            if self.model.submodule(req.slot, req.subslot) is None:
                raise PnioError(rw(svc, Rw.INVALID_SLOT), f"no submodule {req.slot}/{req.subslot}")
            if req.index in IM_BLOCKS and (req.slot, req.subslot) == (0, 1):
                self.im.write_im(req.index, data)
                return OK, True
            code1 = (
                self.write_hook(req.slot, req.subslot, req.index, data)
                if self.write_hook
                else Rw.INVALID_INDEX
            )
            if code1:
                status = PnioStatus(ErrorCode.WRITE, ErrorDecode.PNIORW, int(code1) & 0xFF, 0)
                raise PnioError(status, f"index 0x{req.index:04X} refused")
            return OK, False
        except PnioError as exc:
            return exc.status, False
