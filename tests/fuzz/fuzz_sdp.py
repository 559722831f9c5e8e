# SPDX-License-Identifier: Apache-2.0
"""Fuzz the SDP parsers: ``decode_request`` and ``decode_response``, and the responder.

Only :class:`ccy.v2g.sdp.SdpError` subclasses may escape the decoders; the responder's
``handle`` must never raise and must answer only requests that decode, with a response that
decodes and carries an offered port. When the first byte is odd a valid header is put in front
of the rest, so the payload checks are reached.

    python tests/fuzz/fuzz_sdp.py -atheris_runs=1000000
"""

import contextlib
import struct
import sys

import atheris

with atheris.instrument_imports():
    from ccy.v2g import sdp


_RESPONDER = sdp.SdpResponder(sdp.SdpConfig("lo", udp_port=0, tls_port=50001, tcp_port=50002))
_RESPONDER._address = sdp.link_local_address("lo")  # as start() sets it, without a socket
_RESPONDER._log.disabled = True


def test_one_input(data: bytes) -> None:
    if not data:
        return
    stream = data[1:]
    if data[0] & 1 and stream:
        pt = (0x9000, 0x9001, 0x9002, 0x8001)[stream[0] % 4]
        body = stream[1:]
        stream = struct.pack(">BBHI", 1, 0xFE, pt, len(body)) + body
    for decoder in (sdp.decode_request, sdp.decode_response):
        with contextlib.suppress(sdp.SdpError):
            decoder(stream)
    try:
        request = sdp.decode_request(stream)
    except sdp.SdpError:
        request = None
    answer = _RESPONDER.handle(stream, ("::1", 40000, 0, 0))
    if (answer is None) != (request is None):
        raise AssertionError("answered a bad request or dropped a good one")
    if answer is not None:
        res = sdp.decode_response(answer)
        if res.port not in (50001, 50002):
            raise AssertionError(f"unexpected port {res.port}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
