# SPDX-License-Identifier: Apache-2.0
"""The layer's shell scripts, run for real under /bin/sh.

- ccy-bundle-hook (RAUC slot-post-install): run with the environment RAUC gives a slot hook
  (RAUC_SLOT_CLASS, RAUC_SLOT_MOUNT_POINT), the running system relocated with CCY_ROOT.
- ccy-health-check: run with a `systemctl` on PATH that answers `show -p Wants` and
  `is-active` from a table, standing in for systemd as PID 1, which a test machine lacks.
- boot.cmd.in: substituted as ccy-boot-script's do_compile does and wrapped by the real
  mkimage (U-Boot itself does not run here).
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from staging import LAYER, SYSTEM_FILES

HOOK = LAYER / "recipes-core" / "bundles" / "files" / "ccy-bundle-hook"
HEALTH = SYSTEM_FILES / "ccy-health-check"


def run_hook(
    running: Path, slot: Path, *args: str, slot_class: str = "rootfs"
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "CCY_ROOT": str(running),
        "RAUC_SLOT_CLASS": slot_class,
        "RAUC_SLOT_MOUNT_POINT": str(slot),
    }
    return subprocess.run(
        ["/bin/sh", str(HOOK), *args], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def running(tmp_path: Path) -> Path:
    """The booted system's /etc/ccy: an applied config, a certificate and a private key."""
    root = tmp_path / "running"
    etc = root / "etc" / "ccy"
    (etc / "certs").mkdir(parents=True)
    (etc / "config.yaml").write_text("evse:\n  max_current_A: 400\n")
    key = etc / "certs" / "secc.key.pem"
    key.write_text("not a real key, a file with mode 0600\n")
    key.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(key, 65534, 65534)
    return root


@pytest.fixture
def slot(tmp_path: Path, running: Path) -> Path:
    """The new slot as RAUC mounts it: default config link and a file the old slot lacks.

    Its config.yaml link is absolute, so from the running system it resolves to the running
    system's profile (here: under ``running``), which the hook must never write through.
    """
    profile = running / "usr" / "share" / "ccy" / "config" / "profiles" / "ccy.yaml"
    profile.parent.mkdir(parents=True)
    profile.write_text("# board profile of the running system\n")
    mnt = tmp_path / "slot"
    etc = mnt / "etc" / "ccy"
    etc.mkdir(parents=True)
    (etc / "config.yaml").symlink_to(profile)
    (etc / "new-default.yaml").write_text("added by the new version\n")
    return mnt


def add_migration(slot: Path, name: str, body: str) -> None:
    folder = slot / "usr" / "lib" / "ccy" / "migrations.d"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\nset -eu\n" + body)
    script.chmod(0o755)


def test_hook_carries_etc_ccy_into_the_new_slot(running: Path, slot: Path) -> None:
    done = run_hook(running, slot, "slot-post-install")
    assert done.returncode == 0, done.stderr
    new = slot / "etc" / "ccy"
    assert not (new / "config.yaml").is_symlink()
    assert (new / "config.yaml").read_text() == "evse:\n  max_current_A: 400\n"
    key = new / "certs" / "secc.key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    if os.geteuid() == 0:
        assert (key.stat().st_uid, key.stat().st_gid) == (65534, 65534)
    assert (new / "new-default.yaml").read_text() == "added by the new version\n"
    profile = running / "usr" / "share" / "ccy" / "config" / "profiles" / "ccy.yaml"
    assert profile.read_text() == "# board profile of the running system\n"


def test_hook_runs_migrations_in_name_order_on_the_new_slot(running: Path, slot: Path) -> None:
    add_migration(slot, "20-second", 'echo second >> "$1/migrated"\n')
    add_migration(
        slot,
        "10-first",
        'sed -i s/max_current_A/max_current_limit_A/ "$1/config.yaml"\n'
        'echo first >> "$1/migrated"\n',
    )
    done = run_hook(running, slot, "slot-post-install")
    assert done.returncode == 0, done.stderr
    new = slot / "etc" / "ccy"
    assert (new / "migrated").read_text() == "first\nsecond\n"
    assert "max_current_limit_A: 400" in (new / "config.yaml").read_text()
    assert "config migration 10-first" in done.stdout
    running_config = running / "etc" / "ccy" / "config.yaml"
    assert "max_current_A: 400" in running_config.read_text(), "the booted slot stays untouched"


def test_a_failing_migration_fails_the_install(running: Path, slot: Path) -> None:
    add_migration(slot, "10-broken", "echo 'cannot read old config' >&2\nexit 3\n")
    done = run_hook(running, slot, "slot-post-install")
    assert done.returncode == 1
    assert "config migration 10-broken failed" in done.stderr


def test_unsupported_hook_is_refused(running: Path, slot: Path) -> None:
    done = run_hook(running, slot, "install-check")
    assert done.returncode == 1
    assert "unsupported hook 'install-check'" in done.stderr


def test_hook_outside_rauc_names_the_missing_mount_point(running: Path, slot: Path) -> None:
    done = subprocess.run(
        ["/bin/sh", str(HOOK), "slot-post-install"],
        env={"PATH": os.environ["PATH"], "RAUC_SLOT_CLASS": "rootfs"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "RAUC_SLOT_MOUNT_POINT is not set" in done.stderr


def test_other_slot_classes_are_left_alone(running: Path, slot: Path) -> None:
    done = run_hook(running, slot, "slot-post-install", slot_class="bootloader")
    assert done.returncode == 0
    assert (slot / "etc" / "ccy" / "config.yaml").is_symlink()


def fake_systemctl(
    folder: Path,
    wants: str,
    states: dict[str, str],
    times_us: dict[str, tuple[int, int]] | None = None,
    active_after_polls: int = 0,
) -> dict[str, str]:
    """A `systemctl` answering from a table, standing in for PID 1; returns the environment
    that puts it first. ``times_us``: unit → (InactiveExit, ActiveEnter) monotonic µs.
    ``active_after_polls``: every unit reads "activating" for that many is-active calls."""
    times = times_us or {unit: (1_000_000, 1_500_000) for unit in states}
    cases = "".join(
        f"    {unit}) echo {state}; [ {state} = active ] ;;\n" for unit, state in states.items()
    )
    stamps = "".join(
        f"    {unit}:InactiveExitTimestampMonotonic) echo {t[0]} ;;\n"
        f"    {unit}:ActiveEnterTimestampMonotonic) echo {t[1]} ;;\n"
        for unit, t in times.items()
    )
    counter = folder / "polls"
    counter.write_text("0")
    script = folder / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = show ] && [ "$2" = --property=Wants ]; then '
        f'echo "{wants}"; exit 0; fi\n'
        'if [ "$1" = show ]; then\n  case "$4:${2#--property=}" in\n'
        f"{stamps}    *) exit 1 ;;\n  esac\n  exit 0\nfi\n"
        'if [ "$1" = is-active ]; then\n'
        f"  n=$(cat {counter}); echo $((n + 1)) > {counter}\n"
        f'  if [ "$n" -lt {active_after_polls} ]; then echo activating; exit 3; fi\n'
        '  case "$2" in\n'
        f"{cases}    *) echo inactive; exit 3 ;;\n  esac\nfi\nexit 1\n"
    )
    script.chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}", "CCY_HEALTH_TIMEOUT_S": "0"}


def run_health(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(HEALTH)], env=env, capture_output=True, text=True, timeout=30
    )


def test_health_check_passes_when_every_wanted_unit_is_active(tmp_path: Path) -> None:
    env = fake_systemctl(
        tmp_path,
        "ccy-bsp.service ccy-evse.service",
        {"ccy-bsp.service": "active", "ccy-evse.service": "active"},
        {"ccy-bsp.service": (2_000_000, 2_635_000), "ccy-evse.service": (2_010_000, 3_415_999)},
    )
    done = run_health(env)
    assert done.returncode == 0, done.stderr
    # First start 2.000 s, last READY 3.415999 s: the seed's wording, whole milliseconds.
    assert "All modules are initialized [1415ms]" in done.stdout
    assert "all ccy units active: ccy-bsp.service ccy-evse.service" in done.stdout


def test_health_check_waits_for_units_still_starting(tmp_path: Path) -> None:
    units = {"ccy-bsp.service": "active", "ccy-evse.service": "active"}
    env = fake_systemctl(tmp_path, " ".join(units), units, active_after_polls=3)
    env["CCY_HEALTH_TIMEOUT_S"] = "5"
    done = run_health(env)
    assert done.returncode == 0, done.stderr
    assert int((tmp_path / "polls").read_text()) > 3


def test_health_check_fails_and_names_the_unit_that_is_down(tmp_path: Path) -> None:
    env = fake_systemctl(
        tmp_path,
        "ccy-bsp.service ccy-evse.service",
        {"ccy-bsp.service": "active", "ccy-evse.service": "activating"},
    )
    done = run_health(env)
    assert done.returncode == 1
    assert "ccy-evse.service=activating" in done.stderr
    assert "ccy-bsp.service" not in done.stderr


def test_health_check_fails_without_ccy_units(tmp_path: Path) -> None:
    done = run_health(fake_systemctl(tmp_path, "", {}))
    assert done.returncode == 1
    assert "ccy.target wants no units" in done.stderr


BOOT_DIR = LAYER / "recipes-bsp" / "ccy-boot-script"


@pytest.mark.skipif(shutil.which("mkimage") is None, reason="mkimage (apt package u-boot-tools)")
def test_boot_script_compiles_with_the_recipes_substitutions(tmp_path: Path) -> None:
    """do_compile of ccy-boot-script: every @PLACEHOLDER@ is substituted, mkimage wraps it."""
    template = (BOOT_DIR / "files" / "boot.cmd.in").read_text()
    recipe = next(BOOT_DIR.glob("ccy-boot-script_*.bb")).read_text()
    substitutions = dict(re.findall(r"-e 's,@(\w+)@,\$\{(\w+)\},g'", recipe))
    assert set(re.findall(r"@(\w+)@", template)) == set(substitutions)
    values = {"ROOT_PREFIX": "/dev/mmcblk0p", "DEVTYPE": "mmc", "DEVNUM": "0"}
    values["KERNEL_IMAGETYPE"] = "Image"
    script = template
    for name in substitutions:
        script = script.replace(f"@{name}@", values[name])
    (tmp_path / "boot.cmd").write_text(script)
    cmd = ["mkimage", "-A", "arm64", "-T", "script", "-C", "none", "-n", "ccy A/B boot"]
    cmd += ["-d", str(tmp_path / "boot.cmd"), str(tmp_path / "boot.scr")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    listing = subprocess.run(
        ["mkimage", "-l", str(tmp_path / "boot.scr")], capture_output=True, text=True, timeout=30
    )
    assert "AArch64 Linux Script" in listing.stdout
    assert "root=/dev/mmcblk0p${ccy_part}" in script
