# SPDX-License-Identifier: Apache-2.0
"""install_config (``ccyctl config apply``): refuses invalid files, swaps valid ones atomically."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccy.runtime.config import ConfigError, Manifest, install_config, load_config
from ccy.runtime.config import install as install_module

OLD = "# old\nbsp:\n  serial_baud_Bd: 9600\n"
NEW = "# new\nbsp:\n  serial_baud_Bd: 57600\n"


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    folder = tmp_path / "etc" / "ccy"
    folder.mkdir(parents=True)
    (folder / "old.yaml").write_text(OLD)
    (folder / "config.yaml").symlink_to("old.yaml")
    return folder


def _new_file(tmp_path: Path, text: str = NEW) -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_text(text)
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_apply_swaps_the_symlink_and_keeps_the_previous(
    etc: Path, tmp_path: Path, installed: dict[str, Manifest]
) -> None:
    done = install_config(_new_file(tmp_path), etc / "config.yaml", installed)
    config = etc / "config.yaml"
    assert config.is_symlink() and os.readlink(config) == done.profile.name
    assert done.profile.parent == etc and done.profile.name.startswith("candidate.")
    assert config.read_text() == NEW
    assert done.previous == etc / "config.yaml.previous"
    assert os.readlink(done.previous) == "old.yaml"
    assert load_config(config, installed).section("bsp")["serial_baud_Bd"] == 57600
    assert _leftovers(etc) == []


def test_apply_refuses_an_invalid_file_and_changes_nothing(
    etc: Path, tmp_path: Path, installed: dict[str, Manifest]
) -> None:
    before = sorted(p.name for p in etc.iterdir())
    bad = _new_file(tmp_path, "bsp:\n  serial_baud_Bd: 20\n")
    with pytest.raises(ConfigError) as caught:
        install_config(bad, etc / "config.yaml", installed)
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}:2: bsp.serial_baud_Bd: 20 is below the minimum 9600 Bd"
    ]
    assert sorted(p.name for p in etc.iterdir()) == before
    assert os.readlink(etc / "config.yaml") == "old.yaml"


def test_apply_of_a_missing_file(etc: Path, tmp_path: Path, installed: dict[str, Manifest]) -> None:
    with pytest.raises(ConfigError, match=f"^{tmp_path}/absent.yaml: no such file$"):
        install_config(tmp_path / "absent.yaml", etc / "config.yaml", installed)
    assert os.readlink(etc / "config.yaml") == "old.yaml"


def test_apply_over_a_regular_file_keeps_it_as_previous(
    tmp_path: Path, installed: dict[str, Manifest]
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "config.yaml").write_text(OLD)
    done = install_config(_new_file(tmp_path), etc / "config.yaml", installed)
    assert done.previous is not None and done.previous.read_text() == OLD
    assert (etc / "config.yaml").read_text() == NEW


def test_apply_into_an_empty_root(tmp_path: Path, installed: dict[str, Manifest]) -> None:
    config = tmp_path / "etc" / "ccy" / "config.yaml"
    done = install_config(_new_file(tmp_path), config, installed)
    assert done.previous is None and config.read_text() == NEW


def test_repeated_applies_keep_only_current_and_previous(
    etc: Path, tmp_path: Path, installed: dict[str, Manifest]
) -> None:
    for baud in (19200, 38400, 57600, 115200):
        install_config(
            _new_file(tmp_path, f"bsp:\n  serial_baud_Bd: {baud}\n"), etc / "config.yaml", installed
        )
    applied = sorted(p.name for p in etc.iterdir() if p.name.startswith("candidate."))
    assert len(applied) == 2
    assert (etc / "config.yaml").read_text().endswith("115200\n")
    assert (etc / "config.yaml.previous").read_text().endswith("57600\n")
    assert (etc / "old.yaml").exists()  # not written by apply: never removed


class Crash(OSError):
    """The simulated power cut."""


def _crash_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> list[str]:
    """Make the ``calls``-th file-system step of install_config fail; returns the steps seen."""
    seen: list[str] = []
    for name in ("replace", "symlink", "fsync", "link", "chmod"):
        real = getattr(os, name)

        def step(*args: Any, _real: Callable[..., Any] = real, _name: str = name) -> Any:
            seen.append(_name)
            if len(seen) == calls:
                raise Crash(f"crash during {_name}")
            return _real(*args)

        monkeypatch.setattr(install_module.os, name, step)
    return seen


def test_a_crash_at_any_step_leaves_the_old_or_the_new_config(
    etc: Path, tmp_path: Path, installed: dict[str, Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as probe:
        steps = _crash_after(probe, 0)
        install_config(_new_file(tmp_path), etc / "config.yaml", installed)
    total = len(steps)
    assert total >= 6 and "replace" in steps and "fsync" in steps
    outcomes: list[str] = []
    for crash_at in range(1, total + 1):
        for path in list(etc.iterdir()):
            path.unlink()
        (etc / "old.yaml").write_text(OLD)
        (etc / "config.yaml").symlink_to("old.yaml")
        with monkeypatch.context() as patched:
            _crash_after(patched, crash_at)
            with pytest.raises(Crash):
                install_config(_new_file(tmp_path), etc / "config.yaml", installed)
        text = (etc / "config.yaml").read_text()
        assert text in (OLD, NEW), f"crash at step {crash_at}"
        outcomes.append("new" if text == NEW else "old")
        load_config(etc / "config.yaml", installed)
        assert _leftovers(etc) == [], f"crash at step {crash_at}"
    # One rename is the commit point: before it every crash leaves the old config, after it
    # (the last directory fsync, old-profile clean-up) the new one.
    switch = outcomes.index("new")
    assert outcomes == ["old"] * switch + ["new"] * (total - switch)
    assert 0 < switch < total


def test_a_crash_at_the_swap_keeps_the_old_config(
    etc: Path, tmp_path: Path, installed: dict[str, Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == "config.yaml":
            raise Crash("power cut")
        real(src, dst)

    monkeypatch.setattr(install_module.os, "replace", replace)
    with pytest.raises(Crash):
        install_config(_new_file(tmp_path), etc / "config.yaml", installed)
    assert os.readlink(etc / "config.yaml") == "old.yaml"
    assert (etc / "config.yaml").read_text() == OLD
    assert _leftovers(etc) == []
