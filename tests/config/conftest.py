# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: the installed manifests and a small test manifest with every key type."""

from collections.abc import Callable
from pathlib import Path

import pytest

from ccy.runtime.config import Manifest, load_manifests
from ccy.runtime.config.manifest import manifest_from_text

# One key of each type, a unit, bounds and a rule: the tests' own section "demo".
DEMO_MANIFEST = """\
description: a section with one key of every type
keys:
  speed_Bd:
    type: int
    default: 115200
    min: 9600
    max: 1000000
    unit: Bd
    description: an int with a unit
  low_degC:
    type: float
    default: 10.0
    min: -40
    max: 200
    unit: degC
    description: a float with a unit
  high_degC:
    type: float
    default: 20.0
    min: -40
    max: 200
    unit: degC
    description: must stay above low_degC
  enabled:
    type: bool
    default: false
    description: a bool
  label:
    type: str
    default: abc
    pattern: "[a-z]+"
    min_length: 2
    max_length: 8
    description: a str with a pattern
  device:
    type: path
    default: /dev/null
    description: an absolute path
  led:
    type: path
    allow_empty: true
    default: ""
    description: a path or nothing
  mode:
    type: enum
    choices: [fast, slow, "off"]
    default: fast
    description: an enum
  names:
    type: list
    item:
      type: str
      pattern: "[a-z]+"
    min_items: 2
    max_items: 3
    default: [ab, cd]
    description: a list of two or three names
rules:
  - key: high_degC
    greater_than: low_degC
"""


@pytest.fixture(scope="session")
def installed() -> dict[str, Manifest]:
    return load_manifests()


@pytest.fixture(scope="session")
def demo() -> dict[str, Manifest]:
    return {"demo": manifest_from_text(DEMO_MANIFEST, "demo", "demo.yaml")}


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str | bytes, str], Path]:
    def _write(content: str | bytes, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return _write
