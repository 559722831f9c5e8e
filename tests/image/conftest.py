# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the image tests: one staged root per test session (see staging.py)."""

from pathlib import Path

import pytest
from staging import stage_install


@pytest.fixture(scope="session")
def staged_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root folder with ccy installed as the image installs it (read-only for tests)."""
    root = tmp_path_factory.mktemp("staged") / "root"
    stage_install(root)
    return root
