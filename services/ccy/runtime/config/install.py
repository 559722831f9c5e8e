# SPDX-License-Identifier: Apache-2.0
"""Installing a validated config file as /etc/ccy/config.yaml, atomically.

``install_config`` checks exactly the bytes it will install, writes them as a new profile
(temp file, fsync, rename, fsync of the folder), points ``config.yaml.previous`` at what
config.yaml was, and only then swaps config.yaml itself by renaming a fresh symlink over it
(rename(2) is atomic). A crash at any step leaves config.yaml naming either the old or the
new profile, never a half-written file; stray temp files are removed on error.
"""

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ccy.runtime.config.loader import validate_bytes
from ccy.runtime.config.manifest import Manifest
from ccy.runtime.config.problems import ConfigError, ConfigProblem
from ccy.runtime.config.source import read_bytes

PREVIOUS_SUFFIX = ".previous"
# The profiles this module writes: <stem>.<UTC stamp>[-n].yaml
APPLIED_PROFILE = re.compile(r"(?P<stem>.+)\.[0-9]{8}T[0-9]{6}Z(?:-[0-9]+)?\.yaml")


@dataclass(frozen=True)
class Installed:
    """What ``install_config`` did."""

    profile: Path
    config: Path
    previous: Path | None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(folder: Path, name: str) -> Path:
    return folder / f".{name}.tmp-{os.getpid()}"


def _write_file(path: Path, data: bytes) -> None:
    temp = _temp_name(path.parent, path.name)
    try:
        with temp.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _link(path: Path, target: str) -> None:
    """Make ``path`` a symlink to ``target``, replacing whatever is there in one rename."""
    temp = _temp_name(path.parent, path.name)
    try:
        temp.unlink(missing_ok=True)
        os.symlink(target, temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _keep_previous(config: Path) -> Path | None:
    """Point config.yaml.previous at what config.yaml is now (a symlink target or a file)."""
    previous = config.with_name(config.name + PREVIOUS_SUFFIX)
    if config.is_symlink():
        _link(previous, os.readlink(config))
    elif config.is_file():
        temp = _temp_name(config.parent, previous.name)
        try:
            temp.unlink(missing_ok=True)
            os.link(config, temp)  # the old file stays reachable after config.yaml is replaced
            os.replace(temp, previous)
        finally:
            temp.unlink(missing_ok=True)
    else:
        return None
    return previous


def _profile_path(etc: Path, source: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    applied = APPLIED_PROFILE.fullmatch(source.name)
    stem = applied.group("stem") if applied else source.stem
    stem = stem if stem and not stem.startswith(".") else "config"
    candidate = etc / f"{stem}.{stamp}.yaml"
    counter = 1
    while candidate.exists() or candidate.is_symlink():
        counter += 1
        candidate = etc / f"{stem}.{stamp}-{counter}.yaml"
    return candidate


def install_config(
    source: str | Path, config: Path, manifests: Mapping[str, Manifest] | None = None
) -> Installed:
    """Validate ``source`` and make ``config`` (…/etc/ccy/config.yaml) a symlink to a copy of it.

    Raises ConfigError with every problem when the file is invalid (nothing is changed), and
    OSError when the folder cannot be written (config.yaml still names the old profile).
    """
    data = read_bytes(source)
    if isinstance(data, ConfigProblem):
        raise ConfigError([data])
    problems = validate_bytes(data, str(source), manifests)
    if problems:
        raise ConfigError(problems)
    etc = config.parent
    etc.mkdir(parents=True, exist_ok=True)
    profile = _profile_path(etc, Path(source))
    _write_file(profile, data)
    _fsync_dir(etc)
    previous = _keep_previous(config)
    _link(config, profile.name)
    _fsync_dir(etc)
    _drop_unused_profiles(etc, config, previous)
    return Installed(profile, config, previous)


def _drop_unused_profiles(etc: Path, config: Path, previous: Path | None) -> None:
    """Remove profiles written by earlier applies that neither config.yaml nor .previous name."""
    kept = {os.readlink(link) for link in (config, previous) if link and link.is_symlink()}
    for path in etc.iterdir():
        if APPLIED_PROFILE.fullmatch(path.name) and path.name not in kept and path.is_file():
            path.unlink(missing_ok=True)
