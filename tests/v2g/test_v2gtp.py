# SPDX-License-Identifier: Apache-2.0
"""V2GTP header codec: the captured frames of a Josev session, and every named header error."""

import asyncio
from pathlib import Path

import pytest

from ccy.v2g import v2gtp
from ccy.v2g.exi import Namespace, decode
from ccy.v2g.v2gtp import PayloadType

WIRE = Path(__file__).parent.parent / "data/vectors/iso15118-20/josev_dc20_wire_v2gtp_sdp.txt"


def _tcp_frames() -> list[bytes]:
    frames = []
    for line in WIRE.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "TCP":
            frames.append(bytes.fromhex(parts[-1]))
    return frames


def test_captured_frames_decode_with_their_namespace() -> None:
    frames = _tcp_frames()
    assert len(frames) > 20
    seen = set()
    for raw in frames:
        frame, rest = v2gtp.decode(raw, max_payload_bytes=65536)
        assert rest == b""
        ns = v2gtp.namespace_for(frame.payload_type)
        assert ns is not None
        ((name, _body),) = decode(ns, frame.payload).items()
        seen.add((frame.payload_type, name))
        assert v2gtp.encode(frame.payload_type, frame.payload) == raw
    assert (PayloadType.SAP, "supportedAppProtocolReq") in seen
    assert (PayloadType.DC, "DC_ChargeLoopReq") in seen
    assert (PayloadType.COMMON, "SessionSetupReq") in seen


@pytest.mark.parametrize(
    ("ns", "pt"),
    [
        (Namespace.SAP, 0x8001),
        (Namespace.CM, 0x8002),
        (Namespace.AC, 0x8003),
        (Namespace.DC, 0x8004),
    ],
)
def test_payload_type_by_namespace(ns: Namespace, pt: int) -> None:
    assert v2gtp.payload_type_for(ns) == pt
    assert v2gtp.namespace_for(pt) is ns


def test_types_without_codec_and_unknown_types_have_no_namespace() -> None:
    assert v2gtp.namespace_for(PayloadType.ACDP) is None
    assert v2gtp.namespace_for(0x1234) is None


GOOD = bytes.fromhex("01fe80010000000480400040")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (bytes.fromhex("02fe800100000004"), v2gtp.WrongVersion),
        (bytes.fromhex("01ff800100000004"), v2gtp.WrongInverse),
        (bytes.fromhex("01fe123400000004"), v2gtp.UnknownPayloadType),
        (bytes.fromhex("01fe900000000002"), v2gtp.UnknownPayloadType),  # SDP is UDP only
        (bytes.fromhex("01fe800200001001"), v2gtp.TooLong),
        (bytes.fromhex("01fe8002ffffffff"), v2gtp.TooLong),
        (bytes.fromhex("01fe8002"), v2gtp.Truncated),
        (b"", v2gtp.Truncated),
    ],
)
def test_bad_headers_raise_named_errors(data: bytes, error: type[v2gtp.V2gtpError]) -> None:
    with pytest.raises(error) as info:
        v2gtp.decode_header(data, max_payload_bytes=4096)
    assert info.value.counter
    assert str(info.value)


def test_limit_is_inclusive_and_configurable() -> None:
    header = v2gtp.encode(PayloadType.COMMON, b"x" * 100)[:8]
    assert v2gtp.decode_header(header, max_payload_bytes=100).length == 100
    with pytest.raises(v2gtp.TooLong):
        v2gtp.decode_header(header, max_payload_bytes=99)


def test_truncated_payload() -> None:
    with pytest.raises(v2gtp.Truncated):
        v2gtp.decode(GOOD[:-1])


def test_bytes_after_a_message_are_returned() -> None:
    frame, rest = v2gtp.decode(GOOD + b"\xde\xad")
    assert frame == v2gtp.Frame(PayloadType.SAP, bytes.fromhex("80400040"))
    assert rest == b"\xde\xad"


def test_encode_refuses_wide_payload_type() -> None:
    with pytest.raises(ValueError):
        v2gtp.encode(0x10000, b"")


def _read(chunks: list[tuple[float, bytes]], **kw: float) -> v2gtp.Frame:
    async def main() -> v2gtp.Frame:
        reader = asyncio.StreamReader()

        async def feed() -> None:
            for delay, data in chunks:
                await asyncio.sleep(delay)
                if data:
                    reader.feed_data(data)
                else:
                    reader.feed_eof()

        feeder = asyncio.create_task(feed())
        try:
            return await v2gtp.read_message(reader, **kw)  # type: ignore[arg-type]
        finally:
            feeder.cancel()

    return asyncio.run(main())


def test_stream_reader_reads_split_message() -> None:
    frame = _read([(0, GOOD[:3]), (0.01, GOOD[3:9]), (0.01, GOOD[9:])])
    assert frame.payload == bytes.fromhex("80400040")


def test_stream_reader_times_out_a_trickling_peer() -> None:
    chunks = [(0.0, GOOD[i : i + 1]) if i == 0 else (0.1, GOOD[i : i + 1]) for i in range(10)]
    with pytest.raises(v2gtp.MessageTimeout):
        _read(chunks, message_timeout_s=0.3, idle_timeout_s=5)


def test_stream_reader_idle_timeout() -> None:
    with pytest.raises(v2gtp.IdleTimeout):
        _read([(1.0, GOOD)], idle_timeout_s=0.1)


def test_stream_reader_clean_eof_and_truncation() -> None:
    with pytest.raises(v2gtp.PeerClosed):
        _read([(0, b"")])
    with pytest.raises(v2gtp.Truncated):
        _read([(0, GOOD[:5]), (0, b"")])
    with pytest.raises(v2gtp.Truncated):
        _read([(0, GOOD[:9]), (0, b"")])


def test_stream_reader_refuses_oversize_before_the_payload() -> None:
    header = bytes.fromhex("01fe800200100000")  # 1 MiB announced, nothing follows
    with pytest.raises(v2gtp.TooLong):
        _read([(0, header)], max_payload_bytes=4096, message_timeout_s=5)
