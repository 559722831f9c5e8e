# SPDX-License-Identifier: Apache-2.0
"""Malformed Connect requests built with scapy's pnio_rpc layers (scapy is a test dependency;
nobody here wrote it) sent over UDP to a running IoDevice: each is answered with the PNIO
error code IEC 61158-6-10 gives, garbage is dropped, and the device keeps serving — a good
Connect afterwards succeeds."""

import asyncio
import logging
import socket
import uuid

from scapy.contrib import pnio_rpc as rpc
from tests.profinet.rpc_helpers import Controller, make_device
from tests.profinet.test_rt_iodevice import Link, Listener

from ccy.profinet.rpc import dcerpc
from ccy.profinet.rpc.status import PnioStatus
from ccy.profinet.rt.iodevice import IoDevice


def scapy_connect(*blocks: object, ar_type: int = 1, station_len: int | None = None) -> bytes:
    ar = rpc.ARBlockReq(
        ARType=ar_type,
        ARUUID=str(uuid.uuid4()),
        SessionKey=1,
        CMInitiatorMacAdd="02:00:00:00:00:01",
        CMInitiatorObjectUUID="dea00000-6c97-11d1-8271-000100020003",
        ARProperties_ParametrizationServer=1,
        ARProperties_State=1,
        CMInitiatorActivityTimeoutFactor=100,
        CMInitiatorStationName="plc",
    )
    if station_len is not None:
        ar.StationNameLength = station_len
    pdu = rpc.DceRpc4(
        ptype="request",
        flags1=0x20,
        opnum=0,
        if_id=rpc.RPC_INTERFACE_UUID["UUID_IO_DeviceInterface"],
        act_id=str(uuid.uuid4()),
    ) / rpc.PNIOServiceReqPDU(blocks=[ar, *blocks])
    return bytes(pdu)


def iocr(kind: str, **fields: object) -> object:
    values: dict[str, object] = {
        "IOCRType": kind, "IOCRReference": 1 if kind == "InputCR" else 2, "DataLength": 40,
        "FrameID": 0xC001 if kind == "InputCR" else 0xFFFF, "SendClockFactor": 32,
        "ReductionRatio": 8, "Phase": 1, "WatchdogFactor": 3, "DataHoldFactor": 3,
        "IOCRProperties_RTClass": 1,
    }  # fmt: skip
    return rpc.IOCRBlockReq(**{**values, **fields})


async def exchange(port: int, datagram: bytes) -> PnioStatus | None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        await loop.sock_sendto(sock, datagram, ("127.0.0.1", port))
        try:
            answer = await asyncio.wait_for(loop.sock_recv(sock, 4096), 0.5)
        except TimeoutError:
            return None
    finally:
        sock.close()
    pdu = dcerpc.decode_pdu(answer)
    return PnioStatus.decode_from(pdu.body[:4])


async def scenario() -> list[str | None]:
    link = Link()
    core = make_device()
    dev = IoDevice(
        link, core.model, core.im, Listener(link), logging.getLogger("t"),
        rpc_host="127.0.0.1", rpc_port=0,
    )  # fmt: skip
    await dev.start()
    port = dev.rpc.server_port
    results: list[str | None] = []
    cases = [
        scapy_connect(),  # IOCARSingle without IOCRs
        scapy_connect(iocr("InputCR"), iocr("OutputCR"), ar_type=3),  # ARType unknown here
        scapy_connect(iocr("InputCR"), iocr("OutputCR"), station_len=200),  # name length lies
        scapy_connect(iocr("InputCR", DataLength=2000), iocr("OutputCR")),  # C_SDU too long
        scapy_connect(iocr("InputCR", ReductionRatio=3), iocr("OutputCR")),  # not a power of 2
        scapy_connect(iocr("InputCR"), iocr("OutputCR")),  # no AlarmCR
        b"\x04\x00" + bytes(30),  # garbage
    ]
    for case in cases:
        status = await exchange(port, case)
        results.append(None if status is None else str(status))
    good = Controller()
    status = await exchange(port, good.connect())
    results.append(None if status is None else str(status))
    await dev.stop()
    return results


def test_malformed_connects_get_error_codes_and_the_device_keeps_serving() -> None:
    assert asyncio.run(scenario()) == [
        "0xDB 0x81 0x40 0x02",  # CMRPC: IOCR missing
        "0xDB 0x81 0x01 0x04",  # ARBlockReq: ARType
        "0xDB 0x81 0x01 0x01",  # ARBlockReq: BlockLength too short for the station name
        "0xDB 0x81 0x02 0x08",  # IOCRBlockReq: DataLength
        "0xDB 0x81 0x02 0x0B",  # IOCRBlockReq: ReductionRatio
        "0xDB 0x81 0x40 0x03",  # CMRPC: wrong AlarmCR count
        None,  # not RPC: no answer
        "0x00 0x00 0x00 0x00",  # a good Connect still works
    ]
