# SPDX-License-Identifier: Apache-2.0
"""``ccyctl update`` against a real ``rauc service`` (RAUC 1.8) on image-file slots.

The service runs with the product system.conf (meta-ccy), rewritten only where this machine
differs (ccy.testing.rauc_sandbox), the U-Boot backend on a redundant environment image, on a
private system-type bus. The round trip checks the slot's bytes, BOOT_ORDER, BOOT_B_LEFT and
mark-good after a simulated reboot into B; each bad input gets its own test: a clear message,
and slot A (booted) as well as the boot order stay as they were.
"""

import asyncio
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_rauc_bundle import PRODUCT_CONF, Kit

from ccy.testing.rauc_bundle import BundleSpec, build_bundle, make_ext4_image
from ccy.testing.rauc_sandbox import RaucSandbox
from ccy.update.client import RaucClient, connect
from ccy.update.errors import InstallBusyError
from ccy.update.model import Progress

pytestmark = pytest.mark.root  # loop-mounts bundles, owns de.pengutronix.rauc as root

TOP = Path(__file__).resolve().parents[2]
CCYCTL = TOP / ".venv" / "bin" / "ccyctl"
OLD_IMAGE_BYTES = 16 << 20


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory, staged_root: Path) -> Iterator[Kit]:
    directory = tmp_path_factory.mktemp("rauc-service")
    yield Kit(directory, staged_root)
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def old_image(kit: Kit) -> Path:
    """What slot A runs before the update: a different rootfs ("0.9")."""
    root = kit.directory / "old-root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "ccy-release").write_text("0.9\n")
    return make_ext4_image(root, kit.directory / "old.ext4", OLD_IMAGE_BYTES)


@pytest.fixture
def sandbox(tmp_path: Path, kit: Kit, old_image: Path) -> Iterator[RaucSandbox]:
    with RaucSandbox(
        tmp_path / "rauc",
        PRODUCT_CONF.read_text(),
        kit.pki.keyring,
        {"rootfs.0": old_image, "rootfs.1": None},
        slot_size=kit.image.stat().st_size,
        booted="A",
    ) as sb:
        yield sb
    shutil.rmtree(tmp_path)  # slot images and bundles: tens of MiB per test


def ccyctl(sandbox: RaucSandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CCYCTL), "update", *args],
        env=sandbox.environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_untouched(sandbox: RaucSandbox, old_image: Path) -> None:
    assert sha256(sandbox.slot_devices["rootfs.0"]) == sha256(old_image)
    assert sandbox.uboot is not None
    assert sandbox.uboot.read()["BOOT_ORDER"] == "A B"


def test_install_round_trip(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    done = ccyctl(sandbox, "install", str(kit.good))
    assert done.returncode == 0, done.stderr
    assert "primary slot now rootfs.1: reboot to run it" in done.stdout
    assert "[##############################] 100% Installing done." in done.stderr
    assert "Verifying signature done." in done.stderr
    assert sandbox.slot_devices["rootfs.1"].read_bytes() == kit.image.read_bytes()
    assert sha256(sandbox.slot_devices["rootfs.0"]) == sha256(old_image)
    assert sandbox.uboot is not None
    env = sandbox.uboot.read()
    assert (env["BOOT_ORDER"], env["BOOT_B_LEFT"]) == ("B A", "3")

    status = ccyctl(sandbox, "status").stdout.splitlines()
    assert "Booted slot: rootfs.0 (bootname A)" in status
    assert "Primary slot: rootfs.1" in status
    row = next(line for line in status if line.strip().startswith("rootfs.1"))
    assert "bundle 1.2.3" in row
    assert row.endswith("(primary)")

    # Reboot into B: the boot script spends one attempt, RAUC now runs from B.
    sandbox.uboot.set("BOOT_B_LEFT", "2")
    sandbox.stop_service()
    sandbox.booted = "B"
    sandbox.start_service()
    marked = ccyctl(sandbox, "mark", "good")
    assert marked.returncode == 0, marked.stderr
    assert "marked slot rootfs.1 as good" in marked.stdout
    env = sandbox.uboot.read()
    assert (env["BOOT_ORDER"], env["BOOT_B_LEFT"]) == ("B A", "3")
    status = ccyctl(sandbox, "status").stdout.splitlines()
    assert "Booted slot: rootfs.1 (bootname B)" in status
    row = next(line for line in status if line.strip().startswith("rootfs.1"))
    assert "boot status good" in row
    assert row.endswith("(booted, primary)")


def test_mark_bad_other_leaves_no_attempts(sandbox: RaucSandbox) -> None:
    done = ccyctl(sandbox, "mark", "bad", "other")
    assert done.returncode == 0, done.stderr
    assert sandbox.uboot is not None
    assert sandbox.uboot.read()["BOOT_B_LEFT"] == "0"


def refused(sandbox: RaucSandbox, bundle: Path, old_image: Path, code: int = 1) -> str:
    """The one stderr line of a refused install; ``code`` is ccyctl's exit status (sysexits)."""
    done = ccyctl(sandbox, "install", str(bundle))
    assert done.returncode == code
    assert_untouched(sandbox, old_image)
    return done.stderr.splitlines()[-1]


def test_unsigned_bundle(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    assert refused(sandbox, kit.unsigned(), old_image) == (
        "ccyctl: update: installation failed: Invalid bundle format: Signature size is 0 "
        "(the bundle carries no signature)"
    )


def test_foreign_signed_bundle(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    bundle = kit.signed_by(kit.foreign, "foreign.raucb")
    assert refused(sandbox, bundle, old_image) == (
        "ccyctl: update: installation failed: signature verification failed: Verify error: "
        "unable to get local issuer certificate (signed by a CA not in this device's keyring)"
    )


def test_tampered_bundle(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    line = refused(sandbox, kit.tampered(), old_image)
    assert line.startswith("ccyctl: update: installation failed: signature verification failed")
    assert line.endswith("(the bundle was changed after signing or is damaged)")


def test_truncated_bundle(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    line = refused(sandbox, kit.truncated(), old_image)
    assert line.startswith("ccyctl: update: installation failed: Invalid bundle format")
    assert line.endswith("exceeds bundle size (the file is truncated or not a RAUC bundle)")


def test_incompatible_bundle(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    bundle = kit.signed_by(kit.pki, "other-product.raucb", compatible="other-product")
    assert refused(sandbox, bundle, old_image) == (
        "ccyctl: update: installation failed: Installation error: Compatible mismatch: "
        f"Expected '{kit.spec.compatible}' but bundle manifest has 'other-product' "
        "(the bundle is made for another product)"
    )


def test_missing_bundle_file(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    absent = kit.directory / "absent.raucb"
    assert refused(sandbox, absent, old_image, code=66) == (
        f"ccyctl: update: {absent}: no such bundle file (check the path of the .raucb file)"
    )


def test_install_started_twice(
    sandbox: RaucSandbox, kit: Kit, old_image: Path, tmp_path: Path
) -> None:
    """A second install while one runs is refused. The first is held at a point the test
    controls, not by a race: RAUC calls fw_setenv (to take the target slot out of BOOT_ORDER)
    before it writes, and the wrapper on PATH waits there for a gate file."""
    assert sandbox.uboot is not None
    wrapper = sandbox.uboot.bin_dir / "fw_setenv"
    original = wrapper.read_text()
    reached, gate = tmp_path / "fw_setenv-reached", tmp_path / "gate"
    body = original.split("\n", 1)[1]
    wrapper.write_text(
        f'#!/bin/sh\ntouch "{reached}"\nwhile [ ! -e "{gate}" ]; do sleep 0.05; done\n{body}'
    )
    first = subprocess.Popen(
        [str(CCYCTL), "update", "install", str(kit.good)],
        env=sandbox.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not reached.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reached.exists(), "RAUC never reached fw_setenv"
        second = ccyctl(sandbox, "install", str(kit.good))
    finally:
        gate.touch()
        out, _err = first.communicate(timeout=120)
        wrapper.write_text(original)
    assert second.returncode == 75  # EX_TEMPFAIL: retry when the running install is done
    # Refused by the Operation check ("RAUC is busy (installing): …") or, should the state
    # change between that check and the call, by RAUC itself ("RAUC is busy: … (Already …)").
    assert second.stderr.startswith("ccyctl: update: RAUC is busy")
    assert "another installation is running; wait for it to complete" in second.stderr
    assert first.returncode == 0
    assert "primary slot now rootfs.1" in out
    assert sha256(sandbox.slot_devices["rootfs.0"]) == sha256(old_image)


def test_second_install_bundle_call_is_refused_by_rauc(
    sandbox: RaucSandbox, kit: Kit, old_image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two InstallBundle calls back to back on one connection: RAUC itself refuses the second."""
    for key, value in sandbox.environ.items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    seen: list[Progress] = []

    async def run() -> tuple[int, str, str]:
        bus = await connect()
        try:
            client = RaucClient(bus)
            completed = await client.watch(seen.append)
            await client.install_bundle(str(kit.good))
            with pytest.raises(InstallBusyError, match="RAUC is busy: another installation"):
                await client.install_bundle(str(kit.good))
            result = await asyncio.wait_for(completed, 60)
            client.unwatch()
            return result, await client.last_error(), await client.primary()
        finally:
            bus.disconnect()

    result, last_error, primary = asyncio.run(run())
    assert (result, last_error, primary) == (0, "", "rootfs.1")
    assert seen[-1] == Progress(100, "Installing done.", 1)
    assert sha256(sandbox.slot_devices["rootfs.0"]) == sha256(old_image)


def test_rauc_not_running(sandbox: RaucSandbox, kit: Kit, old_image: Path) -> None:
    sandbox.stop_service()
    line = refused(sandbox, kit.good, old_image, code=69)
    assert line.startswith(
        "ccyctl: update: RAUC is not running: de.pengutronix.rauc is not on the system bus"
    )
    status = ccyctl(sandbox, "status")
    assert status.returncode == 69  # EX_UNAVAILABLE
    assert "RAUC is not running" in status.stderr


def test_rauc_stops_during_install(
    sandbox: RaucSandbox, kit: Kit, old_image: Path, tmp_path: Path
) -> None:
    big = make_ext4_image(kit.directory / "old-root", tmp_path / "big.ext4", 256 << 20)
    bundle = build_bundle(BundleSpec(kit.spec.compatible, "2.0", big), kit.pki, tmp_path / "b")
    client = subprocess.Popen(
        [str(CCYCTL), "update", "install", str(bundle)],
        env=sandbox.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stderr is not None
        for line in client.stderr:
            if "Copying image to rootfs.1" in line:
                break
        sandbox.stop_service()
    finally:
        _out, err = client.communicate(timeout=60)
    assert client.returncode == 69  # EX_UNAVAILABLE: RAUC went away
    assert err.splitlines()[-1] == (
        "ccyctl: update: RAUC left the bus during the installation (de.pengutronix.rauc) "
        "(systemctl start rauc)"
    )
    assert sha256(sandbox.slot_devices["rootfs.0"]) == sha256(old_image)
    # RAUC took the half-written slot B out of the boot order before writing to it.
    assert sandbox.uboot is not None
    assert sandbox.uboot.read()["BOOT_ORDER"] == "A"


def test_no_system_bus(sandbox: RaucSandbox, kit: Kit, tmp_path: Path) -> None:
    env = {**sandbox.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}
    done = subprocess.run(
        [str(CCYCTL), "update", "install", str(kit.good)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 69  # EX_UNAVAILABLE: no bus
    assert done.stderr.startswith("ccyctl: no system bus at ")
    assert done.stderr.count("\n") == 1 and "DBUS_SYSTEM_BUS_ADDRESS" in done.stderr
