# SPDX-License-Identifier: Apache-2.0
"""The sandbox's system.conf: the product's file with only machine-specific values replaced."""

import configparser
from pathlib import Path

import pytest

from ccy.testing.rauc_sandbox import SandboxError, sandbox_system_conf

TOP = Path(__file__).resolve().parents[2]
PRODUCT_CONF = TOP / "meta-ccy" / "recipes-core" / "rauc" / "files" / "system.conf"


def _parse(text: str) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(text)
    return conf


def test_only_devices_keyring_data_and_formats_change(tmp_path: Path) -> None:
    product = _parse(PRODUCT_CONF.read_text())
    slots = {s.removeprefix("slot."): tmp_path / f"{s}.img" for s in product if "slot." in s}
    text = sandbox_system_conf(
        PRODUCT_CONF.read_text(),
        slot_devices=slots,
        keyring=tmp_path / "keyring.pem",
        data_dir=tmp_path / "data",
    )
    conf = _parse(text)
    changed = {("keyring", "path"), ("system", "data-directory"), ("system", "bundle-formats")}
    changed |= {(f"slot.{name}", "device") for name in slots}
    assert conf.sections() == product.sections()
    for section in product.sections():
        assert set(conf[section]) == set(product[section])
        for key in product[section]:
            if (section, key) not in changed:
                assert conf[section][key] == product[section][key], (section, key)
    assert conf["system"]["bundle-formats"] == "plain"
    assert conf["keyring"]["path"] == str(tmp_path / "keyring.pem")
    for name, device in slots.items():
        assert conf[f"slot.{name}"]["device"] == str(device)


def test_every_slot_needs_an_image(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"no image file for slot\.rootfs\.1"):
        sandbox_system_conf(
            PRODUCT_CONF.read_text(),
            slot_devices={"rootfs.0": tmp_path / "a.img"},
            keyring=tmp_path / "k.pem",
            data_dir=tmp_path,
        )
