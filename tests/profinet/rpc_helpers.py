# SPDX-License-Identifier: Apache-2.0
"""Shared by the RPC tests: a device core with the charger's model, and requests as a
controller sends them (built with the PLC simulator's CM code, which is a separate client)."""

import uuid
from dataclasses import dataclass, field

from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.connect_blocks import AlarmCrBlockReq, ArBlockReq, IocrBlockReq
from ccy.profinet.rpc.dcerpc import Opnum, PType, RpcHeader
from ccy.profinet.rpc.device import RpcDevice
from ccy.profinet.rpc.model import default_model
from ccy.profinet.rpc.records import ImData
from ccy.profinet.rpc.status import PnioStatus
from ccy.sim.plc.cm import ar_block, connect_payload, plan_iocrs

PLC = ("192.0.2.1", 40000)
PLC_MAC = bytes.fromhex("020000000001")
DEVICE_MAC = bytes.fromhex("020000000002")
IN_LEN = 32
OUT_LEN = 44


def make_device() -> RpcDevice:
    im = ImData(vendor_id=0xFFFE, device_id=0x0001, order_id="CCY-MCS-1", serial_number="SN42")
    return RpcDevice(default_model(IN_LEN, OUT_LEN), im, DEVICE_MAC, station_name=lambda: "ccy")


@dataclass
class Controller:
    """Builds requests for one AR; ``seq`` counts per activity."""

    ar: ArBlockReq = field(default_factory=lambda: ar_block(PLC_MAC))
    activity: uuid.UUID = field(default_factory=uuid.uuid4)
    seq: int = 0
    little: bool = True

    def request(self, opnum: int, payload: bytes, iface: uuid.UUID = dcerpc.DEVICE_IFACE) -> bytes:
        header = RpcHeader(
            ptype=PType.REQUEST,
            flags1=dcerpc.Flags1.IDEMPOTENT,
            object_uuid=uuid.UUID("dea00000-6c97-11d1-8271-00010001fffe"),
            interface_uuid=iface,
            activity_uuid=self.activity,
            sequence=self.seq,
            opnum=opnum,
            little=self.little,
        )
        self.seq += 1
        body = dcerpc.encode_request_ndr(payload, self.little)
        return dcerpc.RpcPdu(header, body).encode()

    def iocrs(self, dhf: int = 3) -> tuple[IocrBlockReq, IocrBlockReq]:
        return plan_iocrs(default_model(IN_LEN, OUT_LEN).expected(), 0xC001, 32, 8, dhf)

    def connect(self, **changes: object) -> bytes:
        model = default_model(IN_LEN, OUT_LEN)
        iocrs = changes.pop("iocrs", None) or self.iocrs()
        expected = changes.pop("expected", None) or model.expected()
        alarm = AlarmCrBlockReq(local_alarm_reference=7)
        payload = connect_payload(self.ar, iocrs, alarm, expected)  # type: ignore[arg-type]
        return self.request(Opnum.CONNECT, payload)


def answer(datagram: bytes) -> tuple[PnioStatus, bytes, dcerpc.RpcHeader]:
    pdu = dcerpc.decode_pdu(datagram)
    assert pdu.header.ptype == PType.RESPONSE, pdu.header
    status = PnioStatus.decode_from(pdu.body[:4])
    _ndr, payload = dcerpc.decode_ndr(pdu.body, pdu.header.little)
    return status, payload, pdu.header
