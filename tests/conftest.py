# SPDX-License-Identifier: Apache-2.0
"""Test-wide settings: the test data folder, and tests that need root."""

import os
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[1]
DATA = TOP / "tests" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(
        reason="needs root: creates users, runs clients as other users or makes namespaces"
    )
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
