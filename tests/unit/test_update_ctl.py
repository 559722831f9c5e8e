# SPDX-License-Identifier: Apache-2.0
"""``ccyctl update`` without a bus: the progress printer and checks made before connecting."""

import io
from pathlib import Path

import pytest

from ccy.ctl.cmd_update import ProgressPrinter
from ccy.ctl.main import main as ccyctl
from ccy.update.model import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for step in (Progress(0, "Installing", 1), Progress(0, "Installing", 1), Progress(20, "", 1)):
        printer(step)
    printer.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # the repeated step is shown once
    assert lines[0].endswith("0% Installing")
    assert lines[1].endswith(" 20%")


def test_bar_redrawn_in_place_on_a_terminal() -> None:
    out = Tty()
    printer = ProgressPrinter(out)
    printer(Progress(10, "Checking bundle", 1))
    printer(Progress(100, "Installing done.", 1))
    printer.finish()
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 2
    assert text.endswith("100% Installing done.\n")


def test_missing_bundle_is_refused_before_any_bus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/none")
    assert ccyctl(["update", "install", str(tmp_path / "x.raucb")]) == 66
    assert capsys.readouterr().err == (
        f"ccyctl: update: {tmp_path}/x.raucb: no such bundle file "
        "(check the path of the .raucb file)\n"
    )


def test_no_bus_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/none")
    assert ccyctl(["update", "status"]) == 69
    err = capsys.readouterr().err
    assert err.startswith(f"ccyctl: no system bus at unix:path={tmp_path}/none: ")
    assert err.count("\n") == 1 and "DBUS_SYSTEM_BUS_ADDRESS" in err
