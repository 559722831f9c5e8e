# SPDX-License-Identifier: Apache-2.0
"""Fuzz the Profinet CM core and the RT/alarm decoders with arbitrary datagrams and frames.

Properties: ``RpcDevice.datagram`` never raises, whatever arrives; every answer it gives is a
well-formed DCE/RPC PDU whose PNIOStatus is OK only when the request was accepted; a refused
Connect leaves the device without an AR. ``decode_payload`` raises only FrameError,
``decode_rta``/``decode_alarm_block`` only AlarmError.

The first byte picks how the rest is used, so the deep parsers are reached: 0 raw datagram,
1 a valid RPC header around fuzzed PNIO blocks (opnum from the next byte), 2 a valid Connect
with fuzzed bytes written over it, 3 record/control requests to a device that has an AR,
4 cyclic and alarm frames.

    python tests/fuzz/fuzz_profinet_rpc.py -atheris_runs=1000000
"""

import contextlib
import sys
import uuid
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from ccy.profinet.rpc import dcerpc
    from ccy.profinet.rpc.connect_blocks import AlarmCrBlockReq
    from ccy.profinet.rpc.dcerpc import PType, RpcHeader
    from ccy.profinet.rpc.device import RpcDevice
    from ccy.profinet.rpc.model import default_model
    from ccy.profinet.rpc.records import ImData
    from ccy.profinet.rpc.status import PnioStatus
    from ccy.profinet.rt import alarm
    from ccy.profinet.rt.frames import FrameError, decode_payload, layout
    from ccy.sim.plc.cm import ar_block, connect_payload, plan_iocrs

TOP = Path(__file__).resolve().parents[2]
PEER = ("192.0.2.1", 40000)
MODEL = default_model(32, 44)
EXPECTED = MODEL.expected()
IOCRS = plan_iocrs(EXPECTED, 0xC001, 32, 8, 3)
AR = ar_block(bytes.fromhex("020000000001"))
CONNECT = connect_payload(AR, IOCRS, AlarmCrBlockReq(7), EXPECTED)
IN_LAYOUT = layout(IOCRS[0], EXPECTED)


def device() -> RpcDevice:
    im = ImData(vendor_id=0xFFFE, device_id=1, order_id="CCY", serial_number="1")
    return RpcDevice(MODEL, im, bytes(6))


def request(opnum: int, payload: bytes, little: bool = True) -> bytes:
    header = RpcHeader(
        ptype=PType.REQUEST, flags1=0x20, object_uuid=uuid.UUID(int=1),
        interface_uuid=dcerpc.DEVICE_IFACE, activity_uuid=uuid.uuid4(), sequence=0,
        opnum=opnum, little=little,
    )  # fmt: skip
    return dcerpc.RpcPdu(header, dcerpc.encode_request_ndr(payload, little)).encode()


def check_answers(dev: RpcDevice, datagram: bytes, had_ar: bool) -> None:
    ar_before = dev.ar
    out = dev.datagram(datagram, PEER, 0.0)
    for reply, _peer in out.replies:
        pdu = dcerpc.decode_pdu(reply)
        if pdu.header.ptype == PType.RESPONSE and pdu.header.opnum == 0 and len(pdu.body) >= 4:
            status = PnioStatus.decode_from(pdu.body[:4])
            if pdu.header.interface_uuid == dcerpc.DEVICE_IFACE and not status.ok:
                assert dev.ar is ar_before, "a refused Connect changed the AR"
    if not had_ar and dev.ar is not None:
        assert any(dcerpc.decode_pdu(r).header.ptype == PType.RESPONSE for r, _ in out.replies)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 5, data[1:]
    if mode == 0:
        check_answers(device(), rest, False)
    elif mode == 1 and rest:
        check_answers(device(), request(rest[0] % 7, rest[1:], bool(rest[0] & 0x80)), False)
    elif mode == 2:
        payload = bytearray(CONNECT)
        for i in range(0, len(rest) - 2, 3):
            payload[(rest[i] << 8 | rest[i + 1]) % len(payload)] = rest[i + 2]
        check_answers(device(), request(0, bytes(payload)), False)
    elif mode == 3 and rest:
        dev = device()
        dev.datagram(request(0, CONNECT), PEER, 0.0)
        check_answers(dev, request(1 + rest[0] % 5, rest[1:]), True)
        dev.tick(rest[0] / 10.0)
    elif mode == 4:
        with contextlib.suppress(FrameError):
            decode_payload(rest, IN_LAYOUT)
        try:
            _fid, pdu = alarm.decode_rta(rest)
            alarm.decode_alarm_block(pdu.var_part)
        except alarm.AlarmError:
            pass


def seed_corpus() -> Path:
    corpus = TOP / ".cache" / "fuzz" / "profinet_rpc"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "connect").write_bytes(b"\x00" + request(0, CONNECT))
    (corpus / "connect_blocks").write_bytes(b"\x01\x00" + CONNECT)
    (corpus / "records").write_bytes(b"\x03\x02" + bytes(64))
    return corpus


def main() -> None:
    argv = sys.argv
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv = [*argv, str(seed_corpus())]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
