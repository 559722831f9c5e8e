# SPDX-License-Identifier: Apache-2.0
"""Folders for tests whose processes run as other users.

pytest's ``tmp_path`` lives under a 0700 folder, which would hide a private bus socket from
the users the policy tests run clients as; these folders are world-traversable instead.
"""

import tempfile
from pathlib import Path


def traversable_tmp(prefix: str) -> Path:
    """A new folder under the system temp dir, mode 0755; the caller removes it."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path
