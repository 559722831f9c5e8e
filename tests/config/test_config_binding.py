# SPDX-License-Identifier: Apache-2.0
"""Section.bind: settings dataclasses bound from the manifest (ccy.runtime.config.binding).

Every unit's settings class is found by discovery and checked against its manifest, so a
field without a key, a key without a field or an enum whose values drift from the choices
fails here before any unit runs. The small "demo" manifest (conftest) has every key type.
"""

import dataclasses
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

import pytest
from bsp_process import run_bsp_with_config

from ccy.bsp.settings import BspSettings, ResetLineDriver
from ccy.runtime.config import (
    EX_CONFIG,
    BindingError,
    Config,
    ConfigError,
    Manifest,
    ManifestError,
    Section,
    field_name,
    load_config,
    settings_classes,
)
from ccy.runtime.config.binding import binding_problems
from ccy.runtime.paths import Paths

SETTINGS = settings_classes()
ROOT = Paths(Path("/srv/root"))


def test_field_names_follow_the_one_unit_rule() -> None:
    assert field_name("reset_pulse_ms") == "reset_pulse_s"
    assert field_name("serial_baud_Bd") == "serial_baud_Bd"
    assert field_name("temperature_warning_degC") == "temperature_warning_degC"


def test_discovery_finds_the_units_settings() -> None:
    assert BspSettings in SETTINGS
    assert all(isinstance(getattr(cls, "SECTION", None), str) for cls in SETTINGS)


@pytest.mark.parametrize("cls", SETTINGS, ids=[c.__qualname__ for c in SETTINGS])
def test_every_settings_class_matches_its_manifest(
    cls: type, installed: dict[str, Manifest]
) -> None:
    section: str = cls.SECTION
    assert section in installed, f"{cls.__qualname__}.SECTION names no manifest"
    assert binding_problems(installed[section], cls) == []
    bound = Config.defaults(installed).section(section).bind(cls, ROOT)
    assert isinstance(bound, cls)


def test_bsp_settings_bound_from_a_file(tmp_path: Path, installed: dict[str, Manifest]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "bsp:\n  reset_line_driver: file\n  led_error_path: ''\n"
        "  firmware_inquiry_timeout_ms: 250\n  reset_line_file: /run/x\n"
    )
    section = load_config(path, installed).section("bsp")
    bsp = BspSettings.from_section(section, ROOT)
    assert bsp.reset_line_driver is ResetLineDriver.FILE
    assert bsp.reset_line_file == Path("/srv/root/run/x")
    assert bsp.serial_port == Path("/srv/root/dev/ttyLP2")
    assert bsp.led_status_path == Path("/srv/root/sys/class/leds/ccy:red:status")
    assert bsp.led_error_path is None
    assert bsp.firmware_inquiry_timeout_s == 0.25
    assert (bsp.reset_pulse_s, bsp.link_timeout_s, bsp.charge_control_period_s) == (
        0.005,
        1.5,
        0.1,
    )
    assert bsp.temperature_channel_names == ("dc_plus", "dc_minus", "aux1", "aux2")
    assert isinstance(bsp.serial_baud_Bd, int) and isinstance(bsp.temperature_warning_degC, float)


# ---------------------------------------------------------------- the demo section
class Mode(StrEnum):
    FAST = "fast"
    SLOW = "slow"
    OFF = "off"


@dataclasses.dataclass(frozen=True)
class Demo:
    SECTION: ClassVar[str] = "demo"

    speed_Bd: int
    low_degC: float
    high_degC: float
    enabled: bool
    label: str
    device: Path
    led: Path | None
    mode: Mode
    names: tuple[str, ...]


def test_the_demo_binds(demo: dict[str, Manifest]) -> None:
    bound = Config.defaults(demo).section("demo").bind(Demo, ROOT)
    assert bound == Demo(
        115200, 10.0, 20.0, False, "abc", Path("/srv/root/dev/null"), None, Mode.FAST, ("ab", "cd")
    )


def _variant(**changes: type) -> type:
    """Demo with fields retyped, added (a type) or removed (None)."""
    fields = [(f.name, f.type) for f in dataclasses.fields(Demo) if f.name not in changes]
    fields += [(name, kind) for name, kind in changes.items() if kind is not None]
    return dataclasses.make_dataclass("Variant", fields, frozen=True)


class WrongMode(StrEnum):
    FAST = "fast"
    SLOW = "slow"
    TURBO = "turbo"


class ReorderedMode(StrEnum):
    SLOW = "slow"
    FAST = "fast"
    OFF = "off"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"label": None}, "key label has no field label"),
        ({"colour": str}, "field colour has no key colour"),
        ({"timeout_s": float}, "field timeout_s has no key timeout_s or timeout_ms"),
        ({"mode": WrongMode}, "WrongMode has the values fast, slow, turbo, the manifest the "),
        ({"mode": ReorderedMode}, "(same values, same order)"),
        (
            {"mode": str},
            "field mode (key mode, enum) is str, expected a StrEnum of fast, slow, off",
        ),
        ({"led": Path}, "field led (key led, path) is Path, expected Path | None"),
        ({"device": str}, "field device (key device, path) is str, expected Path"),
        ({"names": list[str]}, "expected tuple[..., ...]"),
        ({"names": tuple[int, ...]}, "field names (key names, list of str) item is int"),
        ({"speed_Bd": float}, "field speed_Bd (key speed_Bd, int) is float, expected int"),
    ],
)
def test_a_mismatch_is_a_binding_error(
    demo: dict[str, Manifest], changes: dict[str, type], problem: str
) -> None:
    cls = _variant(**changes)
    with pytest.raises(BindingError) as caught:
        Config.defaults(demo).section("demo").bind(cls, ROOT)
    assert isinstance(caught.value, TypeError)
    assert str(caught.value).startswith("Variant does not match the manifest demo.yaml")
    assert problem in str(caught.value)


def test_ms_keys_bind_float_seconds(demo: dict[str, Manifest]) -> None:
    from ccy.runtime.config.manifest import manifest_from_text

    manifest = manifest_from_text(
        "description: d\nkeys:\n  wait_ms:\n    type: int\n    default: 250\n    unit: ms\n"
        "    description: a wait\n",
        "timing",
    )

    @dataclasses.dataclass(frozen=True)
    class Timing:
        wait_s: float

    assert Config.defaults({"timing": manifest}).section("timing").bind(Timing, ROOT) == Timing(
        0.25
    )

    @dataclasses.dataclass(frozen=True)
    class Wrong:
        wait_ms: int

    assert binding_problems(manifest, Wrong) == [
        "field wait_ms has no key wait_ms",
        "key wait_ms has no field wait_s",
    ]


def test_not_a_frozen_dataclass(demo: dict[str, Manifest]) -> None:
    @dataclasses.dataclass
    class Loose:
        label: str

    assert binding_problems(demo["demo"], Loose) == ["Loose is not a frozen dataclass"]


def test_a_section_without_manifest_cannot_bind() -> None:
    with pytest.raises(TypeError, match="has no manifest"):
        Section("demo", {}).bind(Demo, ROOT)


# ---------------------------------------------------------------- values outside the enum
def test_a_value_outside_the_strenum_is_a_config_error_at_its_line(
    demo: dict[str, Manifest],
) -> None:
    values = {**demo["demo"].defaults(), "mode": "turbo"}
    section = Section("demo", values, {"mode": 7}, manifest=demo["demo"], file="/etc/c.yaml")
    with pytest.raises(ConfigError) as caught:
        section.bind(Demo, ROOT)
    assert not isinstance(caught.value, ManifestError)
    assert [str(p) for p in caught.value.problems] == [
        "/etc/c.yaml:7: demo.mode: 'turbo' is not one of fast, slow, off"
    ]


def test_a_default_outside_the_strenum_names_the_manifest(demo: dict[str, Manifest]) -> None:
    values = {**demo["demo"].defaults(), "mode": "turbo"}
    section = Section("demo", values, manifest=demo["demo"])
    with pytest.raises(ManifestError, match=r"demo.yaml: keys.mode.default: 'turbo' is not"):
        section.bind(Demo, ROOT)


def test_an_unknown_driver_exits_78_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("# a board\nbsp:\n  reset_line_driver: spi\n")
    done = run_bsp_with_config(tmp_path, bad)
    assert done.returncode == EX_CONFIG == 78
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"Invalid configuration, not starting: {bad}:3: bsp.reset_line_driver: 'spi' is not "
            "one of gpiochip, file, none"
        )
    )
    assert [d.value for d in ResetLineDriver] == ["gpiochip", "file", "none"]
