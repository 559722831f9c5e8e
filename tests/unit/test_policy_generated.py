# SPDX-License-Identifier: Apache-2.0
"""The committed bus policies are exactly what the policy table gives (no root needed).

``python -m ccy.runtime.policy --write`` makes them; a hand edit, a missing file or a policy
file without a row fails here, with the command that fixes it.
"""

from pathlib import Path

import pytest

from ccy.runtime.policy import cli
from ccy.runtime.policy.table import POLICIES

POLICY_DIR = Path(__file__).resolve().parents[2] / "dbus" / "policy"


def test_every_committed_policy_file_equals_the_generated_one() -> None:
    assert cli.file_problems(POLICY_DIR, cli.expected_files()) == []


def test_there_is_one_file_per_row_and_a_row_per_file() -> None:
    assert {p.name for p in POLICY_DIR.glob(cli.POLICY_GLOB)} == {p.file_name for p in POLICIES}


def test_check_names_a_hand_edit_a_missing_file_and_a_stray_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--write", "--dir", str(tmp_path)]) == 0
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 0
    (bsp,) = tmp_path.glob("org.ccy.Bsp.conf")
    bsp.write_text(bsp.read_text().replace('<deny receive_sender="org.ccy.Bsp"/>', ""))
    (tmp_path / "org.ccy.Stray.conf").write_text("<busconfig/>\n")
    capsys.readouterr()
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert "org.ccy.Bsp.conf: differs from the policy table" in lines[0]
    assert "python -m ccy.runtime.policy --write" in lines[0]
    assert "org.ccy.Stray.conf: no row" in lines[1]
    bsp.unlink()
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "org.ccy.Bsp.conf: missing" in capsys.readouterr().err


def test_write_repairs_what_check_found(tmp_path: Path) -> None:
    cli.main(["--write", "--dir", str(tmp_path)])
    target = tmp_path / "org.ccy.Bsp.conf"
    target.write_text("edited by hand\n")
    assert cli.main(["--write", "--dir", str(tmp_path)]) == 0
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 0


def test_a_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--check", "--dir", str(tmp_path / "nope")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "no such folder; pass --dir DIR" in line
