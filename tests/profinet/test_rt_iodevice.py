# SPDX-License-Identifier: Apache-2.0
"""IoDevice in one process without a network: the CM core is fed datagrams, frames go to a
recording link, the controller's cyclic frames come in through ``on_frame``. Checks the
listener sees states and outputs, the inputs reach the frames with IOPS good only in data
exchange, a diagnosis alarm goes out, and on DHT expiry the listener hears "Aborted" before
the ERR-RTA frame is sent and the provider stops."""

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, replace

from tests.profinet.rpc_helpers import DEVICE_MAC, IN_LEN, OUT_LEN, Controller, make_device

from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.dcerpc import Opnum, PType
from ccy.profinet.rpc.model import default_model
from ccy.profinet.rpc.records import CMD_DONE, CMD_PRM_END, CONTROL_PRM_END_REQ, ControlBlock
from ccy.profinet.rt import alarm
from ccy.profinet.rt.frames import DS_GOOD, IOXS_GOOD, build_c_sdu, encode_payload, layout
from ccy.profinet.rt.iodevice import IoDevice

PLC = ("127.0.0.1", 40000)


class Link:
    mac = DEVICE_MAC

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.lock = threading.Lock()

    def send(self, frame: bytes) -> None:
        with self.lock:
            self.frames.append(frame)

    def last(self, frame_id: int) -> bytes | None:
        with self.lock:
            for f in reversed(self.frames):
                if int.from_bytes(f[18:20], "big") == frame_id:
                    return f
        return None


@dataclass
class Frame:
    src: bytes
    ethertype: int
    payload: bytes


class Listener:
    def __init__(self, link: Link) -> None:
        self.link = link
        self.states: list[tuple[str, str, int]] = []
        self.outputs: list[tuple[bytes, bool]] = []

    def on_ar_state(self, state: str, arep: int, reason: str) -> None:
        errors = sum(1 for f in self.link.frames if f[18:20] == b"\xfe\x01" and f[24] == 0x14)
        self.states.append((state, reason, errors))

    def on_output(self, data: bytes, valid: bool) -> None:
        self.outputs.append((data, valid))


async def wait_for(check, limit_s: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


async def scenario() -> None:
    link = Link()
    listener = Listener(link)
    core = make_device()
    dev = IoDevice(
        link, default_model(IN_LEN, OUT_LEN), core.im, listener, logging.getLogger("test"),
        rpc_host="127.0.0.1", rpc_port=0,
    )  # fmt: skip
    await dev.start()
    plc = Controller()
    now = time.monotonic
    dev.rpc.apply(dev.core.datagram(plc.connect(), PLC, now()))
    assert listener.states[0][0] == "Connected"
    await wait_for(lambda: link.last(0xC001) is not None)  # the provider starts at once
    prm = ControlBlock(CONTROL_PRM_END_REQ, plc.ar.ar_uuid, plc.ar.session_key, CMD_PRM_END)
    out = dev.core.datagram(plc.request(Opnum.CONTROL, prm.encode()), PLC, now())
    request = dcerpc.decode_pdu(out.client[0][0])
    dev.rpc.apply(out)
    reply = dcerpc.RpcPdu(
        replace(request.header, ptype=PType.RESPONSE),
        dcerpc.encode_response_ndr(
            bytes(4), ControlBlock(0x8112, plc.ar.ar_uuid, 1, CMD_DONE).encode(), True
        ),
    )
    dev.rpc.apply(dev.core.client_datagram(reply.encode(), now()))
    assert [s[0] for s in listener.states] == ["Connected", "PrmEnd", "DataExchange"]

    dev.set_input_data(b"\x42" * IN_LEN)
    in_lay = layout(plc.iocrs()[0], dev.model.expected())
    io = in_lay.find(1, 1)
    assert io is not None

    def inputs_sent() -> bool:
        f = link.last(0xC001)
        sdu = f[20:] if f else b""
        return sdu[io.offset : io.offset + IN_LEN + 1] == b"\x42" * IN_LEN + bytes([IOXS_GOOD])

    await wait_for(inputs_sent)

    assert dev.core.ar is not None and dev.core.ar.output_cr is not None
    out_lay = layout(dev.core.ar.output_cr, dev.model.expected())
    sdu = build_c_sdu(
        out_lay,
        {(o.slot, o.subslot): (b"\x07" * o.length, IOXS_GOOD) for o in out_lay.data},
        {(s, ss): IOXS_GOOD for s, ss, _ in out_lay.iocs},
    )
    for n in range(1, 6):
        dev.on_frame(Frame(b"", 0x8892, encode_payload(out_lay.frame_id, sdu, n * 256, DS_GOOD)))
        await asyncio.sleep(0.004)
    assert listener.outputs == [(b"\x07" * OUT_LEN, True)]
    dev.on_frame(Frame(b"", 0x8892, encode_payload(out_lay.frame_id, sdu[:-1], 9999, DS_GOOD)))
    assert dev.stats.dropped_length == 1

    dev.send_diagnosis(True, 0x0100, text="connector")
    await wait_for(lambda: link.last(alarm.FRAME_ID_LOW) is not None)
    data = link.last(alarm.FRAME_ID_LOW)
    assert data is not None and data[24] == 0x11  # RTA DATA

    # no more frames from the PLC: DHT (3 × 8 ms) expires
    await wait_for(lambda: listener.states[-1][0] == "Aborted", 2.0)
    _state, reason, errors_at_callback = listener.states[-1]
    assert reason == "DHT expired" and errors_at_callback == 0  # power first, then the frame
    err = link.last(alarm.FRAME_ID_LOW)
    assert err is not None and err[24] == 0x14 and err[32:36] == bytes.fromhex("cf81fd05")
    sent = len(link.frames)
    await asyncio.sleep(0.05)
    assert len(link.frames) == sent  # the provider stopped
    assert dev.stats.dht_expired == 1
    await dev.stop()


def test_iodevice_startup_data_alarm_and_dht_expiry() -> None:
    asyncio.run(scenario())


def test_set_input_data_refuses_a_wrong_length() -> None:
    link = Link()
    core = make_device()
    dev = IoDevice(link, core.model, core.im, Listener(link), logging.getLogger("t"))
    try:
        dev.set_input_data(b"\x00" * (IN_LEN + 1))
    except ValueError as exc:
        assert "33 bytes" in str(exc)
    else:
        raise AssertionError("accepted")
