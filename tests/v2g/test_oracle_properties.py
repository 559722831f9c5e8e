# SPDX-License-Identifier: Apache-2.0
"""Property tests against the EXIficient reference codec (ccy issue 3; design/v2g.md "EXI").

For random valid messages of every type of the four namespaces (xsd_strategies.py):
(a) the oracle encodes the document and decodes its bytes back to the same JSON view (the
    generator only produces what the reference codec accepts and reproduces);
(b) ours encodes the document to exactly the oracle's bytes; the one known difference in
    bytes is empty character content (test_oracle_quirks.py), so (b) draws documents without
    empty strings or binaries;
(c) the oracle decodes our bytes to the same JSON view, and ours decodes the oracle's bytes
    to it (empty values included), or, beyond the decoder's 64 KiB stream limit, refuses them
    with OversizeStream.
``CCY_ORACLE_EXAMPLES`` (default 12) sets the examples per message type and property.
"""

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from oracle_messages import CASES
from xsd_strategies import message

from ccy.testing.exi_oracle import Exificient
from ccy.v2g.exi import Namespace, OversizeStream, decode, encode
from ccy.v2g.exi.codec import MAX_STREAM_BYTES

EXAMPLES = int(os.environ.get("CCY_ORACLE_EXAMPLES", "12"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the JVM is slow on its first calls
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
IDS = [f"{ns}:{name}" for ns, name in CASES]
parametrise = pytest.mark.parametrize(("ns", "name"), CASES, ids=IDS)


def check_our_decode(ns: str, theirs: bytes, doc: dict[str, Any]) -> None:
    """Ours decodes the oracle's bytes to ``doc``, or refuses them as oversize."""
    if len(theirs) > MAX_STREAM_BYTES:  # lists at their 1024 bound, several times over
        event("beyond the decoder's stream limit: OversizeStream checked")
        with pytest.raises(OversizeStream):
            decode(Namespace[ns], theirs)
    else:
        assert decode(Namespace[ns], theirs) == doc, f"our decode of {theirs.hex()}"


def _show(doc: Any) -> str:
    text = repr(doc)
    return text if len(text) < 2000 else text[:2000] + "…"


@parametrise
@SETTINGS
@given(data=st.data())
def test_a_oracle_round_trip(
    exificient: Exificient, ns: str, name: str, data: st.DataObject
) -> None:
    doc = data.draw(message(ns, name), label=name)
    exi = exificient.encode(ns, doc)
    assert exificient.decode(ns, exi) == doc, f"oracle round trip of {_show(doc)}"


@parametrise
@SETTINGS
@given(data=st.data())
def test_b_ours_matches_oracle_bytes(
    exificient: Exificient, ns: str, name: str, data: st.DataObject
) -> None:
    doc = data.draw(message(ns, name, empty_text=False), label=name)
    assert encode(Namespace[ns], doc).hex() == exificient.encode(ns, doc).hex(), _show(doc)


@parametrise
@SETTINGS
@given(data=st.data())
def test_c_oracle_decodes_ours(
    exificient: Exificient, ns: str, name: str, data: st.DataObject
) -> None:
    doc = data.draw(message(ns, name), label=name)
    ours = encode(Namespace[ns], doc)
    assert exificient.decode(ns, ours) == doc, f"{name}: oracle decode of {ours.hex()}"
    check_our_decode(ns, exificient.encode(ns, doc), doc)
