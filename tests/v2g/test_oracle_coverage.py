# SPDX-License-Identifier: Apache-2.0
"""The oracle property tests cover every message type of the four namespaces (ccy issue 3):
the hand-written list equals the global *Req/*Res elements of the XSDs, and the generator
builds a strategy for each of them."""

import pytest
from oracle_messages import CASES, MESSAGE_TYPES
from xsd_model import NAMESPACE_FILES, SCHEMA_DIR, XsdError, load_namespace, message_elements
from xsd_strategies import Generator, message

pytestmark = pytest.mark.skipif(
    not (SCHEMA_DIR / "V2G_CI_DC.xsd").is_file(),
    reason="XSDs absent from .cache/peers/exificient/schemas (run .ci/setup.d/exificient.sh)",
)


@pytest.mark.parametrize("ns", sorted(NAMESPACE_FILES))
def test_message_list_matches_xsd_global_elements(ns: str) -> None:
    assert sorted(MESSAGE_TYPES[ns]) == sorted(message_elements(ns))


def test_all_four_namespaces_and_42_types() -> None:
    assert set(MESSAGE_TYPES) == {"SAP", "CM", "DC", "AC"}
    assert len(CASES) == len(set(CASES)) == 2 + 26 + 10 + 4


@pytest.mark.parametrize(("ns", "name"), CASES, ids=[f"{n}:{m}" for n, m in CASES])
def test_generator_has_a_strategy(ns: str, name: str) -> None:
    # Building the strategy walks the element's whole type; unmodelled constructs raise here.
    message(ns, name).validate()


def test_substitution_groups_list_every_concrete_member() -> None:
    dc = load_namespace("DC")
    head = ("urn:iso:std:iso:15118:-20:CommonTypes", "CLReqControlMode")
    members = [m[1] for m in dc.substitution_members(head) if not dc.is_abstract_element(m)]
    assert members == [
        "BPT_Dynamic_DC_CLReqControlMode",
        "BPT_Scheduled_DC_CLReqControlMode",
        "Dynamic_DC_CLReqControlMode",
        "Scheduled_DC_CLReqControlMode",
    ]


def test_unmodelled_construct_is_a_named_error() -> None:
    gen = Generator(load_namespace("CM"))
    signature = ("http://www.w3.org/2000/09/xmldsig#", "Signature")
    # SignatureType holds xs:any content (KeyInfo/Object): not modelled, so refused by name.
    with pytest.raises(XsdError, match=r"not modelled|mixed"):
        gen.named_value(signature, True).validate()
