# SPDX-License-Identifier: Apache-2.0
"""Where ccy keeps its files, relocatable under one root folder.

On the device every path is absolute (/etc/ccy, /var/lib/ccy, /var/log/ccy, /run/ccy).
With a root (``--root DIR`` on every command, or ``CCY_ROOT``) the same layout lives under
DIR, so the whole stack runs unprivileged in a folder: the simulator and the tests use this.
Absolute paths taken from config files (serial port, LED and reset-line paths) are resolved
under the root as well, the way a chroot would see them.

Read-only data (D-Bus XML and policies, config manifests and profiles) lives in the share
directory: ``CCY_SHARE_DIR`` if set, else the source checkout this package was imported from
(an editable install), else /usr/share/ccy where the image installs it. Nothing falls back
to the current working directory.
"""

import os
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "CCY_ROOT"
SHARE_ENV = "CCY_SHARE_DIR"
SYSTEM_SHARE_DIR = Path("/usr/share/ccy")
_SOURCE_TOP = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Paths:
    """The folders of one ccy installation; ``root`` is "/" on the device."""

    root: Path

    @classmethod
    def from_root(cls, root: str | os.PathLike[str] | None = None) -> "Paths":
        """Paths under ``root``, else under $CCY_ROOT, else the real ones."""
        chosen = root if root is not None else os.environ.get(ROOT_ENV) or "/"
        return cls(Path(chosen).resolve())

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """An absolute path as seen from inside the root; relative paths are kept as they are.

        A path that starts with exactly two slashes keeps them in pathlib ("//" is a root of
        its own in POSIX, though Linux reads it as "/"), so the anchor is taken off, not "/".
        """
        p = Path(path)
        if not p.is_absolute() or self.root == Path("/"):
            return p
        return self.root / p.relative_to(p.anchor)

    @property
    def etc(self) -> Path:
        return self.resolve("/etc/ccy")

    @property
    def config_file(self) -> Path:
        return self.etc / "config.yaml"

    @property
    def lib(self) -> Path:
        return self.resolve("/var/lib/ccy")

    @property
    def log(self) -> Path:
        return self.resolve("/var/log/ccy")

    @property
    def run(self) -> Path:
        return self.resolve("/run/ccy")

    @property
    def redaction_dir(self) -> Path:
        """Folder of the redaction key (2770 root:ccy-unit on the device, made by tmpfiles)."""
        return self.lib / "redaction"

    def state_dir(self, unit: str) -> Path:
        """A unit's own state folder, ``/var/lib/ccy/<name>`` for ``ccy-<name>`` (0700, the
        unit's user: tmpfiles.d/ccy.conf and the unit's ``StateDirectory=ccy/<name>``)."""
        return self.lib / unit.removeprefix("ccy-")


def share_dir() -> Path:
    """The read-only data folder holding dbus/ and config/ (see the module docstring)."""
    env = os.environ.get(SHARE_ENV)
    if env:
        return Path(env)
    if (_SOURCE_TOP / "dbus").is_dir() and (_SOURCE_TOP / "config" / "manifests").is_dir():
        return _SOURCE_TOP
    return SYSTEM_SHARE_DIR


def manifests_dir() -> Path:
    return share_dir() / "config" / "manifests"


def profiles_dir() -> Path:
    return share_dir() / "config" / "profiles"


def dbus_dir() -> Path:
    return share_dir() / "dbus"
