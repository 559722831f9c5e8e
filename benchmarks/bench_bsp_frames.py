# SPDX-License-Identifier: Apache-2.0
"""Safety-link receive path: frames parsed and decoded per second (target ≥ 50,000/s).

The stream alternates ChargeState2 and PT1000State frames (what the MCU sends every 100 ms)
and is fed to FrameParser in one big chunk, in 4 KiB chunks (one UART read) and frame by
frame (12-byte chunks); every frame is decoded. A second table row set adds 10 % corrupted
frames (garbage bursts) to show the cost of resynchronisation.

    python benchmarks/bench_bsp_frames.py
"""

import random
import time

from ccy.bsp.protocol.frame import FRAME_LEN, FrameParser, encode_frame
from ccy.bsp.protocol.messages import (
    CeState,
    ChargeState2,
    EstopReason,
    IdState,
    Pt1000Channel,
    Pt1000State,
    SafeState,
    decode,
    encode,
)

FRAMES = 100_000
TARGET_PER_S = 50_000


def stream(frames: int, garbage_every: int = 0) -> bytes:
    rng = random.Random(1)
    state = encode_frame(
        encode(ChargeState2(CeState.C, IdState.CONNECTED, EstopReason.NO_STOP, SafeState.NORMAL))
    )
    pt = encode_frame(
        encode(Pt1000State((Pt1000Channel(41.5), Pt1000Channel(38.0), Pt1000Channel(None),
                            Pt1000Channel(-5.2, selftest_failed=True))))
    )  # fmt: skip
    out = bytearray()
    for i in range(frames):
        if garbage_every and i % garbage_every == 0:
            out += bytes(rng.choice((0xA5, 0x03, rng.randrange(256))) for _ in range(8))
        out += state if i % 2 == 0 else pt
    return bytes(out)


def run(data: bytes, chunk: int) -> tuple[int, float]:
    parser = FrameParser()
    count = 0
    start = time.perf_counter()
    for offset in range(0, len(data), chunk):
        for frame in parser.feed(data[offset : offset + chunk]):
            decode(frame)
            count += 1
    return count, time.perf_counter() - start


def main() -> None:
    clean = stream(FRAMES)
    dirty = stream(FRAMES, garbage_every=10)
    print(f"{'stream':<28} {'chunk':>8} {'frames':>8} {'seconds':>8} {'frames/s':>10}  target")
    for name, data in (("clean", clean), ("10 % garbage bursts", dirty)):
        for chunk_name, chunk in (("all", len(data)), ("4096", 4096), ("12", FRAME_LEN)):
            best = min((run(data, chunk) for _ in range(3)), key=lambda r: r[1])
            count, seconds = best
            rate = count / seconds
            verdict = "ok" if rate >= TARGET_PER_S else "BELOW"
            print(
                f"{name:<28} {chunk_name:>8} {count:>8} {seconds:>8.3f} {rate:>10,.0f}  {verdict}"
            )


if __name__ == "__main__":
    main()
