# SPDX-License-Identifier: Apache-2.0
"""Every shared ISO 15118-20 vector decodes to exactly its JSON view and re-encodes to exactly
its bytes (tests/data/vectors/README.md): the libiso15118 set, the Josev session transcript in
both directions, and the V2GTP frames of the same session as they crossed the wire."""

import json
from pathlib import Path

import pytest

from ccy.v2g.exi import Namespace, decode, encode

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors" / "iso15118-20"
JOSEV_NS = {"SAP": "sap", "ISO_V20_COMMON_MSG": "cm", "ISO_V20_DC": "dc", "ISO_V20_AC": "ac"}
PAYLOAD_NS = {0x8001: "sap", 0x8002: "cm", 0x8003: "ac", 0x8004: "dc"}


def libiso_vectors() -> list[tuple[str, str, str, dict[str, object]]]:
    """(id, namespace key, hex, JSON view) per line of libiso15118-tests.txt."""
    cases = []
    for line in (VECTORS / "libiso15118-tests.txt").read_text().splitlines():
        hex_text, rest = line.split(" ", 1)
        source, ns, _length, _reenc, view = rest.split(" | ", 4)
        cases.append((source, ns.strip().lower(), hex_text, json.loads(view)))
    return cases


def josev_vectors() -> list[tuple[str, str, str, dict[str, object]]]:
    """(id, namespace key, hex, JSON view) per message of the Josev transcript."""
    lines = (VECTORS / "josev_evcc_vs_josev_secc_dc20_transcript.txt").read_text().splitlines()
    cases = []
    for number, line in enumerate(lines):
        if line.startswith(("EV->", "<-SE")):
            direction, ns, hex_text = line.split()
            view = json.loads(lines[number + 1])
            key = JOSEV_NS[ns.split(".", 1)[1]]
            cases.append(
                (f"josev:{number + 1}:{direction}:{next(iter(view))}", key, hex_text, view)
            )
    return cases


ALL = libiso_vectors() + josev_vectors()


def test_vector_sets_are_complete() -> None:
    assert len(libiso_vectors()) == 43
    josev = josev_vectors()
    assert len(josev) == 68
    assert {c[0].split(":")[2] for c in josev} == {"EV->", "<-SE"}
    assert {c[1] for c in ALL} == {"sap", "cm", "dc", "ac"}


@pytest.mark.parametrize(("ns", "hex_text", "view"), [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_vector_round_trip(ns: str, hex_text: str, view: dict[str, object]) -> None:
    namespace = Namespace.from_key(ns)
    assert decode(namespace, bytes.fromhex(hex_text)) == view
    assert encode(namespace, view).hex() == hex_text


def test_worked_example_from_design_note() -> None:
    data = bytes.fromhex("802c041ea65fc99ba76c4d8c7bfe1b6062")
    view = {
        "DC_CableCheckReq": {"Header": {"SessionID": "3D4CBF93374ED89B", "TimeStamp": 1725456327}}
    }
    assert decode(Namespace.DC, data) == view
    assert encode(Namespace.DC, view) == data


def test_wire_frames_decode_and_reencode() -> None:
    """V2GTP frames (01 FE, payload type, length): the payload type picks the grammar."""
    count = 0
    for line in (VECTORS / "josev_dc20_wire_v2gtp_sdp.txt").read_text().splitlines():
        if " TCP " not in line:
            continue
        frame = bytes.fromhex(line.split()[-1])
        assert frame[:2] == b"\x01\xfe"
        payload_type = int.from_bytes(frame[2:4], "big")
        assert int.from_bytes(frame[4:8], "big") == len(frame) - 8
        namespace = Namespace.from_key(PAYLOAD_NS[payload_type])
        payload = frame[8:]
        assert encode(namespace, decode(namespace, payload)) == payload
        count += 1
    assert count == 54


def test_namespace_keys() -> None:
    assert Namespace.from_key("dc") is Namespace.DC
    assert Namespace.from_key("SAP") is Namespace.SAP
    assert Namespace.from_key("urn:iso:std:iso:15118:-20:AC") is Namespace.AC
    with pytest.raises(ValueError):
        Namespace.from_key("wpt")
