# SPDX-License-Identifier: Apache-2.0
"""Fuzz the DCP receive path and the LLDP reader.

Every input is run through the responder core as the payload of a 0x8892 frame (to our MAC
or to the Identify multicast address, chosen by the first byte): nothing may escape
``DcpResponder.handle``, only DcpError subclasses may escape ``parse_pdu``, and every frame the
responder sends must parse again as a DCP response with the request's Xid. When the first
byte's bit 1 is set, the rest is shaped into a well-formed DCP header (FrameID, service, a
DCPDataLength that fits) so the block parsers, filters and Set handlers are reached. The same
bytes go to ``parse_lldpdu``, which may only raise LldpError subclasses.

    python tests/fuzz/fuzz_profinet_dcp.py -atheris_runs=1000000
"""

import contextlib
import struct
import sys

import atheris

with atheris.instrument_imports():
    from ccy.profinet.dcp.codec import DcpError, IpParameter, parse_pdu
    from ccy.profinet.dcp.responder import DcpResponder, DcpState, Send
    from ccy.profinet.ethernet import EthernetFrame, parse_frame
    from ccy.profinet.lldp import LldpError, parse_lldpdu

MAC = bytes.fromhex("020000001234")
PLC = bytes.fromhex("0200000000aa")
IDENT = bytes.fromhex("010ecf000000")
FRAME_IDS = (0xFEFC, 0xFEFD, 0xFEFE, 0xFEFF)


def shaped(data: bytes) -> bytes:
    if len(data) < 4:
        return data
    frame_id = FRAME_IDS[data[0] & 3]
    service = 3 + (data[1] % 4)
    stype = 0 if data[2] & 0x80 else data[2] & 7
    body = data[4:]
    return struct.pack("!HBBIHH", frame_id, service, stype, 0x1234, data[3], len(body)) + body


def test_one_input(data: bytes) -> None:
    if not data:
        return
    payload = shaped(data[1:]) if data[0] & 2 else data[1:]
    responder = DcpResponder(
        MAC,
        DcpState(
            "ccy-charger",
            IpParameter.from_strings("192.0.2.2", "255.255.255.0"),
            alias="port-001.plc",
        ),
    )
    dst = MAC if data[0] & 1 else IDENT
    with contextlib.suppress(DcpError):
        parse_pdu(payload)
    for effect in responder.handle(EthernetFrame(dst, PLC, 0x8892, payload), 0.0):
        if isinstance(effect, Send):
            reply = parse_frame(effect.frame)
            pdu = parse_pdu(reply.payload)
            if reply.dst != PLC or pdu.service_type not in (1, 5):
                raise AssertionError("the responder sent something that is not a response")
    with contextlib.suppress(LldpError):
        parse_lldpdu(data[1:], PLC)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
