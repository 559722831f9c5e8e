# SPDX-License-Identifier: Apache-2.0
"""The version line every unit logs first: ``ccy-bsp 0.1.0 (git 1a2b3c4) starting``.

The version is the installed distribution's: the ``Version:`` field of its metadata
(``ccy-*.dist-info/METADATA`` or ``ccy*.egg-info/PKG-INFO`` in the first ``sys.path`` entry
holding one), read the way importlib.metadata finds it but without importing that package, which
brings email, zipfile and csv (2 MiB in every unit); importlib.metadata itself answers only when
no such folder is found (a zipped install). The git hash comes from
``git rev-parse --short HEAD`` when the package runs from a source checkout, else from
``ccy/_build.txt`` (one line, the short hash) that an image recipe may write at build time;
when neither is there the hash is ``unknown``. Nothing here can stop a unit from starting.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

DISTRIBUTION = "ccy"
BUILD_FILE = Path(__file__).resolve().parents[1] / "_build.txt"
SOURCE_TOP = Path(__file__).resolve().parents[3]
GIT_TIMEOUT_S = 2.0
UNKNOWN = "unknown"


_NORMALIZE = re.compile(r"[-_.]+")
_METADATA_FILES = {".dist-info": "METADATA", ".egg-info": "PKG-INFO"}


def package_version() -> str:
    for entry in sys.path:
        found = _metadata_version(Path(entry or "."))
        if found is not None:
            return found
    from importlib import metadata  # only for installs the folder scan cannot read

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN


def _metadata_version(folder: Path) -> str | None:
    """The ``Version:`` of DISTRIBUTION's metadata folder directly in ``folder``, if any."""
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    for name in names:
        suffix = next((s for s in _METADATA_FILES if name.endswith(s)), None)
        if suffix is None:
            continue
        project = name.removesuffix(suffix).partition("-")[0]
        if _NORMALIZE.sub("_", project).lower() != DISTRIBUTION:
            continue
        try:
            text = (folder / name / _METADATA_FILES[suffix]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if not line:  # the headers end at the first empty line (RFC 822 style)
                break
            if line.startswith("Version:"):
                return line.removeprefix("Version:").strip()
    return None


def git_hash(top: Path = SOURCE_TOP, build_file: Path = BUILD_FILE) -> str:
    """The short commit hash of the running code, or ``unknown``."""
    if (top / ".git").exists():
        try:
            r = subprocess.run(
                ["git", "-C", str(top), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            r = None
        if r is not None and r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    try:
        text = build_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return UNKNOWN
    return text.split()[0] if text else UNKNOWN


def version_line(unit: str) -> str:
    return f"{unit} {package_version()} (git {git_hash()}) starting"
