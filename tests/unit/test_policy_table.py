# SPDX-License-Identifier: Apache-2.0
"""The policy table says what contracts.md says, and its files say it the way dbus-daemon reads.

dbus-daemon(1): default context first, then group policies, then user policies; the last
matching rule wins, and one rule's attributes must all match. The real daemon proves the
result in tests/bus/test_policy.py (as root); these tests need no root.
"""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ccy.auth import contract as auth
from ccy.bsp import contract as bsp
from ccy.evse import contract as evse
from ccy.profinet import contract as profinet
from ccy.runtime.policy import (
    OPERATOR_GROUP,
    POLICIES,
    READER_GROUP,
    READS,
    UNIT_USERS,
    BusPolicy,
    Member,
    render,
)
from ccy.runtime.policy.model import PROPERTIES
from ccy.v2g import contract as v2g

DBUS_DIR = Path(__file__).resolve().parents[2] / "dbus"
BSP_POLICY = next(p for p in POLICIES if p.contract is bsp.CONTRACT)


def parsed(policy: BusPolicy) -> dict[str, list[ET.Element]]:
    """Selector (``context=default``, ``group=ccy``, ``user=ccy-evse``) → its rules in order."""
    root = ET.fromstring(render(policy, UNIT_USERS))
    return {
        "=".join(next(iter(p.attrib.items()))): list(p) for p in root.iter("policy")
    }  # one attribute per <policy>


def calls(rules: list[ET.Element]) -> set[tuple[str, str]]:
    return {
        (r.get("send_interface", ""), r.get("send_member", ""))
        for r in rules
        if r.tag == "allow" and r.get("send_member")
    }


def test_the_table_matches_the_xml() -> None:
    assert [line for p in POLICIES for line in p.problems(UNIT_USERS, DBUS_DIR)] == []


def test_bus_names_come_from_contracts() -> None:
    assert [(p.bus_name, p.owner) for p in POLICIES] == [
        (bsp.BUS_NAME, bsp.UNIT),
        (profinet.BUS_NAME, profinet.UNIT),
        (evse.BUS_NAME, evse.UNIT),
        (auth.BUS_NAME, auth.UNIT),
        (v2g.BUS_NAME, v2g.UNIT),
    ]


def test_evse1_rows_are_those_of_contracts_md() -> None:
    (row,) = [p for p in POLICIES if p.contract is evse.CONTRACT]
    granted = {u: {m.name for m in ms} for u, ms in row.calls.items()}
    assert granted["ccy-auth"] == {
        "Authorize",
        "Deauthorize",
        "StopTransaction",
        "SetReservation",
    }
    vehicle = granted["ccy-v2g"]
    assert {"BindSession", "ChargeLoop", "SessionStop", "EndV2gSession"} <= vehicle
    # ccy-v2g asks and answers the vehicle; operator and authorization methods are not its.
    assert not vehicle & {"Authorize", "StopTransaction", "Enable", "SetExternalLimits"}
    assert set(granted) == {"ccy-v2g", "ccy-auth"}


def test_only_ccy_evse_drives_the_power_stage() -> None:
    (stage,) = [p for p in POLICIES if p.contract is profinet.CONTRACT]
    assert {u: {m.name for m in ms} for u, ms in stage.calls.items()} == {
        "ccy-evse": {"SetMode", "SetTarget", "StartSelfTest"}
    }


def test_bsp1_rows_are_those_of_contracts_md() -> None:
    granted = {
        u: {m.name for m in ms if m.interface == bsp.IFACE} for u, ms in BSP_POLICY.calls.items()
    }
    assert granted.get("ccy-evse") == {"Enable", "SetCcsReady", "AllowPowerOn"}
    assert granted.get("ccy-profinet") == {"Identify"}
    assert not granted.get("ccy-v2g") and not granted.get("ccy-auth")


EACH = pytest.mark.parametrize("policy", POLICIES, ids=[p.bus_name for p in POLICIES])


@EACH
def test_everyone_else_may_not_own_call_or_receive(policy: BusPolicy) -> None:
    rules = parsed(policy)["context=default"]
    assert [(r.tag, dict(r.attrib)) for r in rules] == [
        ("deny", {"own": policy.bus_name}),
        ("deny", {"send_destination": policy.bus_name}),
        ("deny", {"receive_sender": policy.bus_name}),
    ]


@EACH
def test_each_allowed_member_is_one_rule_with_destination_type_interface_member(
    policy: BusPolicy,
) -> None:
    for selector, rules in parsed(policy).items():
        for rule in rules:
            if rule.get("send_member"):
                assert rule.tag == "allow", selector
                assert rule.get("send_destination") == policy.bus_name, selector
                assert rule.get("send_type") == "method_call", selector
                assert rule.get("send_interface"), selector


@EACH
def test_only_operators_may_send_everything_and_only_the_owner_may_own(policy: BusPolicy) -> None:
    for selector, rules in parsed(policy).items():
        blanket = [r for r in rules if r.tag == "allow" and set(r.attrib) == {"send_destination"}]
        assert bool(blanket) == (selector == f"group={OPERATOR_GROUP}"), selector
        owns = [r for r in rules if r.tag == "allow" and r.get("own")]
        assert bool(owns) == (selector == f"user={policy.owner}"), selector
        assert (PROPERTIES, "Set") not in calls(rules), selector


@EACH
def test_readers_and_unit_users_read_and_receive(policy: BusPolicy) -> None:
    policies = parsed(policy)
    reads = {(m.interface, m.name) for m in READS}
    for selector in [f"group={READER_GROUP}", *(f"user={u}" for u in UNIT_USERS)]:
        rules = policies[selector]
        assert reads <= calls(rules), selector
        assert rules[-1].tag == "allow" and dict(rules[-1].attrib) == {
            "receive_sender": policy.bus_name
        }, selector
    assert calls(policies[f"group={READER_GROUP}"]) == reads


@EACH
@pytest.mark.parametrize("user", UNIT_USERS)
def test_a_unit_user_gets_exactly_its_row_even_in_group_ccy(policy: BusPolicy, user: str) -> None:
    """User policies come after group ones: the leading deny cancels a stray ccy membership."""
    rules = [r for r in parsed(policy)[f"user={user}"] if not r.get("own")]
    assert (rules[0].tag, dict(rules[0].attrib)) == ("deny", {"send_destination": policy.bus_name})
    row = {(m.interface, m.name) for m in policy.calls.get(user, ())}
    assert calls(rules) == {(m.interface, m.name) for m in READS} | row


def test_problems_name_a_typo_an_unknown_caller_and_a_stale_planned_mark(tmp_path: Path) -> None:
    for xml in DBUS_DIR.glob("*.xml"):
        shutil.copy(xml, tmp_path / xml.name)
    policy = BusPolicy(
        bsp.CONTRACT,
        calls={
            "ccy-evse": (Member(bsp.IFACE, "Enabel"),),
            "ccy-stranger": (Member("org.ccy.Nope1", "Enable"),),
            "ccy-auth": (Member(bsp.IFACE, "Enable", planned=True),),
        },
    )
    found = policy.problems(UNIT_USERS, tmp_path)
    assert len(found) == 4, found
    assert any("Enabel" in f and "no such method" in f for f in found)
    assert any("ccy-stranger is not a unit user" in f for f in found)
    assert any("does not export org.ccy.Nope1" in f for f in found)
    assert any("drop planned=True" in f for f in found)


def test_identify_is_planned_until_bsp1_declares_it() -> None:
    (identify,) = BSP_POLICY.calls["ccy-profinet"]
    xml = ET.parse(DBUS_DIR / f"{bsp.IFACE}.xml").getroot()
    declared = {m.get("name") for m in xml.iter("method")}
    assert identify.planned == ("Identify" not in declared)
