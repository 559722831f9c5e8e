# SPDX-License-Identifier: Apache-2.0
"""Requests of EVs built on libcbv2g: the extra end bit after full lists is accepted.

The streams (tests/data/v2g-secc, with their provenance) were encoded by libcbv2g itself.
A strict decode refuses the full lists (8 EVPriceRule, 16 SupportedServiceIDs) and accepts
the others; ccy.v2g.exi.lenient decodes all four to the content libcbv2g was given, and the
session machine answers them. What ccy sends is checked to stay clear of the quirk: no list
in our answers reaches its schema bound.
"""

from pathlib import Path
from typing import Any

import pytest
from secc_support import PT, EvsePeer, make, run

from ccy.evse.contract import ControlMode
from ccy.v2g.exi import ExiError, Namespace, decode, encode
from ccy.v2g.exi.lenient import decode as lenient_decode
from ccy.v2g.exi.lenient import decode_lenient
from ccy.v2g.server import Reply
from ccy.v2g.session import SessionSettings

DATA = Path(__file__).resolve().parents[1] / "data" / "v2g-secc" / "libcbv2g_full_lists.txt"
SESSION_ID = "3D4CBF93374ED89B"


def streams() -> dict[str, bytes]:
    return {
        label: bytes.fromhex(hexa)
        for label, hexa in (line.split() for line in DATA.read_text().splitlines() if line)
    }


def _rules(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["ScheduleExchangeReq"]["Scheduled_SEReqControlMode"]
    stack = body["EVEnergyOffer"]["EVAbsolutePriceSchedule"]["EVPriceRuleStacks"]
    return list(stack["EVPriceRuleStack"][0]["EVPriceRule"])


@pytest.mark.parametrize(
    "label", ["ScheduleExchangeReq-8-EVPriceRules", "ServiceDiscoveryReq-16-ServiceIDs"]
)
def test_full_lists_fail_strictly_and_decode_leniently(label: str) -> None:
    data = streams()[label]
    with pytest.raises(ExiError):
        decode(Namespace.CM, data)
    doc = lenient_decode(Namespace.CM, data)
    if label.startswith("Schedule"):
        rules = _rules(doc)
        assert len(rules) == 8
        assert rules[7] == {
            "EnergyFee": {"Exponent": -2, "Value": 37},
            "PowerRangeStart": {"Exponent": 3, "Value": 350},
        }
    else:
        assert doc["ServiceDiscoveryReq"]["SupportedServiceIDs"]["ServiceID"] == list(range(1, 17))
    # The standard's own stream of the same content is one bit shorter at the list's end.
    assert encode(Namespace.CM, doc) != data


@pytest.mark.parametrize(
    "label", ["ScheduleExchangeReq-7-EVPriceRules", "ServiceDiscoveryReq-15-ServiceIDs"]
)
def test_lists_below_their_bound_are_standard(label: str) -> None:
    data = streams()[label]
    doc = decode(Namespace.CM, data)
    assert lenient_decode(Namespace.CM, data) == doc == decode_lenient(Namespace.CM, data)
    assert encode(Namespace.CM, doc) == data


def test_a_broken_stream_still_reports_the_strict_error() -> None:
    data = streams()["ServiceDiscoveryReq-16-ServiceIDs"]
    broken = data[:-3]
    with pytest.raises(ExiError) as strict:
        decode(Namespace.CM, broken)
    with pytest.raises(type(strict.value)):
        lenient_decode(Namespace.CM, broken)


def test_lenient_grammars_still_refuse_one_item_too_many() -> None:
    """A 17th ServiceID after the relaxed state: the bound is still enforced."""
    doc = lenient_decode(Namespace.CM, streams()["ServiceDiscoveryReq-16-ServiceIDs"])
    doc["ServiceDiscoveryReq"]["SupportedServiceIDs"]["ServiceID"].append(17)
    with pytest.raises(ExiError):
        encode(Namespace.CM, doc)


def test_the_session_answers_libcbv2g_requests_with_full_lists() -> None:
    async def go() -> None:
        settings = SessionSettings(control_modes=(ControlMode.SCHEDULED, ControlMode.DYNAMIC))
        manager, ev, _ = make(EvsePeer(), settings)
        manager.env.new_session_id = lambda: SESSION_ID
        await ev.through_authorization()
        assert ev.session_id == SESSION_ID
        reply = await ev.raw(PT[Namespace.CM], streams()["ServiceDiscoveryReq-16-ServiceIDs"])
        assert isinstance(reply, Reply)
        res = decode(Namespace.CM, reply.payload)["ServiceDiscoveryRes"]
        assert res["ResponseCode"] == "OK"
        # the EV named 1..16: MCS 8 and DC 2 are both among them
        ids = [s["ServiceID"] for s in res["EnergyTransferServiceList"]["Service"]]
        assert ids == [8, 2]
        assert (await ev.service_detail(8)).code == "OK"
        assert (await ev.service_selection(8, 1)).code == "OK"  # Scheduled first
        assert (await ev.charge_parameter_discovery()).code == "OK"
        reply = await ev.raw(PT[Namespace.CM], streams()["ScheduleExchangeReq-8-EVPriceRules"])
        assert isinstance(reply, Reply) and not reply.close_after
        res = decode(Namespace.CM, reply.payload)["ScheduleExchangeRes"]
        assert (res["ResponseCode"], res["EVSEProcessing"]) == ("OK", "Finished")

    run(go())


def test_our_answers_never_fill_a_list_to_its_bound() -> None:
    """The lists ccy sends, with their schema bounds: offers stay below each (libcbv2g)."""
    from ccy.v2g.session import ServiceId

    widest = SessionSettings(
        services=(ServiceId.MCS, ServiceId.MCS_BPT, ServiceId.DC, ServiceId.DC_BPT)
    )
    widest.check()
    assert len(widest.services) < 8  # ServiceDiscoveryRes Service maxOccurs 8
    for service in widest.services:
        sets = widest.parameter_sets(service)
        assert len(sets) < 32 and all(len(s.parameters) < 32 for s in sets)
