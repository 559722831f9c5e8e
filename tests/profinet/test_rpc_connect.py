# SPDX-License-Identifier: Apache-2.0
"""The CM core: Connect with every block, the startup to data exchange, and refusals with the
PNIO error codes of IEC 61158-6-10."""

import struct
import uuid
from dataclasses import replace

import pytest
from tests.profinet.rpc_helpers import PLC, PLC_MAC, Controller, answer, make_device

from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.connect_blocks import (
    ALARM_CR_BLOCK_RES,
    AR_BLOCK_RES,
    IOCR_BLOCK_RES,
    MODULE_DIFF_BLOCK,
    MODULE_STATE_WRONG,
    SUBMODULE_WRONG,
    ExpectedSlot,
    ExpectedSubmodule,
    decode_module_diff,
)
from ccy.profinet.rpc.dcerpc import Opnum, PType
from ccy.profinet.rpc.device import (
    AppReadyConfirmed,
    ArEnded,
    ArState,
    Connected,
    PrmEnd,
)
from ccy.profinet.rpc.records import (
    CMD_DONE,
    CMD_PRM_END,
    CMD_RELEASE,
    CONTROL_APP_READY_REQ,
    CONTROL_PRM_END_REQ,
    CONTROL_RELEASE_REQ,
    ControlBlock,
)
from ccy.profinet.rpc.status import AbortReason
from ccy.profinet.rpc.wire import split_blocks


def block_types(payload: bytes) -> list[int]:
    return [b.block_type for b in split_blocks(payload, 0xDB, 64)]  # type: ignore[arg-type]


def test_connect_answers_every_block_and_assigns_the_output_frame_id() -> None:
    dev, plc = make_device(), Controller()
    out = dev.datagram(plc.connect(), PLC, 0.0)
    status, payload, _ = answer(out.replies[0][0])
    assert status.ok
    assert block_types(payload) == [
        AR_BLOCK_RES,
        IOCR_BLOCK_RES,
        IOCR_BLOCK_RES,
        ALARM_CR_BLOCK_RES,
    ]
    blocks = split_blocks(payload, 0xDB, 64)  # type: ignore[arg-type]
    assert blocks[0].body[2:18] == plc.ar.ar_uuid.bytes and blocks[0].body[20:26] == dev.mac
    in_fid = struct.unpack(">HHH", blocks[1].body)[2]
    out_fid = struct.unpack(">HHH", blocks[2].body)[2]
    assert in_fid == 0xC001 and 0xC000 <= out_fid <= 0xF7FF and out_fid != in_fid
    assert [type(e) for e in out.events] == [Connected]
    assert dev.ar is not None and dev.ar.state == ArState.PARAMETERIZING


def test_big_endian_requests_get_big_endian_answers() -> None:
    dev, plc = make_device(), Controller(little=False)
    status, _payload, header = answer(dev.datagram(plc.connect(), PLC, 0.0).replies[0][0])
    assert status.ok and not header.little


def startup(dev, plc):  # type: ignore[no-untyped-def]
    dev.datagram(plc.connect(), PLC, 0.0)
    prm = ControlBlock(CONTROL_PRM_END_REQ, plc.ar.ar_uuid, plc.ar.session_key, CMD_PRM_END)
    return dev.datagram(plc.request(Opnum.CONTROL, prm.encode()), PLC, 0.1)


def test_prm_end_is_answered_then_application_ready_goes_to_the_plc() -> None:
    dev, plc = make_device(), Controller()
    out = startup(dev, plc)
    status, payload, _ = answer(out.replies[0][0])
    assert status.ok
    (res,) = split_blocks(payload, 0xDD, 20)  # type: ignore[arg-type]
    assert res.block_type == CONTROL_PRM_END_REQ + 0x8000
    assert struct.unpack(">H", res.body[22:24])[0] == CMD_DONE
    assert [type(e) for e in out.events] == [PrmEnd]
    ((request, to),) = out.client
    assert to == (PLC[0], 34964)
    pdu = dcerpc.decode_pdu(request)
    assert pdu.header.interface_uuid == dcerpc.CONTROLLER_IFACE and pdu.header.opnum == 4
    assert pdu.header.object_uuid == plc.ar.initiator_object_uuid
    _ndr, blocks = dcerpc.decode_ndr(pdu.body, pdu.header.little)
    (ready,) = split_blocks(blocks, 0xDD, 20)  # type: ignore[arg-type]
    assert ready.block_type == CONTROL_APP_READY_REQ
    # the PLC answers: data exchange
    reply = dcerpc.RpcPdu(
        replace(pdu.header, ptype=PType.RESPONSE),
        dcerpc.encode_response_ndr(
            bytes(4),
            ControlBlock(0x8112, plc.ar.ar_uuid, plc.ar.session_key, CMD_DONE).encode(),
            True,
        ),
    ).encode()
    confirmed = dev.client_datagram(reply, 0.2)
    assert [type(e) for e in confirmed.events] == [AppReadyConfirmed]
    assert dev.ar is not None and dev.ar.state == ArState.DATA


def test_application_ready_is_retried_then_the_ar_aborts_with_rpc_control_error() -> None:
    dev, plc = make_device(), Controller()
    startup(dev, plc)
    assert len(dev.tick(1.2).client) == 1
    assert len(dev.tick(2.3).client) == 1
    ended = dev.tick(3.4).events
    assert len(ended) == 1 and isinstance(ended[0], ArEnded)
    assert ended[0].reason == AbortReason.RPC_CONTROL_ERROR == 0x18
    assert dev.ar is None


def test_no_prm_end_within_the_cmi_timeout_aborts() -> None:
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    assert dev.tick(5.0).events == []
    (ended,) = dev.tick(10.1).events  # CMInitiatorActivityTimeoutFactor 100 × 100 ms
    assert isinstance(ended, ArEnded) and ended.reason == AbortReason.CMI_TIMEOUT


def test_release_ends_the_ar() -> None:
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    rel = ControlBlock(CONTROL_RELEASE_REQ, plc.ar.ar_uuid, plc.ar.session_key, CMD_RELEASE)
    out = dev.datagram(plc.request(Opnum.RELEASE, rel.encode()), PLC, 0.5)
    status, payload, _ = answer(out.replies[0][0])
    assert status.ok and split_blocks(payload, 0xDC, 40)[0].block_type == 0x8114  # type: ignore[arg-type]
    (ended,) = out.events
    assert isinstance(ended, ArEnded) and ended.by_release and dev.ar is None


def test_a_retransmitted_request_gets_the_same_answer_and_no_second_event() -> None:
    dev, plc = make_device(), Controller()
    request = plc.connect()
    first = dev.datagram(request, PLC, 0.0)
    again = dev.datagram(request, PLC, 0.3)
    assert again.replies == first.replies and again.events == []


def status_of(out) -> str:  # type: ignore[no-untyped-def]
    return str(answer(out.replies[0][0])[0])


def test_a_second_controller_is_refused_and_the_first_keeps_its_ar() -> None:
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    other = Controller()
    other.ar = replace(other.ar, initiator_mac=bytes.fromhex("020000000099"))
    out = dev.datagram(other.connect(), ("192.0.2.9", 40000), 0.1)
    assert status_of(out) == "0xDB 0x81 0x40 0x04"  # CMRPC: out of AR resources
    assert dev.ar is not None and dev.ar.ar_uuid == plc.ar.ar_uuid


def test_the_same_plc_reconnecting_replaces_its_ar() -> None:
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    again = Controller()
    again.ar = replace(again.ar, initiator_mac=PLC_MAC)
    out = dev.datagram(again.connect(), PLC, 1.0)
    assert status_of(out) == "0x00 0x00 0x00 0x00"
    ended, connected = out.events
    assert isinstance(ended, ArEnded) and ended.reason == AbortReason.RERUN_ABORTS_EXISTING
    assert isinstance(connected, Connected) and connected.ar.ar_uuid == again.ar.ar_uuid


def test_wrong_ar_uuid_is_refused() -> None:
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    prm = ControlBlock(CONTROL_PRM_END_REQ, uuid.uuid4(), plc.ar.session_key, CMD_PRM_END)
    out = dev.datagram(plc.request(Opnum.CONTROL, prm.encode()), PLC, 0.1)
    assert status_of(out) == "0xDD 0x81 0x40 0x05"  # CMRPC: AR UUID unknown
    assert out.client == []


def test_wrong_session_key_and_double_prm_end_are_refused() -> None:
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    bad_key = ControlBlock(CONTROL_PRM_END_REQ, plc.ar.ar_uuid, 999, CMD_PRM_END)
    assert status_of(dev.datagram(plc.request(Opnum.CONTROL, bad_key.encode()), PLC, 0.1)) == (
        "0xDD 0x81 0x14 0x06"
    )
    startup_again = ControlBlock(
        CONTROL_PRM_END_REQ, plc.ar.ar_uuid, plc.ar.session_key, CMD_PRM_END
    )
    dev.datagram(plc.request(Opnum.CONTROL, startup_again.encode()), PLC, 0.2)
    out = dev.datagram(plc.request(Opnum.CONTROL, startup_again.encode()), PLC, 0.3)
    assert status_of(out) == "0xDD 0x81 0x3D 0x00"  # CMDEV: state conflict


def test_a_different_module_is_answered_with_a_module_diff_block() -> None:
    dev, plc = make_device(), Controller()
    expected = [
        *[s for s in dev.model.expected() if s.slot == 0],
        ExpectedSlot(0, 1, 0x11, (ExpectedSubmodule(1, 1, 32, 44, 3),)),
    ]
    status, payload, _ = answer(
        dev.datagram(plc.connect(expected=expected), PLC, 0.0).replies[0][0]
    )
    assert status.ok
    blocks = split_blocks(payload, 0xDB, 64)  # type: ignore[arg-type]
    assert blocks[-1].block_type == MODULE_DIFF_BLOCK
    (module,) = decode_module_diff(blocks[-1].body)
    assert (module.slot, module.ident, module.state) == (1, 0x10, MODULE_STATE_WRONG)
    assert not dev.proper(1, 1) and dev.proper(0, 1)


def test_a_wrong_submodule_length_is_a_wrong_submodule() -> None:
    dev, plc = make_device(), Controller()
    expected = [
        *[s for s in dev.model.expected() if s.slot == 0],
        ExpectedSlot(0, 1, 0x10, (ExpectedSubmodule(1, 1, 32, 40, 3),)),
    ]
    _status, payload, _ = answer(
        dev.datagram(plc.connect(expected=expected), PLC, 0.0).replies[0][0]
    )
    (module,) = decode_module_diff(split_blocks(payload, 0xDB, 64)[-1].body)  # type: ignore[arg-type]
    assert module.submodules[0].state == SUBMODULE_WRONG


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b: b[:-8], "0xDB 0x81 0x40 0x00"),  # ArgsLength beyond the data (NDR)
        (lambda b: b + bytes.fromhex("0199000400000000"), "0xDB 0x81 0x40 0x01"),  # unknown block
    ],
)
def test_malformed_bodies(mutate, code) -> None:  # type: ignore[no-untyped-def]
    dev, plc = make_device(), Controller()
    good = plc.connect()
    pdu = dcerpc.decode_pdu(good)
    _ndr, payload = dcerpc.decode_ndr(pdu.body, True)
    bad_payload = mutate(payload)
    if code.endswith("0x00"):
        body = pdu.body[:20] + payload[:-8]  # NDR still claims the full length
    else:
        body = dcerpc.encode_request_ndr(bad_payload, True)
    datagram = dcerpc.RpcPdu(pdu.header, body).encode()
    assert status_of(dev.datagram(datagram, PLC, 0.0)) == code
    assert dev.ar is None


def test_field_errors_name_the_block_and_parameter() -> None:
    dev, plc = make_device(), Controller()
    in_cr, out_cr = plc.iocrs()
    bad = (replace(in_cr, data_length=20), out_cr)
    assert status_of(dev.datagram(plc.connect(iocrs=bad), PLC, 0.0)) == "0xDB 0x81 0x02 0x08"
    bad = (replace(in_cr, send_clock_factor=3), out_cr)
    assert status_of(dev.datagram(plc.connect(iocrs=bad), PLC, 0.0)) == "0xDB 0x81 0x02 0x0A"
    bad = (replace(in_cr, data_hold_factor=0x1E00), out_cr)  # 0x1E00 × 8 ms > 1.92 s
    assert status_of(dev.datagram(plc.connect(iocrs=bad), PLC, 0.0)) == "0xDB 0x81 0x02 0x10"
    bad = (replace(in_cr, frame_id=0x0100), out_cr)
    assert status_of(dev.datagram(plc.connect(iocrs=bad), PLC, 0.0)) == "0xDB 0x81 0x02 0x09"
    plc.ar = replace(plc.ar, station_name="")
    assert status_of(dev.datagram(plc.connect(), PLC, 0.0)) == "0xDB 0x81 0x01 0x0C"
    assert dev.ar is None


def test_missing_iocr_and_alarm_cr_counts() -> None:
    dev, plc = make_device(), Controller()
    in_cr, _out = plc.iocrs()
    from ccy.profinet.rpc.connect_blocks import AlarmCrBlockReq, encode_expected

    payload = plc.ar.encode() + in_cr.encode() + AlarmCrBlockReq(1).encode()
    payload += b"".join(encode_expected(s) for s in dev.model.expected())
    out = dev.datagram(plc.request(Opnum.CONNECT, payload), PLC, 0.0)
    assert status_of(out) == "0xDB 0x81 0x40 0x02"
    in_cr, out_cr = plc.iocrs()
    payload = plc.ar.encode() + in_cr.encode() + out_cr.encode()
    payload += b"".join(encode_expected(s) for s in dev.model.expected())
    out = dev.datagram(plc.request(Opnum.CONNECT, payload), PLC, 0.0)
    assert status_of(out) == "0xDB 0x81 0x40 0x03"


def test_unknown_interface_and_opnum_are_rejected() -> None:
    dev, plc = make_device(), Controller()
    out = dev.datagram(plc.request(0, b"", iface=uuid.uuid4()), PLC, 0.0)
    pdu = dcerpc.decode_pdu(out.replies[0][0])
    assert pdu.header.ptype == PType.REJECT and pdu.body == (0x1C010003).to_bytes(4, "little")
    out = dev.datagram(plc.request(9, b""), PLC, 0.0)
    assert dcerpc.decode_pdu(out.replies[0][0]).body == (0x1C010002).to_bytes(4, "little")


def test_garbage_is_counted_and_not_answered() -> None:
    dev = make_device()
    for junk in (b"", b"\x04" * 79, b"\x05" + bytes(100), bytes(80)):
        assert dev.datagram(junk, PLC, 0.0).replies == []
    assert dev.counters.malformed == 4
