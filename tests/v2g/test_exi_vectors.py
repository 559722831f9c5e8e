# SPDX-License-Identifier: Apache-2.0
"""Every shared ISO 15118-20 vector decodes to exactly its JSON view and re-encodes to exactly
its bytes (tests/data/vectors/README.md): the libiso15118 set, the Josev session transcript in
both directions, and the V2GTP frames of the same session as they crossed the wire."""

from pathlib import Path

import pytest

from ccy.testing import vectors
from ccy.testing.vectors import Vector
from ccy.v2g.exi import Namespace, decode, encode

PAYLOAD_NS = {0x8001: "sap", 0x8002: "cm", 0x8003: "ac", 0x8004: "dc"}
ALL = vectors.all_vectors()


def test_vector_sets_are_complete() -> None:
    assert len(vectors.libiso15118()) == 43
    josev = vectors.josev_transcript()
    assert len(josev) == 68
    assert {v.ident.split(":")[2] for v in josev} == {"EV->", "<-SE"}
    assert {v.ns for v in ALL} == {"SAP", "CM", "DC", "AC"}


@pytest.mark.parametrize("vector", ALL, ids=[v.ident for v in ALL])
def test_vector_round_trip(vector: Vector) -> None:
    namespace = Namespace.from_key(vector.ns)
    assert decode(namespace, vector.data) == vector.view
    assert encode(namespace, vector.view) == vector.data


def test_missing_vectors_name_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Outside a checkout (the -testing package installed elsewhere) the error says where
    the vectors were looked for and why."""
    absent = tmp_path / "tests" / "data" / "vectors" / "iso15118-20"
    monkeypatch.setattr(vectors, "VECTORS", absent)
    with pytest.raises(vectors.VectorsMissing, match=str(absent)):
        vectors.all_vectors()


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
    for line in vectors.wire_lines():
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
