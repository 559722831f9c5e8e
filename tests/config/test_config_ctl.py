# SPDX-License-Identifier: Apache-2.0
"""``ccyctl config check|apply|show|keys`` through the real ccyctl entry point."""

import os
import re
from pathlib import Path

import pytest

from ccy.ctl.failure import ExitCode
from ccy.ctl.main import main
from ccy.runtime.config import Manifest


def _root_with_config(tmp_path: Path, text: str) -> Path:
    etc = tmp_path / "etc" / "ccy"
    etc.mkdir(parents=True)
    (etc / "profile.yaml").write_text(text)
    (etc / "config.yaml").symlink_to("profile.yaml")
    return tmp_path


def test_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _root_with_config(tmp_path, "bsp:\n  serial_baud_Bd: 57600\n")
    assert main(["--root", str(root), "config", "check"]) == 0
    out = capsys.readouterr()
    assert out.out == f"{root}/etc/ccy/config.yaml: OK (1 section)\n"
    assert out.err == ""


def test_check_prints_every_problem_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("bsp:\n  serial_baud_Bd: 20\n  led_status: /x\nbps: {}\n")
    assert main(["config", "check", str(bad)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.splitlines() == [
        f"{bad}:2: bsp.serial_baud_Bd: 20 is below the minimum 9600 Bd",
        f"{bad}:3: bsp.led_status: unknown key (did you mean 'led_status_path'?)",
        f"{bad}:4: bps: unknown section (did you mean 'bsp'?)",
    ]


def test_check_without_an_installed_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(tmp_path), "config", "check"]) == 0
    assert "no configuration file: the units use every key's default" in capsys.readouterr().out


def test_check_of_a_missing_named_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "nope.yaml")]) == 1
    assert capsys.readouterr().err == f"{tmp_path}/nope.yaml: no such file\n"


def test_apply_then_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _root_with_config(tmp_path, "bsp: {}\n")
    new = tmp_path / "mine.yaml"
    new.write_text("bsp:\n  firmware_inquiry_timeout_ms: 2000\n")
    assert main(["--root", str(root), "config", "apply", "--no-restart", str(new)]) == 0
    config = root / "etc" / "ccy" / "config.yaml"
    assert os.readlink(config).startswith("mine.")
    assert os.readlink(config.with_name("config.yaml.previous")) == "profile.yaml"
    applied = capsys.readouterr().out.splitlines()
    assert "changed sections: bsp" in applied
    assert applied[-1].startswith("not restarted (--no-restart): ccy-bsp still runs the old")
    assert main(["--root", str(root), "config", "show", "bsp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "bsp:"
    timeout = next(line for line in lines if "firmware_inquiry_timeout_ms" in line)
    assert timeout.split() == ["firmware_inquiry_timeout_ms", "=", "2000", "#", f"{config}:2"]
    port = next(line for line in lines if "serial_port" in line)
    assert port.split() == ["serial_port", "=", '"/dev/ttyLP2"', "#", "default"]


def test_apply_refuses_an_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _root_with_config(tmp_path, "bsp: {}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("bsp:\n  reset_line_driver: gpio\n")
    assert main(["--root", str(root), "config", "apply", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{bad}: not applied, {root}/etc/ccy/config.yaml is unchanged",
        f"{bad}:2: bsp.reset_line_driver: 'gpio' is not one of gpiochip, file, none "
        "(did you mean 'gpiochip'?)",
    ]
    assert os.readlink(root / "etc" / "ccy" / "config.yaml") == "profile.yaml"


def test_show_defaults_and_unknown_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(tmp_path), "config", "show"]) == 0
    assert "serial_baud_Bd" in capsys.readouterr().out
    assert main(["--root", str(tmp_path), "config", "show", "bps"]) == ExitCode.USAGE
    assert "no manifest declares section 'bps'" in capsys.readouterr().err


def test_keys_lists_every_declared_key(
    capsys: pytest.CaptureFixture[str], installed: dict[str, Manifest]
) -> None:
    assert main(["config", "keys", "bsp"]) == 0
    text = capsys.readouterr().out
    for name in installed["bsp"].keys:
        assert f"  {name}  (" in text
    assert "  serial_baud_Bd  (int, default 115200, bounds 9600..1000000, unit Bd)" in text
    assert "rule: temperature_derating_end_degC > temperature_derating_start_degC" in text


def test_keys_markdown(capsys: pytest.CaptureFixture[str], installed: dict[str, Manifest]) -> None:
    assert main(["config", "keys", "--markdown"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| `")]
    assert len(rows) == sum(len(m.keys) for m in installed.values())
    (baud,) = [row for row in rows if row.startswith("| `serial_baud_Bd` |")]
    assert baud.startswith("| `serial_baud_Bd` | int | 115200 | 9600..1000000 | Bd | ")
    # A "|" inside a cell (a pattern's alternatives) is escaped, so every row keeps 6 cells.
    assert all(len(re.split(r"(?<!\\)\|", row)) == 8 for row in rows)


def test_keys_unknown_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "keys", "nope"]) == ExitCode.USAGE
    assert "no section 'nope'" in capsys.readouterr().err
