# SPDX-License-Identifier: Apache-2.0
"""Install ccy into a root folder the way the image recipes do (meta-ccy).

``stage_install(root)`` mirrors ``do_install`` of meta-ccy/recipes-ccy/ccy/ccy_<version>.bb
(the Python distribution built as a wheel and installed with the interpreter line
``/usr/bin/env python3`` as OE-core's python_pep517 class does, units, D-Bus policies,
introspection XML, config manifests and profiles, sysusers.d, tmpfiles.d, the
/etc/ccy/config.yaml symlink to the board profile) and of
meta-ccy/recipes-ccy/ccy-system/ccy-system_1.0.bb (health check before boot-complete.target,
the data partition's bind mounts, the U-Boot environment location, the firewall, the
systemd-timesyncd drop-in and preset, systemd-networkd's files for the three ports).
The image tests verify the units inside this tree and the RAUC tests build their ext4 rootfs
from it. ``INSTALL_TABLE`` is the shared story: the recipe test compares it with the recipes.

The Python part is really built and installed by pip (``--root``/``--prefix /usr``), so the
site-packages folder carries the running interpreter's version (usr/lib/python3.11 here,
python3.14 on the wrynose image). The wheel holds the simulators and the test tooling too;
the recipe splits them into ``ccy-sim`` (``SIM_PACKAGE_FILES``), which the image does not
install, so staging removes them unless asked for that package as well.
"""

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
LAYER = TOP / "meta-ccy"
SYSTEM_FILES = LAYER / "recipes-ccy" / "ccy-system" / "files"

BOARD_PROFILE = "ccy.yaml"
"""The profile /etc/ccy/config.yaml points to on a fresh image (config/profiles/ccy.yaml)."""

SCRIPT_INTERPRETER = "#!/usr/bin/env python3"
"""What python_pep517 (pypa/installer --interpreter "${USRBINPATH}/env python3") writes."""


class StagingError(RuntimeError):
    """Staging could not install ccy (the pip build failed or a source folder is missing)."""


@dataclass(frozen=True)
class Install:
    """One ``install`` step: files matching ``pattern`` under ``source`` go to ``dest``."""

    source: Path
    pattern: str
    dest: str
    mode: int


INSTALL_TABLE: tuple[Install, ...] = (
    # ccy_<version>.bb
    Install(TOP / "services" / "systemd", "*.service", "usr/lib/systemd/system", 0o644),
    Install(TOP / "services" / "systemd", "*.target", "usr/lib/systemd/system", 0o644),
    Install(TOP / "services" / "systemd" / "sysusers.d", "*.conf", "usr/lib/sysusers.d", 0o644),
    Install(TOP / "services" / "systemd" / "tmpfiles.d", "*.conf", "usr/lib/tmpfiles.d", 0o644),
    Install(TOP / "dbus" / "policy", "*.conf", "usr/share/dbus-1/system.d", 0o644),
    Install(TOP / "dbus", "*.xml", "usr/share/ccy/dbus", 0o644),
    Install(TOP / "config" / "manifests", "*.yaml", "usr/share/ccy/config/manifests", 0o644),
    Install(TOP / "config" / "profiles", "*.yaml", "usr/share/ccy/config/profiles", 0o644),
    Install(TOP, "README.md", "usr/share/doc/ccy", 0o644),
    # ccy-system_1.0.bb
    Install(SYSTEM_FILES, "*.service", "usr/lib/systemd/system", 0o644),
    Install(SYSTEM_FILES, "*.nft", "usr/lib/ccy", 0o644),
    Install(LAYER / "files" / "gsdml", "GSDML-*.xml", "usr/share/ccy/gsdml", 0o644),
    Install(SYSTEM_FILES, "*.mount", "usr/lib/systemd/system", 0o644),
    Install(SYSTEM_FILES, "ccy-health-check", "usr/libexec/ccy", 0o755),
    Install(SYSTEM_FILES, "fw_env.config", "etc", 0o644),
    Install(SYSTEM_FILES, "*.rules", "usr/lib/udev/rules.d", 0o644),
    Install(SYSTEM_FILES, "*-timesyncd.conf", "usr/lib/systemd/timesyncd.conf.d", 0o644),
    Install(SYSTEM_FILES, "*.preset", "usr/lib/systemd/system-preset", 0o644),
    Install(SYSTEM_FILES, "50-ccy-*.network", "usr/lib/systemd/network", 0o644),
)

SIM_PACKAGE_FILES: tuple[str, ...] = (
    "usr/lib/python3*/site-packages/ccy/sim",
    "usr/lib/python3*/site-packages/ccy/testing",
    "usr/bin/ccy-sim",
)
"""FILES:${PN}-sim of ccy_<version>.bb (globs under the root): not part of the image."""

DATA_DIRS: tuple[str, ...] = ("data/ccy/lib", "data/ccy/log", "data/rauc")
"""ccy-system_1.0.bb: bind-mount sources and RAUC's data-directory on the data partition."""


def _copy_source(dest: Path) -> None:
    """The files a wheel build reads, outside the checkout (pip builds in-tree)."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(TOP / name, dest / name)
    shutil.copytree(
        TOP / "services" / "ccy",
        dest / "services" / "ccy",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def _install_python(root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="ccy-stage-src-") as tmp:
        src = Path(tmp) / "ccy"
        _copy_source(src)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--ignore-installed",
            "--no-warn-script-location",
            "--disable-pip-version-check",
            "--root",
            str(root),
            "--prefix",
            "/usr",
            str(src),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StagingError(f"pip install of ccy failed ({done.returncode}):\n{done.stderr}")
    for script in (root / "usr" / "bin").iterdir():
        lines = script.read_text().splitlines(keepends=True)
        if lines and lines[0].startswith("#!"):
            lines[0] = SCRIPT_INTERPRETER + "\n"
            script.write_text("".join(lines))


def _install_files(root: Path) -> None:
    for step in INSTALL_TABLE:
        if not step.source.is_dir():
            raise StagingError(f"{step.source}: source folder missing")
        target = root / step.dest
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(step.source.glob(step.pattern)):
            shutil.copyfile(path, target / path.name)
            (target / path.name).chmod(step.mode)


def _make_data_dirs(root: Path) -> None:
    for folder in DATA_DIRS:
        (root / folder).mkdir(parents=True, exist_ok=True)


def _link_config(root: Path) -> None:
    etc = root / "etc" / "ccy"
    etc.mkdir(parents=True, exist_ok=True)
    link = etc / "config.yaml"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(f"/usr/share/ccy/config/profiles/{BOARD_PROFILE}")


def _remove_sim_package(root: Path) -> None:
    for pattern in SIM_PACKAGE_FILES:
        for path in root.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def stage_install(root: Path, *, with_sim: bool = False) -> None:
    """Install ccy and its system files under ``root`` as the image's packages would
    (``with_sim``: the ``ccy-sim`` package as well, as a development image would)."""
    root.mkdir(parents=True, exist_ok=True)
    _install_python(root)
    if not with_sim:
        _remove_sim_package(root)
    _install_files(root)
    _make_data_dirs(root)
    _link_config(root)


PRESET_DIR = "usr/lib/systemd/system-preset"
CCY_PRESET = f"{PRESET_DIR}/80-ccy.preset"
OE_DEFAULT_PRESET = "disable *\n"
"""OE-core's 99-default.preset: every unit no preset names is disabled."""


def preset_root(root: Path, staged_root: Path, units: dict[str, str], *, with_ccy: bool) -> Path:
    """A root for ``systemctl --root`` holding ``units`` (file name → text), OE-core's
    default preset and, ``with_ccy``, ccy's preset as staged."""
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    (root / PRESET_DIR).mkdir(parents=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name, text in units.items():
        (root / "usr/lib/systemd/system" / name).write_text(text)
    (root / PRESET_DIR / "99-default.preset").write_text(OE_DEFAULT_PRESET)
    if with_ccy:
        shutil.copyfile(staged_root / CCY_PRESET, root / CCY_PRESET)
    return root


def preset_all(root: Path) -> None:
    """What OE-core's rootfs-postcommands class runs on the image."""
    done = subprocess.run(
        ["systemctl", f"--root={root}", "--preset-mode=enable-only", "preset-all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
