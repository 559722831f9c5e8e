# SPDX-License-Identifier: Apache-2.0
"""Messages with an XMLDSig Signature in the header against the EXIficient reference codec.

For every message type with a Header (all but SupportedAppProtocol), a random valid message
(xsd_strategies.py) gets a random Signature (xmldsig_strategies.py): ours encodes it to
exactly the oracle's bytes (no empty values, as in test_oracle_properties.py (b)), and each
side decodes the other's bytes to the same view. The two places where EXIficient's JSON
binding cannot carry a signature are pinned down below.
"""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle_messages import CASES
from test_oracle_properties import SETTINGS, check_our_decode
from xmldsig_strategies import as_exificient, signature, signed
from xsd_strategies import message

from ccy.testing.exi_oracle import Exificient
from ccy.v2g.exi import Namespace, decode, encode

HEADED = [(ns, name) for ns, name in CASES if ns != "SAP"]


parametrise = pytest.mark.parametrize(
    ("ns", "name"), HEADED, ids=[f"{ns}:{name}" for ns, name in HEADED]
)


@parametrise
@SETTINGS
@given(data=st.data())
def test_signed_message_bytes_match_oracle(
    exificient: Exificient, ns: str, name: str, data: st.DataObject
) -> None:
    doc = signed(
        data.draw(message(ns, name, empty_text=False), label=name),
        data.draw(signature(empty_text=False), label="Signature"),
    )
    assert encode(Namespace[ns], doc) == exificient.encode(ns, as_exificient(doc))


@parametrise
@SETTINGS
@given(data=st.data())
def test_signed_message_decodes_both_ways(
    exificient: Exificient, ns: str, name: str, data: st.DataObject
) -> None:
    doc = signed(data.draw(message(ns, name), label=name), data.draw(signature(), label="sig"))
    ours = encode(Namespace[ns], doc)
    assert exificient.decode(ns, ours) == as_exificient(doc), f"{name}: oracle decode"
    check_our_decode(ns, exificient.encode(ns, as_exificient(doc)), doc)


SIGNED: dict[str, Any] = {
    "SessionStopReq": {
        "Header": {
            "SessionID": "F21915B9DDDC12D1",
            "TimeStamp": 1691411798,
            "Signature": {
                "SignedInfo": {
                    "CanonicalizationMethod": {"Algorithm": "http://www.w3.org/TR/canonical-exi/"},
                    "SignatureMethod": {
                        "Algorithm": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
                    },
                    "Reference": [
                        {
                            "URI": "#id1",
                            "DigestMethod": {
                                "Algorithm": "http://www.w3.org/2001/04/xmlenc#sha512"
                            },
                            "DigestValue": "AQID",
                        }
                    ],
                },
                "SignatureValue": {"value": "AAECAwQFBgc=", "Id": "sv1"},
            },
        },
        "ChargingSession": "Terminate",
    }
}


def test_exificient_drops_a_signature_value_with_an_id(exificient: Exificient) -> None:
    """EXIficient's binding loses the value of a SignatureValue that has an Id; ours keeps it,
    and EXIficient still reads the value from our bytes."""
    ours = encode(Namespace.CM, SIGNED)
    assert decode(Namespace.CM, ours) == SIGNED
    assert exificient.decode("CM", ours) == SIGNED
    theirs = exificient.decode("CM", exificient.encode("CM", SIGNED))
    assert theirs["SessionStopReq"]["Header"]["Signature"]["SignatureValue"]["value"] == ""


def test_exificient_holds_hmac_output_length_as_a_list(exificient: Exificient) -> None:
    doc = signed(SIGNED, {**SIGNED["SessionStopReq"]["Header"]["Signature"]})
    method = doc["SessionStopReq"]["Header"]["Signature"]["SignedInfo"]["SignatureMethod"]
    method["HMACOutputLength"] = 256
    del doc["SessionStopReq"]["Header"]["Signature"]["SignatureValue"]["Id"]
    ours = encode(Namespace.CM, doc)
    assert exificient.encode("CM", as_exificient(doc)) == ours
    assert exificient.decode("CM", ours) == as_exificient(doc) != doc
