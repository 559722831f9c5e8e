# SPDX-License-Identifier: Apache-2.0
"""The typed face: Message objects with attribute access, checked against facets on encode."""

import pytest

from ccy.v2g.exi import FacetViolation, Message, Namespace, decode

LOOP_REQ = bytes.fromhex("8034041ea65fc99ba76c4d8cdbfe1b6062810012006464000a02002400ca")


def test_decode_gives_attribute_access() -> None:
    msg = Message.decode(Namespace.DC, LOOP_REQ)
    assert msg.name == "DC_ChargeLoopReq"
    assert msg.namespace is Namespace.DC
    assert msg.Header.SessionID == "3D4CBF93374ED89B"
    assert (
        msg.Header.TimeStamp
        == decode(Namespace.DC, LOOP_REQ)["DC_ChargeLoopReq"]["Header"]["TimeStamp"]
    )
    assert msg["Header"]["SessionID"] == msg.Header.SessionID
    assert msg.document() == decode(Namespace.DC, LOOP_REQ)
    assert msg.encode() == LOOP_REQ
    with pytest.raises(AttributeError):
        _ = msg.NoSuchField


def test_lists_of_elements_wrap_their_items() -> None:
    data = bytes.fromhex(
        "8000f3ab9371d34b9b79d39ba321d34b9b79d189a98989c1d1699181d22218010000040040"
    )
    msg = Message.decode(Namespace.SAP, data)
    assert [p.Priority for p in msg.AppProtocol] == [1]
    assert msg.AppProtocol[0].ProtocolNamespace == "urn:iso:std:iso:15118:-20:DC"


def test_built_message_is_checked_on_encode() -> None:
    header = {"SessionID": "3D4CBF93374ED89B", "TimeStamp": 1}
    ok = Message(Namespace.CM, "SessionStopReq", {"Header": header, "ChargingSession": "Pause"})
    assert Message.decode(Namespace.CM, ok.encode()).ChargingSession == "Pause"
    bad = Message(Namespace.CM, "SessionStopReq", {"Header": header, "ChargingSession": "Later"})
    with pytest.raises(FacetViolation):
        bad.encode()
    assert "SessionStopReq" in repr(ok)
