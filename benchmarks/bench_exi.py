# SPDX-License-Identifier: Apache-2.0
"""EXI codec benchmark (ccy.v2g.exi): median decode and encode time per message type over
the shared ISO 15118-20 vectors, side by side with Josev's EXIficient path, and the extra RSS
of importing the codec.

Run: ``.venv/bin/python benchmarks/bench_exi.py [--repeat N] [--oracle-repeat M]``. Targets
(ccy issue 3): DC_ChargeLoopReq and DC_ChargeLoopRes ≤ 50 µs to decode and to encode; ours at
least 20× faster than EXIficient per message; import ≤ 15 MB.

Timings use time.perf_counter_ns; each figure is the median over all vectors of the type of
the per-vector figure of N calls (the lowest of three medians, see median_ns). The
EXIficient column is the call Josev's ExificientEXICodec makes, from Python through py4j
into the jar's EXICodec, with the JSON text built and parsed on our side (Josev's pydantic
models are left out, which flatters EXIficient); the ratio columns are EXIficient's time
over ours. The JVM is warmed on every vector first. Without Java or the jar
(tests/v2g/oracle.py says which) the column is left out and the reason printed. RSS is read
from /proc/self/status in fresh interpreters.
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
from pathlib import Path

from ccy.v2g.exi import Namespace, decode, encode

TOP = Path(__file__).resolve().parents[1]
VECTORS = TOP / "tests" / "data" / "vectors" / "iso15118-20"
sys.path.insert(0, str(TOP / "tests" / "v2g"))
from oracle import Exificient, missing_condition  # noqa: E402  (test peer, not a runtime dep)

JOSEV_NS = {"SAP": "sap", "ISO_V20_COMMON_MSG": "cm", "ISO_V20_DC": "dc", "ISO_V20_AC": "ac"}
TARGET_US = 50.0
RSS_PROBE = """
import sys
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])
before = rss()
import ccy.v2g.exi
imported = rss()
if sys.argv[1] == 'all':
    from ccy.v2g.exi import codec
    for key in ('SAP', 'CM', 'DC', 'AC', 'XMLDSIG'):
        codec.grammars(key)
print((rss() - before) / 1024, (imported - before) / 1024)
"""


def load() -> list[tuple[Namespace, bytes]]:
    cases = []
    for line in (VECTORS / "libiso15118-tests.txt").read_text().splitlines():
        hex_text, rest = line.split(" ", 1)
        cases.append((Namespace.from_key(rest.split(" | ")[1].strip()), bytes.fromhex(hex_text)))
    for line in (VECTORS / "josev_evcc_vs_josev_secc_dc20_transcript.txt").read_text().splitlines():
        if line.startswith(("EV->", "<-SE")):
            _direction, ns, hex_text = line.split()
            cases.append(
                (Namespace.from_key(JOSEV_NS[ns.split(".", 1)[1]]), bytes.fromhex(hex_text))
            )
    return cases


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
    total, _imported = rss_mb("all")
    print(
        f"RSS: import ccy.v2g.exi +{rss_mb('import')[1]:.1f} MB; with all five grammar sets "
        f"loaded +{total:.1f} MB (target ≤ 15 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
