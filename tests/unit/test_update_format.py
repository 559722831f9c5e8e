# SPDX-License-Identifier: Apache-2.0
"""Pure parts of ccy.update: RAUC's D-Bus values → records → text, and LastError hints."""

import pytest

from ccy.update.errors import InstallFailedError, hint
from ccy.update.format import format_status, progress_bar
from ccy.update.model import InstallerState, Progress, slots_from_dbus

SLOTS = [
    ["rootfs.1", {"bootname": "B", "state": "inactive", "boot-status": "good",
                  "bundle.version": "1.2.3", "installed.timestamp": "2026-11-23T21:31:32Z"}],
    ["rootfs.0", {"bootname": "A", "state": "booted", "boot-status": "good"}],
]  # fmt: skip

PROPS = {
    "Operation": "idle",
    "LastError": "",
    "Progress": [100, "Installing done.", 1],
    "Compatible": "ccy-mcs-controller",
    "Variant": "",
    "BootSlot": "A",
}


@pytest.mark.parametrize(
    ("percentage", "bar"),
    [(0, "[" + "-" * 10 + "]"), (40, "[####------]"), (100, "[##########]")],
)
def test_progress_bar(percentage: int, bar: str) -> None:
    line = progress_bar(Progress(percentage, "Verifying signature", 2), width=10)
    assert line == f"{bar} {percentage:3d}% Verifying signature"


def test_progress_is_clamped_and_empty_message_omitted() -> None:
    assert Progress.from_dbus([140, "", 1]).percentage == 100
    assert Progress.from_dbus([-3, "", 1]).percentage == 0
    assert progress_bar(Progress(50, "  ", 1), width=4) == "[##--]  50%"


def test_progress_bar_width_must_be_positive() -> None:
    with pytest.raises(ValueError, match="width"):
        progress_bar(Progress(1, "", 1), width=0)


def test_slots_parse_and_sort() -> None:
    slots = slots_from_dbus(SLOTS)
    assert [s.name for s in slots] == ["rootfs.0", "rootfs.1"]
    assert slots[1].bundle_version == "1.2.3"
    assert slots[0].boot_status == "good"
    assert slots[0].bundle_version == ""


def test_status_marks_booted_and_primary() -> None:
    text = format_status(InstallerState.from_dbus(PROPS), slots_from_dbus(SLOTS), "rootfs.1")
    lines = text.splitlines()
    assert "Compatible: ccy-mcs-controller" in lines
    assert "Booted slot: rootfs.0 (bootname A)" in lines
    assert "Primary slot: rootfs.1" in lines
    row0 = next(line for line in lines if line.strip().startswith("rootfs.0"))
    row1 = next(line for line in lines if line.strip().startswith("rootfs.1"))
    assert row0.endswith("(booted)")
    assert "bundle 1.2.3" in row1
    assert row1.endswith("(primary)")
    assert "Last error" not in text


def test_status_shows_last_error() -> None:
    props = {**PROPS, "LastError": "Compatible mismatch: Expected 'a' but bundle has 'b'"}
    text = format_status(InstallerState.from_dbus(props), [], "")
    assert "Last error: Compatible mismatch" in text
    assert "Primary slot: -" in text


@pytest.mark.parametrize(
    ("last_error", "meaning"),
    [
        ("Installation error: Compatible mismatch: Expected 'x'", "made for another product"),
        ("signature verification failed: Verify error: unable to get local issuer certificate",
         "not in this device's keyring"),
        ("signature verification failed: error:1700009E:CMS routines::verification failure",
         "changed after signing"),
        ("Invalid bundle format: Signature size is 0", "no signature"),
        ("Invalid bundle format: Signature size (1844) exceeds bundle size", "truncated"),
    ],
)  # fmt: skip
def test_hints(last_error: str, meaning: str) -> None:
    assert meaning in hint(last_error)
    message = str(InstallFailedError(last_error))
    assert message.startswith(f"installation failed: {last_error} (")
    assert meaning in message


def test_unknown_error_has_no_hint() -> None:
    assert hint("Failed to mount bundle") == ""
    assert str(InstallFailedError("")) == "installation failed: RAUC gave no reason"
