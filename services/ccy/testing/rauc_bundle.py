# SPDX-License-Identifier: Apache-2.0
"""Build and check plain RAUC bundles with the ``rauc`` tool (tests, benchmarks, developers).

Facts from the design note (image.md, "What runs here"): the payload must exceed 4096 bytes
(a rootfs image always does); ``rauc bundle`` rewrites manifest.raucm in its content folder, so
every bundle gets a fresh folder; ``rauc info --keyring`` exits non-zero when the signature does
not verify. The product builds verity bundles in Yocto (meta-ccy ccy-bundle.bb); plain ones need
no device-mapper.
"""

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ccy.pki.rauc_dev import RaucDevPki

RAUC = "rauc"


class BundleError(RuntimeError):
    """``rauc bundle`` or ``rauc info`` failed; the message carries RAUC's own words."""


@dataclass(frozen=True)
class BundleSpec:
    """The [update] section and the single rootfs image of a bundle."""

    compatible: str
    version: str
    image: Path
    slot_class: str = "rootfs"
    bundle_format: str = "plain"


def manifest_text(spec: BundleSpec) -> str:
    """manifest.raucm for ``spec`` (RAUC manual, "Manifest")."""
    return (
        "[update]\n"
        f"compatible={spec.compatible}\n"
        f"version={spec.version}\n\n"
        "[bundle]\n"
        f"format={spec.bundle_format}\n\n"
        f"[image.{spec.slot_class}]\n"
        f"filename={spec.image.name}\n"
    )


def _rauc() -> str:
    path = shutil.which(RAUC)
    if path is None:
        raise BundleError("rauc not found (Debian package: rauc)")
    return path


def build_bundle(spec: BundleSpec, pki: RaucDevPki, out: Path) -> Path:
    """Sign a bundle holding ``spec.image`` with the PKI's signing key; returns ``out``."""
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccy-bundle-") as tmp:
        content = Path(tmp) / "content"
        content.mkdir()
        shutil.copyfile(spec.image, content / spec.image.name)
        (content / "manifest.raucm").write_text(manifest_text(spec), encoding="utf-8")
        cmd = [
            _rauc(),
            "bundle",
            f"--cert={pki.signing_cert}",
            f"--key={pki.signing_key}",
            f"--keyring={pki.keyring}",
            str(content),
            str(out),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"rauc bundle failed ({done.returncode}): {done.stderr.strip()}")
    return out


def verify_bundle(bundle: Path, keyring: Path) -> str:
    """``rauc info --keyring``: RAUC's report when the signature verifies, else BundleError."""
    cmd = [_rauc(), "info", f"--keyring={keyring}", "--output-format=shell", str(bundle)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln and "rauc-Message" not in ln]
        raise BundleError(f"{bundle}: {' '.join(lines) or done.stderr.strip()}")
    return done.stdout


def make_ext4_image(root: Path, out: Path, size_bytes: int, label: str = "rootfs") -> Path:
    """``mkfs.ext4 -d ROOT``: an ext4 image of a staged root tree (as wic/image_types do)."""
    mkfs = shutil.which("mkfs.ext4")
    if mkfs is None:
        raise BundleError("mkfs.ext4 not found (Debian package: e2fsprogs)")
    out.unlink(missing_ok=True)
    cmd = [mkfs, "-q", "-F", "-L", label, "-d", str(root), str(out), f"{size_bytes // 1024}k"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"mkfs.ext4 failed ({done.returncode}): {done.stderr.strip()}")
    return out
