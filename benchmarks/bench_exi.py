# SPDX-License-Identifier: Apache-2.0
"""EXI codec benchmark (ccy.v2g.exi): median decode and encode time per message type over
the ISO 15118-20 vectors, side by side with Josev's EXIficient path; time per KiB of streams
of 1, 8, 32 and 64 KiB; and the extra RSS of importing the codec.

Run: ``.venv/bin/python benchmarks/bench_exi.py [--repeat N] [--oracle-repeat M]``. Targets
(ccy issues 3 and 10): DC_ChargeLoopReq and DC_ChargeLoopRes ≤ 15 µs to decode and to encode;
ours at least 20× faster than EXIficient per message; a 64 KiB stream within 2× the time per
KiB of a 1 KiB one, both ways (linear time: no denial of service inside the 64 KiB limit);
import ≤ 15 MB.

Timings use time.perf_counter_ns; each figure is the median over all vectors of the type of
the per-vector figure of N calls (the lowest of three medians, see median_ns). The
EXIficient column is the call Josev's ExificientEXICodec makes, from Python through py4j
into the jar's EXICodec, with the JSON text built and parsed on our side (Josev's pydantic
models are left out, which flatters EXIficient); the ratio columns are EXIficient's time
over ours. The JVM is warmed on every vector first. Without Java or the jar
(ccy.testing.exi_oracle says which) the column is left out and the reason printed. The large
streams are valid CM ScheduleExchangeRes messages of many PowerScheduleEntry items, the
largest under each size (ccy.testing.vectors.schedule_stream). RSS is read from
/proc/self/status in fresh interpreters.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial

from ccy.testing.exi_oracle import Exificient, missing_condition
from ccy.testing.vectors import all_vectors, schedule_stream
from ccy.v2g.exi import Namespace, decode, encode

TARGET_US = 15.0
SIZES_KIB = (1, 8, 32, 64)
TARGET_RATIO = 2.0  # time per KiB at 64 KiB over that at 1 KiB
SCALING_BUDGET_S = 0.6  # per size and direction
RSS_PROBE = """
import sys
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])
before = rss()
import ccy.v2g.exi
imported = rss()
if sys.argv[1] == 'all':
    from ccy.v2g.exi import codec, walk
    from ccy.v2g.exi.compiled import OP_COMPLEX
    for key in ('SAP', 'CM', 'DC', 'AC', 'XMLDSIG'):
        g = codec.grammars(key)
        for _name, entry in g.doc + g.fragment:  # the decoder's form of each, as first use
            if entry is not None and entry[0] == OP_COMPLEX:
                walk.prepare(entry[1][0])
print((rss() - before) / 1024, (imported - before) / 1024)
"""


def load() -> list[tuple[Namespace, bytes]]:
    return [(Namespace[vector.ns], vector.data) for vector in all_vectors()]


def median_ns(call: Callable[[], object], repeat: int, rounds: int = 3) -> float:
    """The lowest of ``rounds`` medians, each over repeat/rounds calls: a burst of load from
    elsewhere on a shared machine then spoils one round, not the figure."""
    medians = []
    for _ in range(rounds):
        samples = []
        for _ in range(max(1, repeat // rounds)):
            start = time.perf_counter_ns()
            call()
            samples.append(time.perf_counter_ns() - start)
        medians.append(statistics.median(samples))
    return min(medians)


def rss_mb(mode: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def oracle_calls(
    oracle: Exificient, ns: Namespace, data: bytes, view: dict[str, object]
) -> tuple[Callable[[], object], Callable[[], object]]:
    """Josev's decode and encode of one message through EXIficient (JSON text both ways)."""
    key = ns.name

    def dec() -> object:
        return json.loads(oracle.decode_json(key, data))

    def enc() -> object:
        return oracle.encode_json(key, json.dumps(view))

    if enc() != data:
        raise SystemExit(f"EXIficient re-encodes a {next(iter(view))} vector differently")
    return dec, enc


def scaling() -> list[tuple[int, int, float, float]]:
    """(KiB, bytes, decode µs per KiB, encode µs per KiB) of a large stream near each size."""
    rows = []
    for kib in SIZES_KIB:
        view, data = schedule_stream(kib * 1024)
        if decode(Namespace.CM, data) != view:
            raise SystemExit(f"the {kib} KiB stream does not round-trip")
        figures = []
        for call in (partial(decode, Namespace.CM, data), partial(encode, Namespace.CM, view)):
            start = time.perf_counter()
            call()
            once = time.perf_counter() - start
            repeat = max(3, min(3000, int(SCALING_BUDGET_S / max(once, 1e-9))))
            figures.append(median_ns(call, repeat) / 1000 / (len(data) / 1024))
        rows.append((kib, len(data), figures[0], figures[1]))
    return rows


def print_scaling(rows: list[tuple[int, int, float, float]]) -> None:
    print(f"{'stream':>8} {'bytes':>6} {'decode µs/KiB':>14} {'encode µs/KiB':>14}")
    for kib, size, dec, enc in rows:
        print(f"{kib:>5} KiB {size:>6} {dec:>14.1f} {enc:>14.1f}")
    (_, _, dec_small, enc_small), (_, _, dec_large, enc_large) = rows[0], rows[-1]
    print(
        f"{SIZES_KIB[-1]} KiB over {SIZES_KIB[0]} KiB, time per KiB: decode "
        f"{dec_large / dec_small:.2f}×, encode {enc_large / enc_small:.2f}× "
        f"(target ≤ {TARGET_RATIO:.0f}×)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000, help="calls per vector (ours)")
    parser.add_argument(
        "--oracle-repeat", type=int, default=30, help="calls per vector (EXIficient)"
    )
    args = parser.parse_args()
    timings: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
        lambda: {"dec": [], "enc": [], "bytes": [], "jdec": [], "jenc": []}
    )
    cases = []
    for ns, data in load():  # ours first, before a JVM exists to compete for the CPU
        view = decode(ns, data)
        name = next(iter(view))
        for _ in range(50):  # warm-up
            encode(ns, decode(ns, data))
        entry = timings[(ns.name, name)]
        entry["dec"].append(median_ns(partial(decode, ns, data), args.repeat))
        entry["enc"].append(median_ns(partial(encode, ns, view), args.repeat))
        entry["bytes"].append(len(data))
        cases.append((ns, data, view, entry))
    rows = scaling()
    reason = missing_condition()
    oracle = Exificient() if reason is None else None
    try:
        for ns, data, view, entry in cases:
            if oracle is None:
                break
            their_decode, their_encode = oracle_calls(oracle, ns, data, view)
            for _ in range(args.oracle_repeat):  # JIT warm-up
                their_decode()
                their_encode()
            entry["jdec"].append(median_ns(their_decode, args.oracle_repeat))
            entry["jenc"].append(median_ns(their_encode, args.oracle_repeat))
    finally:
        if oracle is not None:
            oracle.close()
    print(
        f"{'ns':<4} {'message':<34} {'n':>3} {'bytes':>6} {'decode µs':>10} {'encode µs':>10}"
        + ("" if oracle is None else f" {'EXIf dec':>9} {'EXIf enc':>9} {'× dec':>6} {'× enc':>6}")
    )
    verdicts = []
    ratios: list[float] = []
    for (ns_name, name), entry in sorted(timings.items()):
        dec = statistics.median(entry["dec"]) / 1000
        enc = statistics.median(entry["enc"]) / 1000
        size = statistics.median(entry["bytes"])
        count = len(entry["dec"])
        line = f"{ns_name:<4} {name:<34} {count:>3} {size:>6.0f} {dec:>10.1f} {enc:>10.1f}"
        if oracle is not None:
            jdec = statistics.median(entry["jdec"]) / 1000
            jenc = statistics.median(entry["jenc"]) / 1000
            ratios += [jdec / dec, jenc / enc]
            line += f" {jdec:>9.1f} {jenc:>9.1f} {jdec / dec:>6.1f} {jenc / enc:>6.1f}"
        print(line)
        if name in ("DC_ChargeLoopReq", "DC_ChargeLoopRes"):
            worst = max(max(entry["dec"]), max(entry["enc"])) / 1000
            verdicts.append(f"{name}: slowest vector {worst:.1f} µs (target ≤ {TARGET_US:.0f} µs)")
    print()
    print("\n".join(verdicts))
    if oracle is None:
        print(f"EXIficient side by side left out: {reason}")
    else:
        print(
            f"EXIficient/ours over {len(ratios)} type×direction figures: min "
            f"{min(ratios):.1f}×, median {statistics.median(ratios):.1f}× (target ≥ 20×)"
        )
    print()
    print_scaling(rows)
    total, _imported = rss_mb("all")
    print(
        f"RSS: import ccy.v2g.exi +{rss_mb('import')[1]:.1f} MB; with all five grammar sets "
        f"loaded and walked +{total:.1f} MB (target ≤ 15 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
