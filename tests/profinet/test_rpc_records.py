# SPDX-License-Identifier: Apache-2.0
"""Record reads and writes (I&M0–4, I&M0FilterData, RealIdentificationData, WriteMultiple),
EPM lookup and fragmentation of the CM core."""

import struct
import uuid

from tests.profinet.rpc_helpers import PLC, Controller, answer, make_device

from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.dcerpc import Opnum
from ccy.profinet.rpc.records import (
    INDEX_WRITE_MULTIPLE,
    IOD_READ_REQ,
    IOD_WRITE_REQ,
    IodHeader,
    decode_im0,
    decode_res_header,
    im_from_identity,
    join_write_multiple,
)
from ccy.profinet.rpc.wire import block


def connected():  # type: ignore[no-untyped-def]
    dev, plc = make_device(), Controller()
    dev.datagram(plc.connect(), PLC, 0.0)
    return dev, plc


def read(dev, plc, slot: int, subslot: int, index: int, implicit: bool = False):  # type: ignore[no-untyped-def]
    ar = uuid.UUID(int=0) if implicit else plc.ar.ar_uuid
    req = IodHeader(IOD_READ_REQ, 1, ar, 0, slot, subslot, index, 4096)
    opnum = Opnum.READ_IMPLICIT if implicit else Opnum.READ
    status, payload, _ = answer(
        dev.datagram(plc.request(opnum, req.encode()), PLC, 0.1).replies[0][0]
    )
    header = decode_res_header(payload)
    assert header.index == index
    return status, payload[64:]


def test_im0_carries_the_dcp_identity() -> None:
    dev, plc = connected()
    status, data = read(dev, plc, 0, 1, 0xAFF0)
    assert status.ok and len(data) == 60
    im0 = decode_im0(data)
    assert im0["vendor_id"] == 0xFFFE and im0["order_id"] == "CCY-MCS-1"
    assert im0["im_version"] == (1, 1) and im0["im_supported"] == 0x1E


def test_im_from_identity_uses_the_one_identity() -> None:
    im = im_from_identity(IDENTITY, "0001")
    assert (im.vendor_id, im.device_id, im.order_id) == (
        IDENTITY.vendor_id,
        IDENTITY.device_id,
        IDENTITY.order_id,
    )
    assert decode_im0(im.im0())["sw_revision"] == IDENTITY.sw_revision


def test_implicit_read_needs_no_ar() -> None:
    dev, plc = make_device(), Controller()
    status, data = read(dev, plc, 0, 1, 0xAFF0, implicit=True)
    assert status.ok and decode_im0(data)["serial_number"] == "SN42"


def test_explicit_read_without_ar_is_refused() -> None:
    dev, plc = make_device(), Controller()
    req = IodHeader(IOD_READ_REQ, 1, plc.ar.ar_uuid, 0, 0, 1, 0xAFF0, 4096)
    status, _payload, _ = answer(
        dev.datagram(plc.request(Opnum.READ, req.encode()), PLC, 0).replies[0][0]
    )
    assert str(status) == "0xDE 0x81 0x40 0x05"


def test_unknown_index_and_slot() -> None:
    dev, plc = connected()
    assert str(read(dev, plc, 0, 1, 0x1234)[0]) == "0xDE 0x80 0xB0 0x00"
    assert str(read(dev, plc, 5, 1, 0xAFF0)[0]) == "0xDE 0x80 0xB2 0x00"


def test_filter_data_and_real_identification() -> None:
    dev, plc = connected()
    status, data = read(dev, plc, 0, 1, 0xF840)
    assert status.ok
    types = []
    pos = 0
    while pos < len(data):
        btype, blen = struct.unpack_from(">HH", data, pos)
        types.append(btype)
        pos += 4 + blen
    assert types == [0x0030, 0x0031, 0x0032]
    status, data = read(dev, plc, 0, 1, 0xF000)
    assert status.ok and struct.unpack_from(">H", data)[0] == 0x0013
    body = data[6:]
    n_apis, api, n_slots = struct.unpack_from(">HIH", body)
    assert (n_apis, api, n_slots) == (1, 0, 2)
    slot, ident = struct.unpack_from(">HI", body, 8)
    assert (slot, ident) == (0, 1)


def write_request(plc, writes):  # type: ignore[no-untyped-def]
    headers = [
        (IodHeader(IOD_WRITE_REQ, n, plc.ar.ar_uuid, 0, s, ss, i, len(d)), d)
        for n, (s, ss, i, d) in enumerate(writes)
    ]
    inner = join_write_multiple(headers)
    outer = IodHeader(
        IOD_WRITE_REQ,
        9,
        plc.ar.ar_uuid,
        0xFFFFFFFF,
        0xFFFF,
        0xFFFF,
        INDEX_WRITE_MULTIPLE,
        len(inner),
    )
    return plc.request(Opnum.WRITE, outer.encode() + inner)


def test_write_multiple_stores_im1_and_reports_each_write() -> None:
    dev, plc = connected()
    im1 = block(0x0021, b"PUMP".ljust(32) + b"HALL 3".ljust(22))
    im2 = block(0x0022, b"2026-12-02 14:00")
    out = dev.datagram(
        write_request(plc, [(0, 1, 0xAFF1, im1), (0, 1, 0xAFF2, im2), (1, 1, 0x0042, b"x")]),
        PLC,
        0.1,
    )
    status, payload, _ = answer(out.replies[0][0])
    assert str(status) == "0xDF 0x80 0xB0 0x00"  # the third write: index unknown
    results = [decode_res_header(payload[64 * n : 64 * (n + 1)]) for n in range(4)]
    assert [r.status.ok for r in results[1:]] == [True, True, False]
    assert dev.im.im1_tag_function == "PUMP" and dev.im.im1_tag_location == "HALL 3"
    assert dev.im.im2_date == "2026-12-02 14:00"
    status, data = read(dev, plc, 0, 1, 0xAFF1)
    assert status.ok and data == im1


def test_a_malformed_im_record_is_refused() -> None:
    dev, plc = connected()
    bad = block(0x0021, b"too short")
    out = dev.datagram(write_request(plc, [(0, 1, 0xAFF1, bad), (0, 1, 0xAFF1, bad)]), PLC, 0.1)
    assert str(answer(out.replies[0][0])[0]) == "0xDF 0x80 0xB1 0x00"


def test_epm_lookup_returns_the_pnio_interface_then_ends() -> None:
    dev, plc = make_device(), Controller()
    body = struct.pack("<IIIII", 0, 0, 0, 0, 0) + bytes(20) + struct.pack("<I", 1)
    out = dev.datagram(plc.request(2, body, iface=dcerpc.EPM_IFACE), PLC, 0.0)
    pdu = dcerpc.decode_pdu(out.replies[0][0])
    handle = pdu.body[4:20]
    assert handle != bytes(16)
    assert struct.unpack_from("<I", pdu.body, 20)[0] == 1  # one entry
    assert dcerpc.DEVICE_IFACE.bytes_le in pdu.body
    assert struct.unpack_from("<I", pdu.body, len(pdu.body) - 4)[0] == 0
    again = struct.pack("<IIIII", 0, 0, 0, 0, 0) + pdu.body[0:20] + struct.pack("<I", 1)
    out = dev.datagram(plc.request(2, again, iface=dcerpc.EPM_IFACE), PLC, 0.0)
    end = dcerpc.decode_pdu(out.replies[0][0]).body
    assert struct.unpack_from("<I", end, len(end) - 4)[0] == 0x16C9A0D6


def test_fragmented_request_is_reassembled_and_a_long_answer_fragmented() -> None:
    header = dcerpc.RpcHeader(0, 0x20, uuid.uuid4(), dcerpc.DEVICE_IFACE, uuid.uuid4(), 5, 0)
    body = bytes(range(256)) * 12
    parts = dcerpc.fragments(header, body)
    assert len(parts) == 3 and all(len(p) <= 80 + 1464 for p in parts)
    r = dcerpc.Reassembly()
    pdus = [dcerpc.decode_pdu(p) for p in parts]
    assert r.add(pdus[2]) is None and r.add(pdus[0]) is None
    whole = r.add(pdus[1])
    assert whole is not None and whole.body == body
