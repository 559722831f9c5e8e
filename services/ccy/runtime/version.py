# SPDX-License-Identifier: Apache-2.0
"""The version line every unit logs first: ``ccy-bsp 0.1.0 (git 1a2b3c4) starting``.

The version is the installed distribution's (importlib.metadata). The git hash comes from
``git rev-parse --short HEAD`` when the package runs from a source checkout, else from
``ccy/_build.txt`` (one line, the short hash) that an image recipe may write at build time;
when neither is there the hash is ``unknown``. Nothing here can stop a unit from starting.
"""

import subprocess
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "ccy"
BUILD_FILE = Path(__file__).resolve().parents[1] / "_build.txt"
SOURCE_TOP = Path(__file__).resolve().parents[3]
GIT_TIMEOUT_S = 2.0
UNKNOWN = "unknown"


def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN


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
