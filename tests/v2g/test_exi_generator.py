# SPDX-License-Identifier: Apache-2.0
"""The checked-in grammar tables are exactly what the generator makes from the unmodified
XSDs, and the grammar derivation obeys EXI 1.0 on points the vectors pin down."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from ccy.v2g.exi import Namespace, codec
from ccy.v2g.exi.gen.emit import SCHEMAS, render, width

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "ccy" / "v2g" / "exi"


def expand(runs: tuple[tuple[int, int], ...]) -> list[int]:
    """State indices of a grammar from its ``(state, repeat)`` runs."""
    return [state for state, count in runs for _ in range(count)]


def test_schemas_are_unmodified() -> None:
    readme = (PACKAGE / "schemas" / "NOTICE.txt").read_text()
    sums = dict(re.findall(r"^\| (\S+\.xsd) \| ([0-9a-f]{64}) \|$", readme, re.MULTILINE))
    assert len(sums) == 6
    for name, digest in sums.items():
        assert hashlib.sha256((PACKAGE / "schemas" / name).read_bytes()).hexdigest() == digest
    assert {p.name for p in (PACKAGE / "schemas").glob("*.xsd")} == set(sums)


def test_tables_regenerate_identically(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "ccy.v2g.exi.gen", str(tmp_path)], check=True, timeout=120
    )
    for key in SCHEMAS:
        name = f"_tables_{key}.py"
        assert (tmp_path / name).read_bytes() == (PACKAGE / name).read_bytes(), name


def test_render_is_deterministic() -> None:
    assert render("dc", PACKAGE / "schemas") == render("dc", PACKAGE / "schemas")


def test_document_grammar_widths() -> None:
    """DocContent: global elements (CommonTypes and xmldsig included) plus SE(*)."""
    assert codec.grammars("SAP").doc_width == 2
    dc = codec.grammars("DC")
    assert dc.doc_width == 6
    names = [name for name, _ in dc.doc]
    assert names.index("DC_CableCheckReq") == 11
    assert names.index("DC_ChargeLoopReq") == 13
    assert names.index("DC_ChargeParameterDiscoveryReq") == 15
    assert names == sorted(names)
    assert "Signature" in names and "CLReqControlMode" in names
    for ns in Namespace:
        assert width(len(codec.grammars(ns.name).doc) + 1) == codec.grammars(ns.name).doc_width


def test_substitution_group_members_sorted() -> None:
    """CLReqControlMode's members, transitively; the head is an element of an abstract
    type but not itself abstract, so it is a member too (the vectors' codes need it)."""
    from ccy.v2g.exi import _tables_dc as t

    loop_req = dict(t.DOC)["DC_ChargeLoopReq"]
    grammar = expand(t.GRAMMARS[t.ELEMENTS[loop_req][1]])
    modes = [[p[1] for p in t.STATES[s][1] if p[1].endswith("CLReqControlMode")] for s in grammar]
    found = [m for m in modes if m]
    assert found[0] == [
        "BPT_Dynamic_DC_CLReqControlMode",
        "BPT_Scheduled_DC_CLReqControlMode",
        "CLReqControlMode",
        "Dynamic_DC_CLReqControlMode",
        "Scheduled_DC_CLReqControlMode",
    ]


def test_bounded_max_occurs_unrolled() -> None:
    """maxOccurs="20" of AppProtocol: after the 20th item only EE remains."""
    from ccy.v2g.exi import _tables_sap as t

    grammar = expand(t.GRAMMARS[t.ELEMENTS[dict(t.DOC)["supportedAppProtocolReq"]][1]])
    kinds = [[p[0] for p in t.STATES[s][1]] for s in grammar]
    assert kinds[0] == [0]  # first AppProtocol required
    assert kinds[1:20] == [[0, 2]] * 19  # 2nd..20th optional, or end
    assert kinds[20] == [2]
    assert len(grammar) == 21
    assert len(t.GRAMMARS[t.ELEMENTS[dict(t.DOC)["supportedAppProtocolReq"]][1]]) == 3  # runs


def test_large_max_occurs_looped_with_its_bound_kept() -> None:
    """maxOccurs="1024" of PriceLevelScheduleEntry: looped like "unbounded" (grammar.LOOP_FROM),
    so after the 1024th item EE still has a 2-bit code, as in EXIficient and libcbv2g; the
    production carries the bound the codec enforces."""
    from ccy.v2g.exi import _tables_cm as t
    from ccy.v2g.exi.gen.grammar import LOOP_FROM

    assert LOOP_FROM == 1024
    owner = next(
        runs
        for runs in t.GRAMMARS
        if any(p[1] == "PriceLevelScheduleEntry" for s, _ in runs for p in t.STATES[s][1])
    )
    states = [t.STATES[s] for s in expand(owner)]
    assert [[p[0] for p in productions] for _w, productions in states] == [[0], [0, 2]]
    assert [w for w, _p in states] == [1, 2]
    assert states[1][1][0][3] == 0  # the second state loops onto itself
    assert {p[4] for _w, ps in states for p in ps if p[0] == 0} == {1024}
