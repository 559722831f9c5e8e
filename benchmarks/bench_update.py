# SPDX-License-Identifier: Apache-2.0
"""RAUC update path: PKI generation, bundle build/verify, and install through ccyctl.

- PKI: ``make_rauc_dev_pki`` (EC P-256 CA + leaf + keyring, files written).
- Bundle: ``rauc bundle`` of an ext4 image of IMAGE_MIB MiB (plain format, squashfs),
  ``rauc info --keyring`` (signature check).
- Install: ``ccyctl update install`` against ``rauc service`` on image-file slots with the
  U-Boot backend (ccy.testing.rauc_sandbox), wall time from spawn to exit (interpreter start, bus,
  signature check, loop mount, copy into slot B, U-Boot env writes). Each run gets a fresh
  sandbox (A→B again). Needs root (loop devices).

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_update.py [RUNS] [IMAGE_MIB]``.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ccy.pki.rauc_dev import make_rauc_dev_pki
from ccy.testing.rauc_bundle import BundleSpec, build_bundle, make_ext4_image, verify_bundle
from ccy.testing.rauc_sandbox import RaucSandbox

TOP = Path(__file__).resolve().parents[1]
PRODUCT_CONF = TOP / "meta-ccy" / "recipes-core" / "rauc" / "files" / "system.conf"
CCYCTL = str(Path(sys.executable).parent / "ccyctl")


def timed(runs: int, action: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(runs):
        start = time.perf_counter()
        action(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(name: str, samples: list[float]) -> str:
    return (
        f"{name:<34} {len(samples):>4} {statistics.median(samples):>10.1f} "
        f"{min(samples):>10.1f} {max(samples):>10.1f}"
    )


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    image_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    if os.geteuid() != 0:
        print("bench_update: needs root (rauc service loop-mounts bundles); skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="ccy-bench-update-") as tmp:
        d = Path(tmp)
        pki_ms = timed(runs, lambda i: make_rauc_dev_pki(d / f"pki{i}"))
        pki = make_rauc_dev_pki(d / "pki")
        root = d / "root" / "etc"
        root.mkdir(parents=True)
        (root / "payload").write_bytes(os.urandom(4 << 20))
        image = make_ext4_image(d / "root", d / "rootfs.ext4", image_mib << 20)
        conf = PRODUCT_CONF.read_text()
        compatible = next(
            ln.split("=", 1)[1] for ln in conf.splitlines() if ln.startswith("compatible=")
        )
        spec = BundleSpec(compatible, "1.0", image)
        bundle_ms = timed(runs, lambda i: build_bundle(spec, pki, d / "b.raucb"))
        bundle = d / "b.raucb"
        verify_ms = timed(runs, lambda i: verify_bundle(bundle, pki.keyring))
        bundle_kib = bundle.stat().st_size // 1024

        install_ms: list[float] = []
        for i in range(runs):
            slots: dict[str, Path | None] = {"rootfs.0": None, "rootfs.1": None}
            with RaucSandbox(d / f"sb{i}", conf, pki.keyring, slots, image_mib << 20) as sb:
                start = time.perf_counter()
                subprocess.run(
                    [CCYCTL, "update", "install", str(bundle)],
                    env=sb.environ,
                    check=True,
                    capture_output=True,
                )
                install_ms.append((time.perf_counter() - start) * 1000)
            for img in (d / f"sb{i}").glob("*.img"):
                img.unlink()
    print(f"bench_update: {runs} runs, {image_mib} MiB ext4 image, bundle {bundle_kib} KiB")
    print(f"{'step':<34} {'n':>4} {'median ms':>10} {'min ms':>10} {'max ms':>10}")
    print(row("make_rauc_dev_pki", pki_ms))
    print(row("rauc bundle (plain)", bundle_ms))
    print(row("rauc info --keyring", verify_ms))
    print(row("ccyctl update install (wall)", install_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
