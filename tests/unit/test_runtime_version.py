# SPDX-License-Identifier: Apache-2.0
"""The version line every unit logs first."""

import re
from pathlib import Path

from ccy.runtime import version


def test_the_line_names_unit_version_and_hash() -> None:
    line = version.version_line("ccy-bsp")
    assert re.fullmatch(r"ccy-bsp \S+ \(git (?:[0-9a-f]{4,}|unknown)\) starting", line), line
    assert version.package_version() != version.UNKNOWN  # installed (editable) in the venv


def test_outside_a_checkout_the_build_file_gives_the_hash(tmp_path: Path) -> None:
    build = tmp_path / "_build.txt"
    build.write_text("1a2b3c4\n")
    assert version.git_hash(top=tmp_path, build_file=build) == "1a2b3c4"


def test_neither_checkout_nor_build_file_is_unknown(tmp_path: Path) -> None:
    assert version.git_hash(top=tmp_path, build_file=tmp_path / "absent") == "unknown"


def test_a_checkout_gives_git_s_short_hash() -> None:
    top = Path(__file__).resolve().parents[2]
    if (top / ".git").exists():  # a source checkout (CI, make test)
        assert re.fullmatch(r"[0-9a-f]{4,}", version.git_hash(top=top))
    else:  # an unpacked tarball: no .git, falls back to the build file
        assert version.git_hash(top=top, build_file=top / "absent") == "unknown"
