# SPDX-License-Identifier: Apache-2.0
from pathlib import Path

import pytest

from ccy.runtime.paths import Paths, share_dir

TOP = Path(__file__).resolve().parents[2]


def test_device_paths_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCY_ROOT", raising=False)
    p = Paths.from_root()
    assert (p.etc, p.lib, p.log, p.run) == tuple(
        Path(x) for x in ("/etc/ccy", "/var/lib/ccy", "/var/log/ccy", "/run/ccy")
    )
    assert p.resolve("/dev/ttyLP2") == Path("/dev/ttyLP2")


def test_one_root_relocates_everything(tmp_path: Path) -> None:
    p = Paths.from_root(tmp_path)
    assert p.config_file == tmp_path / "etc/ccy/config.yaml"
    assert p.run == tmp_path / "run/ccy"
    assert p.resolve("/sys/class/leds/x") == tmp_path / "sys/class/leds/x"
    assert p.resolve("relative/file") == Path("relative/file")


def test_a_path_with_two_leading_slashes_lands_under_the_root(tmp_path: Path) -> None:
    # found by tests/fuzz/fuzz_config.py: a config value "//dev/x" raised ValueError in bind
    p = Paths.from_root(tmp_path)
    assert p.resolve("//dev/ttyLP2") == tmp_path / "dev/ttyLP2"
    assert p.resolve("///dev/ttyLP2") == tmp_path / "dev/ttyLP2"


def test_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCY_ROOT", str(tmp_path))
    assert Paths.from_root().lib == tmp_path / "var/lib/ccy"


def test_share_dir_is_the_checkout_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CCY_SHARE_DIR", raising=False)
    assert share_dir() == TOP
    monkeypatch.setenv("CCY_SHARE_DIR", str(tmp_path))
    assert share_dir() == tmp_path


def test_state_and_redaction_folders_follow_the_tmpfiles_layout(tmp_path: Path) -> None:
    p = Paths.from_root(tmp_path)
    assert p.state_dir("ccy-evse") == tmp_path / "var/lib/ccy/evse"
    assert p.redaction_dir == tmp_path / "var/lib/ccy/redaction"
    tmpfiles = (TOP / "services/systemd/tmpfiles.d/ccy.conf").read_text()
    for unit in ("ccy-bsp", "ccy-evse", "ccy-v2g", "ccy-profinet", "ccy-auth"):
        folder = "/" + str(Paths.from_root("/").state_dir(unit).relative_to("/"))
        assert f" {folder} " in tmpfiles, folder
