# SPDX-License-Identifier: Apache-2.0
"""Signed RAUC bundles of the staged ccy rootfs, checked by ``rauc info --keyring``.

A bundle signed with the development PKI verifies against its keyring and carries the
product's compatible (meta-ccy system.conf); a bundle signed by another CA, a tampered, a
truncated and an unsigned one are refused with RAUC's reason (image.md, "RAUC").
"""

import configparser
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.pki.rauc_dev import RaucDevPki, make_rauc_dev_pki
from ccy.testing.rauc_bundle import (
    BundleError,
    BundleSpec,
    build_bundle,
    make_ext4_image,
    manifest_text,
    verify_bundle,
)

TOP = Path(__file__).resolve().parents[2]
PRODUCT_CONF = TOP / "meta-ccy" / "recipes-core" / "rauc" / "files" / "system.conf"
IMAGE_BYTES = 16 << 20


def product_compatible() -> str:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(PRODUCT_CONF.read_text())
    return conf["system"]["compatible"]


class Kit:
    """Everything the bundle tests share: two PKIs, the rootfs image, a good bundle."""

    def __init__(self, directory: Path, staged_root: Path) -> None:
        self.directory = directory
        self.pki = make_rauc_dev_pki(directory / "pki")
        self.foreign = make_rauc_dev_pki(
            directory / "foreign", prefix="ccy-development-rauc-foreign"
        )
        self.image = make_ext4_image(staged_root, directory / "rootfs.ext4", IMAGE_BYTES)
        self.spec = BundleSpec(product_compatible(), "1.2.3", self.image)
        self.good = build_bundle(self.spec, self.pki, directory / "good.raucb")

    def signed_by(self, pki: RaucDevPki, name: str, compatible: str = "") -> Path:
        spec = BundleSpec(compatible or self.spec.compatible, "1.2.3", self.image)
        return build_bundle(spec, pki, self.directory / name)

    def tampered(self) -> Path:
        data = bytearray(self.good.read_bytes())
        data[len(data) // 3] ^= 0xFF  # inside the squashfs payload, before the CMS signature
        out = self.directory / "tampered.raucb"
        out.write_bytes(data)
        return out

    def truncated(self) -> Path:
        out = self.directory / "truncated.raucb"
        out.write_bytes(self.good.read_bytes()[: self.good.stat().st_size // 2])
        return out

    def unsigned(self) -> Path:
        """The bundle's squashfs without the CMS signature RAUC appends."""
        content = self.directory / "unsigned-content"
        content.mkdir(exist_ok=True)
        shutil.copyfile(self.image, content / self.image.name)
        (content / "manifest.raucm").write_text(manifest_text(self.spec))
        out = self.directory / "unsigned.raucb"
        subprocess.run(
            ["mksquashfs", str(content), str(out), "-quiet", "-all-root", "-noappend"],
            check=True,
            capture_output=True,
        )
        return out


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory, staged_root: Path) -> Iterator[Kit]:
    directory = tmp_path_factory.mktemp("rauc-bundle")
    yield Kit(directory, staged_root)
    shutil.rmtree(directory)


def test_good_bundle_verifies_with_product_compatible(kit: Kit) -> None:
    info = verify_bundle(kit.good, kit.pki.keyring)
    assert f"RAUC_MF_COMPATIBLE='{product_compatible()}'" in info
    assert "RAUC_MF_VERSION='1.2.3'" in info
    assert "RAUC_IMAGE_CLASS_0='rootfs'" in info
    assert f"RAUC_IMAGE_SIZE_0={IMAGE_BYTES}" in info


def test_image_holds_the_staged_install(kit: Kit) -> None:
    listing = subprocess.run(
        ["debugfs", "-R", "ls -p /usr/bin", str(kit.image)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "/ccyctl/" in listing


def test_foreign_ca_is_refused(kit: Kit) -> None:
    bundle = kit.signed_by(kit.foreign, "foreign.raucb")
    with pytest.raises(BundleError, match="unable to get local issuer certificate"):
        verify_bundle(bundle, kit.pki.keyring)
    assert "RAUC_MF_VERSION" in verify_bundle(bundle, kit.foreign.keyring)


def test_tampered_bundle_is_refused(kit: Kit) -> None:
    with pytest.raises(BundleError, match="signature verification failed"):
        verify_bundle(kit.tampered(), kit.pki.keyring)


def test_truncated_bundle_is_refused(kit: Kit) -> None:
    with pytest.raises(BundleError, match="exceeds bundle size"):
        verify_bundle(kit.truncated(), kit.pki.keyring)


def test_unsigned_bundle_is_refused(kit: Kit) -> None:
    with pytest.raises(BundleError, match="Signature size is 0"):
        verify_bundle(kit.unsigned(), kit.pki.keyring)


def test_missing_bundle_is_a_named_error(kit: Kit) -> None:
    with pytest.raises(BundleError, match="No such file"):
        verify_bundle(kit.directory / "absent.raucb", kit.pki.keyring)
