# SPDX-License-Identifier: Apache-2.0
"""load_config / validate_file / Config / Section, on real files and the shipped manifests."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from bsp_process import run_bsp_with_config

from ccy.runtime.config import (
    EX_CONFIG,
    Config,
    ConfigError,
    ConfigProblem,
    Manifest,
    load_config,
    validate_file,
)

Write = Callable[..., Path]


def test_absent_keys_and_sections_take_the_defaults(
    write: Write, installed: dict[str, Manifest]
) -> None:
    config = load_config(write("bsp:\n  serial_baud_Bd: 57600\n"), installed)
    bsp = config.section("bsp")
    assert bsp["serial_baud_Bd"] == 57600
    assert bsp["serial_port"] == "/dev/ttyLP2"
    assert bsp["temperature_channel_names"] == ("dc_plus", "dc_minus", "aux1", "aux2")
    assert bsp.from_file("serial_baud_Bd") and not bsp.from_file("serial_port")
    assert bsp.lines == {"serial_baud_Bd": 2}
    assert config.in_file == ("bsp",)
    assert set(bsp) == set(installed["bsp"].keys)


def test_a_section_absent_from_the_file_is_all_defaults(
    write: Write, demo: dict[str, Manifest], installed: dict[str, Manifest]
) -> None:
    config = load_config(write("demo: {}\n"), {**demo, **installed})
    assert dict(config.section("bsp")) == installed["bsp"].defaults()
    assert config.in_file == ("demo",)


def test_an_empty_section_is_all_defaults(write: Write, demo: dict[str, Manifest]) -> None:
    config = load_config(write("demo:\n  # nothing changed yet\n"), demo)
    assert dict(config.section("demo")) == demo["demo"].defaults()


def test_section_is_read_only_and_names_missing_keys(
    write: Write, demo: dict[str, Manifest]
) -> None:
    section = load_config(write("demo: {}\n"), demo).section("demo")
    with pytest.raises(TypeError):
        section["mode"] = "slow"  # type: ignore[index]
    with pytest.raises(KeyError, match="section 'demo' has no key 'nope'"):
        section["nope"]


def test_unknown_section_name_in_code(write: Write, demo: dict[str, Manifest]) -> None:
    with pytest.raises(KeyError, match="no manifest declares section 'evse' \\(known: demo\\)"):
        load_config(write("demo: {}\n"), demo).section("evse")


def test_values_have_python_types(write: Write, demo: dict[str, Manifest]) -> None:
    section = load_config(write("demo:\n  low_degC: 5\n  enabled: true\n"), demo).section("demo")
    assert isinstance(section["low_degC"], float) and section["low_degC"] == 5.0
    assert section["enabled"] is True
    assert isinstance(section["speed_Bd"], int)


def test_defaults_config(installed: dict[str, Manifest]) -> None:
    config = Config.defaults()
    assert config.file is None
    assert dict(config.section("bsp")) == installed["bsp"].defaults()


def test_load_config_raises_with_every_problem(
    write: Write, installed: dict[str, Manifest]
) -> None:
    path = write(
        "bsp:\n"
        "  serial_baud_Bd: 20\n"
        "  reset_line_drivr: file\n"
        "  temperature_derating_end_degC: 74\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, installed)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: bsp.serial_baud_Bd: 20 is below the minimum 9600 Bd",
        f"{path}:3: bsp.reset_line_drivr: unknown key (did you mean 'reset_line_driver'?)",
        f"{path}:4: bsp.temperature_derating_end_degC: 74.0 degC must be greater than "
        "temperature_derating_start_degC (75.0 degC, default)",
    ]
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    assert validate_file(path, installed) == list(caught.value.problems)


def test_symlinked_config_names_the_given_path(
    tmp_path: Path, installed: dict[str, Manifest]
) -> None:
    (tmp_path / "profile.yaml").write_text("bsp:\n  serial_baud_Bd: 20\n")
    link = tmp_path / "config.yaml"
    link.symlink_to("profile.yaml")
    assert [str(p) for p in validate_file(link, installed)] == [
        f"{link}:2: bsp.serial_baud_Bd: 20 is below the minimum 9600 Bd"
    ]
    (tmp_path / "profile.yaml").write_text("bsp:\n  serial_baud_Bd: 57600\n")
    config = load_config(link, installed)
    assert config.file == str(link)
    assert config.section("bsp")["serial_baud_Bd"] == 57600


def _fifo(folder: Path) -> Path:
    path = folder / "fifo.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent.yaml", "no such file"),
        (lambda d: d, "is a directory, not a file"),
        (_fifo, "is not a regular file"),
        (lambda d: Path("/dev/null"), "is not a regular file"),
        (lambda d: d / "a\0b", "is not a usable path: embedded null byte"),
    ],
    ids=["missing", "directory", "fifo", "device", "nul-in-name"],
)
def test_unreadable_files_are_problems(
    tmp_path: Path, make: Callable[[Path], Path], message: str, installed: dict[str, Manifest]
) -> None:
    path = make(tmp_path)
    assert validate_file(path, installed) == [ConfigProblem(str(path), 0, "", message)]
    with pytest.raises(ConfigError):
        load_config(path, installed)


def test_dangling_and_looping_symlinks(tmp_path: Path, installed: dict[str, Manifest]) -> None:
    dangling = tmp_path / "dangling.yaml"
    dangling.symlink_to("nowhere.yaml")
    assert [str(p) for p in validate_file(dangling, installed)] == [f"{dangling}: no such file"]
    loop = tmp_path / "loop.yaml"
    loop.symlink_to("loop.yaml")
    problems = validate_file(loop, installed)
    assert len(problems) == 1 and problems[0].line == 0 and problems[0].file == str(loop)


def test_too_large_file(write: Write, installed: dict[str, Manifest]) -> None:
    path = write(b"#" * (1 << 20) + b"\n#\n")
    assert [str(p) for p in validate_file(path, installed)] == [
        f"{path}: is too large (1048577 bytes, at most 1048576)"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_permission(write: Write, installed: dict[str, Manifest]) -> None:
    path = write("bsp: {}\n")
    path.chmod(0)
    assert [str(p) for p in validate_file(path, installed)] == [
        f"{path}: cannot be read: Permission denied"
    ]


def test_a_unit_with_a_bad_config_exits_78_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("bsp:\n  serial_baud_Bd: 20\n  led_error_path: leds\n")
    done = run_bsp_with_config(tmp_path, bad)
    assert done.returncode == EX_CONFIG == 78
    lines = [line for line in done.stderr.strip().splitlines() if not line.endswith(" starting")]
    assert len(lines) == 1  # beside the version line, one line naming every problem
    assert lines[0].endswith(
        f"Invalid configuration, not starting: {bad}:2: bsp.serial_baud_Bd: 20 is below the "
        f"minimum 9600 Bd; {bad}:3: bsp.led_error_path: 'leds' is not an absolute path "
        "(it must start with '/')"
    )
