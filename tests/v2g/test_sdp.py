# SPDX-License-Identifier: Apache-2.0
"""SDP codec and responder on real UDP sockets (loopback; link-local multicast in netns)."""

import asyncio
import ipaddress
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ccy.testing import netns
from ccy.v2g import sdp
from ccy.v2g.sdp import Security, Transport

CAPTURED_REQ = bytes.fromhex("01fe9000000000021000")
CAPTURED_RES = bytes.fromhex("01fe900100000014fe80000000000000d482f8fffe11ec90d20f1000")


def test_captured_request_and_response() -> None:
    assert sdp.decode_request(CAPTURED_REQ) == sdp.SdpRequest(Security.NONE, Transport.TCP)
    res = sdp.decode_response(CAPTURED_RES)
    assert res.address == ipaddress.IPv6Address("fe80::d482:f8ff:fe11:ec90")
    assert res.port == 53775
    assert res.security is Security.NONE
    assert sdp.encode_response(res.address, res.port, res.security) == CAPTURED_RES
    assert sdp.encode_request(Security.NONE) == CAPTURED_REQ


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (bytes.fromhex("02fe9000000000021000"), sdp.SdpHeaderError),
        (bytes.fromhex("01fd9000000000021000"), sdp.SdpHeaderError),
        (bytes.fromhex("01fe8001000000021000"), sdp.SdpWrongType),
        (bytes.fromhex("01fe9001000000021000"), sdp.SdpWrongType),
        (bytes.fromhex("01fe9000000000031000"), sdp.SdpWrongLength),
        (bytes.fromhex("01fe900000000002100000"), sdp.SdpWrongLength),
        (bytes.fromhex("01fe90000000000210"), sdp.SdpWrongLength),
        (bytes.fromhex("01fe9000000000012000"), sdp.SdpWrongLength),
        (bytes.fromhex("01fe9000000000022000"), sdp.SdpUnknownValue),
        (bytes.fromhex("01fe9000000000021001"), sdp.SdpUnknownValue),
        (bytes.fromhex("01fe90"), sdp.SdpHeaderError),
        (b"", sdp.SdpHeaderError),
    ],
)
def test_bad_requests_are_named(data: bytes, error: type[sdp.SdpError]) -> None:
    with pytest.raises(error):
        sdp.decode_request(data)


def test_link_local_address_from_if_inet6(tmp_path: Path) -> None:
    table = tmp_path / "if_inet6"
    table.write_text(
        "fd000000000000000000000000000002 04 40 00 82     eth1\n"
        "fe800000000000000000000000000001 05 40 20 80  ccy-secc0\n"
        "fe80000000000000d482f8fffe11ec90 04 40 20 80     eth1\n"
    )
    assert sdp.link_local_address("eth1", table) == ipaddress.IPv6Address(
        "fe80::d482:f8ff:fe11:ec90"
    )
    assert sdp.link_local_address("lo", table) == ipaddress.IPv6Address("::1")
    with pytest.raises(sdp.NoLinkLocalAddress, match="eth9"):
        sdp.link_local_address("eth9", table)


async def _exchange(port: int, datagrams: list[bytes], wait_s: float = 0.3) -> list[bytes]:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    answers = []
    try:
        for data in datagrams:
            await loop.sock_sendto(sock, data, ("::1", port))
            try:
                answers.append(await asyncio.wait_for(loop.sock_recv(sock, 100), wait_s))
            except TimeoutError:
                answers.append(b"")
    finally:
        sock.close()
    return answers


def test_responder_answers_and_drops(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        responder = sdp.SdpResponder(
            sdp.SdpConfig("lo", udp_port=0, tls_port=50001, tcp_port=50002)
        )
        await responder.start()
        try:
            bad = [bytes.fromhex("02fe9000000000021000"), bytes.fromhex("01fe9000000000031000")]
            tls, plain, *dropped = await _exchange(
                responder.port,
                [sdp.encode_request(Security.TLS), sdp.encode_request(Security.NONE), *bad],
            )
            assert sdp.decode_response(tls) == sdp.SdpResponse(
                ipaddress.IPv6Address("::1"), 50001, Security.TLS, Transport.TCP
            )
            assert sdp.decode_response(plain).port == 50002
            assert dropped == [b"", b""]
            c = responder.counters
            assert (c.sdp_requests, c.sdp_responses, c.sdp_dropped) == (2, 2, 2)
            # TLS withdrawn: a TLS request gets the no-TLS server
            responder.set_ports(tls_port=None, tcp_port=50002)
            (answer,) = await _exchange(responder.port, [sdp.encode_request(Security.TLS)])
            assert sdp.decode_response(answer)[1:3] == (50002, Security.NONE)
            # nothing offered: silence
            responder.set_ports(tls_port=None, tcp_port=None)
            (answer,) = await _exchange(responder.port, [sdp.encode_request(Security.TLS)])
            assert answer == b""
        finally:
            await responder.close()

    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        asyncio.run(main())
    got = [r.getMessage() for r in caplog.records if "Got SDP request" in r.getMessage()]
    assert got[0] == "Got SDP request from ::1"
    assert any("Dropped SDP request" in r.getMessage() for r in caplog.records)


def test_responder_only_accepts_tls_when_only_tls_offered() -> None:
    async def main() -> None:
        responder = sdp.SdpResponder(sdp.SdpConfig("lo", udp_port=0, tls_port=50001))
        await responder.start()
        try:
            (answer,) = await _exchange(responder.port, [sdp.encode_request(Security.NONE)])
            assert sdp.decode_response(answer)[1:3] == (50001, Security.TLS)
        finally:
            await responder.close()

    asyncio.run(main())


MULTICAST_CLIENT = """
import socket, sys, time
sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.settimeout(0.25)
idx = socket.if_nametoindex(sys.argv[1])
sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
deadline = time.monotonic() + 5  # a new veth pair needs a moment for its carrier;
while True:                      # vehicles repeat SDP requests too
    try:
        sock.sendto(bytes.fromhex("01fe9000000000021000"), ("ff02::1", int(sys.argv[2]), 0, idx))
        print(sock.recv(100).hex())
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)
"""


@pytest.mark.root
@pytest.mark.skipif(not netns.available(), reason="needs root and ip for network namespaces")
def test_multicast_request_on_a_veth_link_gets_the_link_local_address() -> None:
    layout = netns.NetLayout(31)
    with netns.charger_network(31):
        server = subprocess.Popen(
            netns.exec_in(
                layout.charger_ns,
                [sys.executable, "-c", _SERVER.format(iface=layout.secc.interface)],
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            done = subprocess.run(
                netns.exec_in(
                    layout.ev_ns,
                    [sys.executable, "-c", MULTICAST_CLIENT, layout.evcc.interface, str(port)],
                ),
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            res = sdp.decode_response(bytes.fromhex(done.stdout.strip()))
            assert res.address == ipaddress.IPv6Address(layout.secc.address)
            assert res.port == 50002
        finally:
            server.terminate()
            server.wait(5)


_SERVER = """
import asyncio
from ccy.v2g import sdp

async def main():
    r = sdp.SdpResponder(sdp.SdpConfig("{iface}", udp_port=0, tcp_port=50002))
    await r.start()
    print(r.port, flush=True)
    await asyncio.sleep(30)

asyncio.run(main())
"""
