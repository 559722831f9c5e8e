# SPDX-License-Identifier: Apache-2.0
"""Time for transaction timestamps on the image: systemd-timesyncd built, enabled, configured.

- the distro keeps ``timesyncd`` in systemd's PACKAGECONFIG;
- ccy-system's preset enables systemd-timesyncd.service even under OE-core's
  99-default.preset ("disable *"): proven with the real ``systemctl --root … preset-all`` that
  OE-core runs on the rootfs, on a root holding the staged files;
- the vendor drop-in is what systemd reads for timesyncd.conf (``systemd-analyze cat-config``
  on the staged root), uses only keys the installed systemd-timesyncd binary knows, and a
  site drop-in in /etc comes after it (so it wins).
The firewall side (NTP replies on the management port only) is in test_firewall.py.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from staging import CCY_PRESET, LAYER, SYSTEM_FILES, preset_all, preset_root

DISTRO = LAYER / "conf" / "distro" / "ccy-os.conf"
DROP_IN = SYSTEM_FILES / "10-ccy-timesyncd.conf"
PRESET = SYSTEM_FILES / "80-ccy.preset"
INSTALLED_DROP_IN = "usr/lib/systemd/timesyncd.conf.d/10-ccy-timesyncd.conf"
INSTALLED_PRESET = CCY_PRESET
TIMESYNCD_BINARY = Path("/usr/lib/systemd/systemd-timesyncd")

# Stand-ins for the units systemd ships, with the [Install] section that presets act on.
TIMESYNCD_UNIT = """[Unit]
Description=Network Time Synchronization
[Service]
ExecStart=/usr/lib/systemd/systemd-timesyncd
[Install]
WantedBy=sysinit.target
"""
OTHER_UNIT = """[Unit]
Description=a unit nobody enables
[Service]
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target
"""

UNITS = {"systemd-timesyncd.service": TIMESYNCD_UNIT, "ccy-nobody.service": OTHER_UNIT}

needs_systemctl = pytest.mark.skipif(
    shutil.which("systemctl") is None, reason="systemctl is needed (Debian package systemd)"
)
needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is needed (Debian package systemd)",
)


def test_distro_keeps_timesyncd_in_systemds_packageconfig() -> None:
    text = re.sub(r"\\\n", " ", DISTRO.read_text())
    (value,) = re.findall(r'^PACKAGECONFIG:append:pn-systemd = "(.*)"$', text, re.M)
    assert value.startswith(" ") and "timesyncd" in value.split()


def test_staging_installs_the_drop_in_and_the_preset(staged_root: Path) -> None:
    assert (staged_root / INSTALLED_DROP_IN).read_text() == DROP_IN.read_text()
    assert (staged_root / INSTALLED_PRESET).read_text() == PRESET.read_text()


@needs_systemctl
def test_preset_enables_timesyncd_over_oe_cores_default(tmp_path: Path, staged_root: Path) -> None:
    wants = "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"
    # The control: OE-core's "disable *" alone leaves it off.
    without = preset_root(tmp_path / "without-ccy", staged_root, UNITS, with_ccy=False)
    preset_all(without)
    assert not (without / wants).is_symlink()
    with_ccy = preset_root(tmp_path / "with-ccy", staged_root, UNITS, with_ccy=True)
    preset_all(with_ccy)
    assert (with_ccy / wants).is_symlink()
    assert not (with_ccy / "etc/systemd/system/multi-user.target.wants").exists()


def cat_config(root: Path) -> str:
    done = subprocess.run(
        ["systemd-analyze", f"--root={root}", "cat-config", "systemd/timesyncd.conf"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def read_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current, f"not a key=value line in a section: {raw!r}"
        sections[current].append((key.strip(), value.strip()))
    return sections


@needs_analyze
def test_timesyncd_reads_the_vendor_drop_in_and_a_site_drop_in_after_it(
    tmp_path: Path, staged_root: Path
) -> None:
    root = tmp_path / "root"
    (root / INSTALLED_DROP_IN).parent.mkdir(parents=True)
    shutil.copyfile(staged_root / INSTALLED_DROP_IN, root / INSTALLED_DROP_IN)
    site = root / "etc/systemd/timesyncd.conf.d/50-site.conf"
    site.parent.mkdir(parents=True)
    site.write_text("[Time]\nNTP=ntp.site.example\n")
    shown = cat_config(root)
    files = [line[2:] for line in shown.splitlines() if line.startswith(f"# {root}")]
    assert files == [str(root / INSTALLED_DROP_IN), str(site)]
    assert read_sections(DROP_IN.read_text()) == {"Time": [("NTP", ""), ("FallbackNTP", "")]}


@pytest.mark.skipif(
    not TIMESYNCD_BINARY.exists(), reason=f"{TIMESYNCD_BINARY} (Debian package systemd-timesyncd)"
)
def test_drop_in_keys_are_keys_timesyncd_knows() -> None:
    """The section.key table is compiled into systemd-timesyncd (gperf): read it there."""
    known = set(re.findall(rb"Time\.([A-Za-z]+)", TIMESYNCD_BINARY.read_bytes()))
    assert b"NTP" in known and b"FallbackNTP" in known, known
    sections = read_sections(DROP_IN.read_text())
    assert set(sections) == {"Time"}
    for key, _ in sections["Time"]:
        assert key.encode() in known, key
