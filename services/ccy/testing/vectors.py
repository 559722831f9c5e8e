# SPDX-License-Identifier: Apache-2.0
"""The ISO 15118-20 EXI vectors of tests/data/vectors (provenance in its README.md) as
(id, namespace key, bytes, JSON view), for the v2g tests, ``benchmarks/bench_exi.py`` and the
EXI fuzz targets.

The vectors are data of the repository, not of the package: they are found relative to the
checkout this module runs from (an editable install, ``pip install -e .``). Installed
elsewhere (the ``-testing`` package on a device), :func:`folder` raises
:class:`VectorsMissing` naming the path it looked at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

#: The repository checkout: services/ccy/testing/vectors.py → three folders up.
CHECKOUT = Path(__file__).resolve().parents[3]
VECTORS = CHECKOUT / "tests" / "data" / "vectors" / "iso15118-20"
LIBISO = "libiso15118-tests.txt"
TRANSCRIPT = "josev_evcc_vs_josev_secc_dc20_transcript.txt"
WIRE = "josev_dc20_wire_v2gtp_sdp.txt"
#: Josev's namespace labels in the session transcript.
TRANSCRIPT_NS = {
    "Namespace.SAP": "SAP",
    "Namespace.ISO_V20_COMMON_MSG": "CM",
    "Namespace.ISO_V20_DC": "DC",
    "Namespace.ISO_V20_AC": "AC",
}


class VectorsMissing(FileNotFoundError):
    """The vector folder is absent: not running from a checkout of the ccy repository."""


class Vector(NamedTuple):
    ident: str
    ns: str  # SAP, CM, DC or AC
    data: bytes
    view: dict[str, Any]


def folder() -> Path:
    """The folder of the -20 vectors; VectorsMissing names the path when it is absent."""
    if not (VECTORS / LIBISO).is_file():
        raise VectorsMissing(
            f"EXI test vectors not found at {VECTORS}: ccy.testing.vectors reads them from a "
            "checkout of the ccy repository (install it editable: pip install -e .)"
        )
    return VECTORS


def libiso15118() -> list[Vector]:
    """``HEX SOURCE | NS | len=N | reenc_equal=true | JSON`` lines."""
    out = []
    for line in (folder() / LIBISO).read_text().splitlines():
        if not line.strip():
            continue
        hex_text, rest = line.split(" ", 1)
        source, ns, _length, _reenc, view = (part.strip() for part in rest.split(" | ", 4))
        out.append(Vector(f"libiso:{source}", ns, bytes.fromhex(hex_text), json.loads(view)))
    return out


def josev_transcript() -> list[Vector]:
    """``EV->|<-SE NAMESPACE HEX`` lines, each followed by its JSON view."""
    lines = (folder() / TRANSCRIPT).read_text().splitlines()
    out = []
    for number, line in enumerate(lines):
        if line.startswith(("EV->", "<-SE")):
            direction, label, hex_text = line.split()
            view = json.loads(lines[number + 1])
            ident = f"josev:{number + 1}:{direction}:{next(iter(view))}"
            out.append(Vector(ident, TRANSCRIPT_NS[label], bytes.fromhex(hex_text), view))
    return out


def all_vectors() -> list[Vector]:
    """The libiso15118 set, then the Josev session transcript in both directions."""
    return libiso15118() + josev_transcript()


def wire_lines() -> list[str]:
    """The lines of the same session's SDP and V2GTP frames as they crossed the wire."""
    return (folder() / WIRE).read_text().splitlines()


#: The header of the synthetic streams below (a session of libiso15118's vectors).
SYNTHETIC_HEADER = {"SessionID": "3D4CBF93374ED89B", "TimeStamp": 1725456327}
#: ScheduleExchangeRes holds up to 3 ScheduleTuples, each a charging and a discharging
#: PowerSchedule of up to 1024 entries: 6 lists (V2G_CI_CommonMessages.xsd).
SCHEDULE_LISTS = 6
SCHEDULE_ENTRIES_MAX = 1024


def schedule_exchange_res(entries: int) -> dict[str, Any]:
    """A valid CM ScheduleExchangeRes with ``entries`` PowerScheduleEntry items in all
    (at most 6 × 1024), each with Duration, Power, Power_L2 and Power_L3: a large -20 stream
    made of many small fields, the costliest shape per byte to decode."""
    if not 1 <= entries <= SCHEDULE_LISTS * SCHEDULE_ENTRIES_MAX:
        raise ValueError(f"entries must be 1..{SCHEDULE_LISTS * SCHEDULE_ENTRIES_MAX}")

    def entry(i: int) -> dict[str, Any]:
        power = {"Exponent": i % 4, "Value": (i * 37) % 30000 - 15000}
        return {
            "Duration": 60 + i * 15,
            "Power": power,
            "Power_L2": {"Exponent": 0, "Value": i % 1000},
            "Power_L3": {"Exponent": -1, "Value": -(i % 5000)},
        }

    lists: list[list[dict[str, Any]]] = [[] for _ in range(SCHEDULE_LISTS)]
    for i in range(entries):
        lists[i % SCHEDULE_LISTS].append(entry(i))

    def schedule(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "PowerSchedule": {
                "TimeAnchor": 0,
                "PowerScheduleEntries": {"PowerScheduleEntry": items},
            }
        }

    tuples = []
    for number in range(3):
        charging, discharging = lists[2 * number], lists[2 * number + 1]
        if not charging:
            break
        item: dict[str, Any] = {
            "ScheduleTupleID": number + 1,
            "ChargingSchedule": schedule(charging),
        }
        if discharging:
            item["DischargingSchedule"] = schedule(discharging)
        tuples.append(item)
    body = {
        "Header": SYNTHETIC_HEADER,
        "ResponseCode": "OK",
        "EVSEProcessing": "Finished",
        "Scheduled_SEResControlMode": {"ScheduleTuple": tuples},
    }
    return {"ScheduleExchangeRes": body}


def schedule_stream(max_bytes: int) -> tuple[dict[str, Any], bytes]:
    """The largest :func:`schedule_exchange_res` whose CM EXI stream fits in ``max_bytes``
    (bisected on the entry count), as (JSON view, bytes)."""
    from ccy.v2g.exi import Namespace, encode

    low, high = 1, SCHEDULE_LISTS * SCHEDULE_ENTRIES_MAX
    best: tuple[dict[str, Any], bytes] | None = None
    while low <= high:
        middle = (low + high) // 2
        view = schedule_exchange_res(middle)
        data = encode(Namespace.CM, view)
        if len(data) <= max_bytes:
            best, low = (view, data), middle + 1
        else:
            high = middle - 1
    if best is None:
        raise ValueError(f"no ScheduleExchangeRes fits in {max_bytes} bytes")
    return best
