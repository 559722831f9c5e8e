# SPDX-License-Identifier: Apache-2.0
"""Connect checks that compare the controller's configuration with ours, pure: every IO
object of the IOCRs names an expected submodule and fits the frame (else the IOCRBlockReq
field is named in the error), and the ModuleDiffBlock lists what differs from the real
modules (missing module, wrong module, wrong or missing submodule, other IO lengths)."""

from ccy.profinet.rpc.connect_blocks import (
    IOCR_INPUT,
    MODULE_STATE_NO_MODULE,
    MODULE_STATE_PROPER,
    MODULE_STATE_WRONG,
    SUBMODULE_MISSING,
    SUBMODULE_WRONG,
    DiffModule,
    DiffSubmodule,
    ExpectedSlot,
    IocrBlockReq,
)
from ccy.profinet.rpc.model import DeviceModel
from ccy.profinet.rpc.status import Code1, ErrorCode, PnioError, pnio


def check_layout(iocrs: list[IocrBlockReq], expected: list[ExpectedSlot]) -> None:
    """Every IO object names an expected submodule and fits the frame."""
    svc = ErrorCode.CONNECT
    sizes = {}
    for slot in expected:
        for sub in slot.submodules:
            sizes[(slot.slot, sub.subslot)] = (sub.input_length, sub.output_length)
    for cr in iocrs:
        for api in cr.apis:
            for obj in api.data:
                lengths = sizes.get((obj.slot, obj.subslot))
                if lengths is None:
                    raise PnioError(
                        pnio(svc, Code1.IOCR_BLOCK, 23),
                        f"IO data object {obj.slot}/{obj.subslot} is not expected",
                    )
                size = lengths[0] if cr.iocr_type == IOCR_INPUT else lengths[1]
                if obj.frame_offset + size + 1 > cr.data_length:
                    raise PnioError(
                        pnio(svc, Code1.IOCR_BLOCK, 24),
                        f"IO data object {obj.slot}/{obj.subslot} beyond DataLength",
                    )
            for obj in api.iocs:
                if (obj.slot, obj.subslot) not in sizes:
                    raise PnioError(
                        pnio(svc, Code1.IOCR_BLOCK, 27),
                        f"IOCS {obj.slot}/{obj.subslot} is not expected",
                    )
                if obj.frame_offset + 1 > cr.data_length:
                    raise PnioError(
                        pnio(svc, Code1.IOCR_BLOCK, 28),
                        f"IOCS {obj.slot}/{obj.subslot} beyond DataLength",
                    )


def module_diff(model: DeviceModel, expected: list[ExpectedSlot]) -> list[DiffModule]:
    diff = []
    for slot in expected:
        real = model.module(slot.slot)
        if real is None:
            diff.append(DiffModule(slot.slot, 0, MODULE_STATE_NO_MODULE, ()))
            continue
        subs = []
        for sub in slot.submodules:
            real_sub = model.submodule(slot.slot, sub.subslot)
            if real_sub is None:
                subs.append(DiffSubmodule(sub.subslot, 0, SUBMODULE_MISSING))
            elif (
                real_sub.ident != sub.ident
                or real_sub.input_length != sub.input_length
                or real_sub.output_length != sub.output_length
            ):
                subs.append(DiffSubmodule(sub.subslot, real_sub.ident, SUBMODULE_WRONG))
        if real.ident != slot.module_ident:
            diff.append(DiffModule(slot.slot, real.ident, MODULE_STATE_WRONG, tuple(subs)))
        elif subs:
            diff.append(DiffModule(slot.slot, real.ident, MODULE_STATE_PROPER, tuple(subs)))
    return diff
