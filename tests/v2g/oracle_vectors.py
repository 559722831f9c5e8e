# SPDX-License-Identifier: Apache-2.0
"""The ISO 15118-20 EXI vectors (tests/data/vectors/README.md) as (id, ns, bytes, view)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors" / "iso15118-20"
#: Josev's namespace labels in the session transcript.
TRANSCRIPT_NS = {
    "Namespace.SAP": "SAP",
    "Namespace.ISO_V20_COMMON_MSG": "CM",
    "Namespace.ISO_V20_DC": "DC",
    "Namespace.ISO_V20_AC": "AC",
}


class Vector(NamedTuple):
    ident: str
    ns: str
    data: bytes
    view: dict[str, Any]


def libiso15118() -> list[Vector]:
    """``HEX SOURCE | NS | len=N | reenc_equal=true | JSON`` lines."""
    out = []
    for line in (VECTORS / "libiso15118-tests.txt").read_text().splitlines():
        if not line.strip():
            continue
        hex_text, rest = line.split(" ", 1)
        source, ns, _length, _reenc, view = (part.strip() for part in rest.split(" | ", 4))
        out.append(Vector(f"libiso:{source}", ns, bytes.fromhex(hex_text), json.loads(view)))
    return out


def josev_transcript() -> list[Vector]:
    """``EV->|<-SE NAMESPACE HEX`` lines, each followed by its JSON view."""
    lines = (VECTORS / "josev_evcc_vs_josev_secc_dc20_transcript.txt").read_text().splitlines()
    out = []
    for number, line in enumerate(lines):
        if line.startswith(("EV->", "<-SE")):
            direction, label, hex_text = line.split()
            view = json.loads(lines[number + 1])
            ident = f"josev:{number + 1}:{direction}:{next(iter(view))}"
            out.append(Vector(ident, TRANSCRIPT_NS[label], bytes.fromhex(hex_text), view))
    return out


def all_vectors() -> list[Vector]:
    return libiso15118() + josev_transcript()
