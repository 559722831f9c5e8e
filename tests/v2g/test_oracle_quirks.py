# SPDX-License-Identifier: Apache-2.0
"""Where EXIficient (Josev's jar) and this codec knowingly differ, or where the reference
encoders bend the schema; each case pinned against the live jar.

- An absent optional SchemaID in supportedAppProtocolRes: EXIficient's JSON binding holds it
  as a primitive, so it encodes absence as SchemaID 0 and decodes absence as 0. We encode
  what the document says (the property tests therefore always draw a SchemaID).
- Empty character content: EXIficient writes a second-level EE at the start tag; we write CH
  with length 0, the form libcbv2g writes and decodes. Each side decodes the other's form.
- Lists bounded at 1024/2048: EXIficient loops them like "unbounded" (gen/grammar.py
  LOOP_FROM) and even encodes more items than maxOccurs allows; we match its bytes up to the
  bound and refuse the excess.
"""

from typing import Any

import pytest
from test_exi_empty_content import DOC as EMPTY_EVCCID
from test_exi_empty_content import EXIFICIENT as EMPTY_EVCCID_THEIRS
from test_exi_hostile import price_levels

from ccy.testing.exi_oracle import Exificient
from ccy.v2g.exi import Namespace, ValueOutOfRange, decode, encode

NO_SCHEMA = {"supportedAppProtocolRes": {"ResponseCode": "Failed_NoNegotiation"}}
SCHEMA_0 = {"supportedAppProtocolRes": {"ResponseCode": "Failed_NoNegotiation", "SchemaID": 0}}


def test_absent_schema_id_is_schema_id_0_to_exificient(exificient: Exificient) -> None:
    assert exificient.encode("SAP", NO_SCHEMA) == encode(Namespace.SAP, SCHEMA_0)
    assert exificient.decode("SAP", encode(Namespace.SAP, NO_SCHEMA)) == SCHEMA_0
    assert decode(Namespace.SAP, encode(Namespace.SAP, NO_SCHEMA)) == NO_SCHEMA


def test_empty_string_forms(exificient: Exificient) -> None:
    ours = encode(Namespace.CM, EMPTY_EVCCID)
    assert exificient.encode("CM", EMPTY_EVCCID) == EMPTY_EVCCID_THEIRS != ours
    assert exificient.decode("CM", ours) == EMPTY_EVCCID
    assert decode(Namespace.CM, EMPTY_EVCCID_THEIRS) == EMPTY_EVCCID


@pytest.mark.parametrize("count", [1023, 1024])
def test_large_bound_bytes_match(exificient: Exificient, count: int) -> None:
    doc: dict[str, Any] = price_levels(count)
    theirs = exificient.encode("CM", doc)
    assert encode(Namespace.CM, doc) == theirs
    assert decode(Namespace.CM, theirs) == doc


def test_exificient_exceeds_max_occurs_and_we_refuse(exificient: Exificient) -> None:
    theirs = exificient.encode("CM", price_levels(1025))
    assert exificient.decode("CM", theirs) == price_levels(1025)
    with pytest.raises(ValueOutOfRange, match="more than 1024"):
        decode(Namespace.CM, theirs)
