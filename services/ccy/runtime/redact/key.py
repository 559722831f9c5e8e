# SPDX-License-Identifier: Apache-2.0
"""The redaction key: 32 random bytes made once per device, kept on the data partition.

On the device the key lives in ``/var/lib/ccy/redaction/key`` (:attr:`Paths.redaction_dir`;
relocated by ``--root`` like every path). tmpfiles makes the folder 2770 root:ccy-unit, so
whichever unit starts first creates the key (group ccy-unit through the setgid bit) and every
other unit reads the same one. The data partition survives updates, so hashes stay comparable
across restarts and updates (issue 10, "Redaction as one function").

Creation is atomic even when several units start at once: each writes a temporary file in the
folder, fsyncs it and ``os.link``\\ s it to the final name; ``link`` never replaces, so the
first wins and the others (EEXIST) read the winner's key. A reader therefore never sees a
partial key. A key of the wrong size or an unreadable one is a :class:`RedactionKeyError`,
never silently replaced: a new key would make every stored hash meaningless. The key's bytes
are never logged and never part of an error message.
"""

import contextlib
import os
from pathlib import Path

from ccy.runtime.paths import Paths

KEY_BYTES = 32
"""HMAC-SHA256 key length (RFC 2104: at least the hash output, 32 bytes)."""

KEY_FILE_NAME = "key"
KEY_MODE = 0o440
"""Read-only for the creating unit and for group ccy-unit (the setgid folder gives the group)."""

FOLDER_MODE = 0o770
"""Used only when the folder does not exist yet (--root trees, tests); tmpfiles makes 2770."""


class RedactionKeyError(RuntimeError):
    """The redaction key cannot be read or created (message names the file, cause and fix)."""


def key_file(paths: Paths) -> Path:
    """Where the redaction key of this installation lives."""
    return paths.redaction_dir / KEY_FILE_NAME


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; made atomically first if it does not exist yet."""
    try:
        return _read(path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # absent (a file in place of a folder fails in _create with its reason)
    _create(path)
    try:
        return _read(path)
    except FileNotFoundError as exc:
        raise RedactionKeyError(f"{path}: vanished right after it was created") from exc


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(KEY_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise
    except PermissionError as exc:
        raise RedactionKeyError(
            f"{path}: cannot read the redaction key (permission denied); the unit's user "
            "must be in group ccy-unit (sysusers) and the folder 2770 root:ccy-unit (tmpfiles)"
        ) from exc
    except OSError as exc:
        raise RedactionKeyError(
            f"{path}: cannot read the redaction key ({exc.strerror or exc})"
        ) from exc
    if len(data) != KEY_BYTES:
        size = "more than 32" if len(data) > KEY_BYTES else str(len(data))
        raise RedactionKeyError(
            f"{path}: damaged redaction key ({size} bytes, expected {KEY_BYTES}); restore it "
            "from a backup, or delete it to start a new key (earlier hashes will no longer match)"
        )
    return data


def _create(path: Path) -> None:
    folder = path.parent
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        # mkstemp's way without the tempfile module (shutil, random, bz2 and lzma: 0.5 MiB in
        # every unit): a random name, O_EXCL, readable by no one until the key is complete.
        temp = str(folder / f".{KEY_FILE_NAME}.{os.urandom(6).hex()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise RedactionKeyError(
            f"{folder}: cannot create the redaction key ({exc.strerror or exc}); the folder "
            "must be writable by group ccy-unit (tmpfiles: 2770 root:ccy-unit)"
        ) from exc
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(KEY_BYTES))
                handle.flush()
                os.fchmod(handle.fileno(), KEY_MODE)
                os.fsync(handle.fileno())
            os.link(temp, path)
        except FileExistsError:
            return  # another unit won the race; its key is the key
        except OSError as exc:
            raise RedactionKeyError(
                f"{path}: cannot create the redaction key ({exc.strerror or exc})"
            ) from exc
        _fsync_folder(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _fsync_folder(folder: Path) -> None:
    """Make the new name durable (the key must survive a power cut right after start)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
