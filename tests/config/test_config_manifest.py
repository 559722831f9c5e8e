# SPDX-License-Identifier: Apache-2.0
"""Manifests: a broken one is a named ManifestError (file and line); the shipped ones are sound."""

import re
from pathlib import Path

import pytest

from ccy.runtime.config import ConfigError, Manifest, ManifestError, load_manifest, load_manifests
from ccy.runtime.config.manifest import manifest_from_text
from ccy.runtime.paths import manifests_dir

BASE = "description: d\nkeys:\n"
INT_A = "  a:\n    type: int\n    default: 1\n    description: x\n"
BROKEN: list[tuple[str, str, str]] = [
    (
        "no type",
        BASE + "  a:\n    default: 1\n    description: x\n",
        "m.yaml:4: keys.a: has no type (one of int, float, bool, str, path, enum, list)",
    ),
    (
        "unknown type",
        BASE + "  a:\n    type: integer\n    default: 1\n    description: x\n",
        "m.yaml:4: keys.a.type: 'integer' is not one of int, float, bool, str, path, enum, list "
        "(did you mean 'int'?)",
    ),
    (
        "no default",
        BASE + "  a:\n    type: int\n    description: x\n",
        "m.yaml:4: keys.a: has no default",
    ),
    (
        "no description",
        BASE + "  a:\n    type: int\n    default: 1\n",
        "m.yaml:4: keys.a: has no description",
    ),
    (
        "empty description",
        BASE + "  a:\n    type: int\n    default: 1\n    description: ''\n",
        "m.yaml:6: keys.a.description: must not be empty",
    ),
    (
        "default out of bounds",
        BASE
        + "  a_ms:\n    type: int\n    default: 0\n    min: 1\n    unit: ms\n    description: x\n",
        "m.yaml:5: keys.a_ms.default: 0 is below the minimum 1 ms",
    ),
    (
        "unit not in name",
        BASE + "  a:\n    type: int\n    default: 1\n    unit: ms\n    description: x\n",
        "m.yaml:3: keys.a: a key with unit ms must end in _ms",
    ),
    (
        "not snake_case",
        BASE + "  fooBar:\n    type: int\n    default: 1\n    description: x\n",
        "m.yaml:3: keys.fooBar: not a snake_case name (plus an optional _unit)",
    ),
    (
        "field of another type",
        BASE + "  a:\n    type: bool\n    default: true\n    min: 1\n    description: x\n",
        "m.yaml:6: keys.a.min: unknown field (allowed: type, default, description)",
    ),
    (
        "field typo",
        BASE + "  a:\n    type: int\n    default: 1\n    maxx: 1\n    description: x\n",
        "m.yaml:6: keys.a.maxx: unknown field (did you mean 'max'?)",
    ),
    (
        "min above max",
        BASE + "  a:\n    type: int\n    default: 1\n    min: 5\n    max: 2\n    description: x\n",
        "m.yaml:4: keys.a: min 5 is above max 2",
    ),
    (
        "bad pattern",
        BASE + "  a:\n    type: str\n    default: x\n    pattern: '['\n    description: x\n",
        "m.yaml:4: keys.a: pattern '[' is not a regular expression: "
        "unterminated character set at position 0",
    ),
    (
        "list without item",
        BASE + "  a:\n    type: list\n    default: []\n    description: x\n",
        "m.yaml:4: keys.a: a list needs an item declaration",
    ),
    (
        "list of lists",
        BASE
        + "  a:\n    type: list\n    item: {type: list}\n    default: []\n    description: x\n",
        "m.yaml:5: keys.a.item.type: a list item cannot be a list",
    ),
    (
        "enum without choices",
        BASE + "  a:\n    type: enum\n    default: x\n    description: x\n",
        "m.yaml:4: keys.a: an enum needs choices",
    ),
    (
        "int bound not int",
        BASE + "  a:\n    type: int\n    default: 1\n    min: 0.5\n    description: x\n",
        "m.yaml:6: keys.a.min: expected an integer, got a number '0.5'",
    ),
    (
        "duplicate key",
        BASE + INT_A + INT_A,
        "m.yaml:7: keys.a: duplicate key (first given on line 3)",
    ),
    (
        "rule names unknown key",
        BASE + INT_A + "rules:\n  - key: a\n    greater_than: aa\n",
        "m.yaml:9: rules[1].greater_than: unknown key (did you mean 'a'?)",
    ),
    (
        "rule on a string",
        BASE + INT_A + "  s:\n    type: str\n    default: x\n    description: x\n"
        "rules:\n  - key: a\n    greater_than: s\n",
        "m.yaml:13: rules[1].greater_than: is not a number key",
    ),
    (
        "defaults break a rule",
        BASE + INT_A + "  b:\n    type: int\n    default: 2\n    description: x\n"
        "rules:\n  - key: a\n    greater_than: b\n",
        "m.yaml:12: rules[1]: the defaults break this rule: a (1) is not greater than b (2)",
    ),
    (
        "rule incomplete",
        BASE + INT_A + "rules:\n  - key: a\n",
        "m.yaml:8: rules[1]: has no greater_than",
    ),
    (
        "unknown top field",
        "description: d\nkeys: {}\nrulez: []\n",
        "m.yaml:3: rulez: unknown field (did you mean 'rules'?)",
    ),
    ("no keys", "description: d\n", "m.yaml:1: has no keys"),
    ("empty", "", "m.yaml: is empty (write '{}' for all defaults)"),
]


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_manifest_is_named(text: str, expected: str) -> None:
    with pytest.raises(ManifestError) as caught:
        manifest_from_text(text, "demo", "m.yaml")
    assert [str(p) for p in caught.value.problems] == [expected]
    assert isinstance(caught.value, ConfigError)  # a unit exits with EX_CONFIG for it too


def test_bad_section_name() -> None:
    with pytest.raises(
        ManifestError, match=r"m\.yaml: 'Bad-Name' is not a snake_case section name"
    ):
        manifest_from_text("description: d\nkeys: {}\n", "Bad-Name", "m.yaml")


def test_load_manifests_reports_every_broken_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(BASE + INT_A)
    (tmp_path / "one.yaml").write_text(BASE + "  a:\n    type: int\n    description: x\n")
    (tmp_path / "two.yaml").write_text("keys: {}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/one.yaml:4: keys.a: has no default",
        f"{tmp_path}/two.yaml:1: has no description",
    ]


def test_missing_manifest_folder(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such manifest folder"):
        load_manifests(tmp_path / "absent")


def test_every_shipped_manifest_validates() -> None:
    paths = sorted(manifests_dir().glob("*.yaml"))
    assert paths, "config/manifests holds no manifest"
    for path in paths:
        manifest = load_manifest(path)
        assert manifest.section == path.stem
        assert manifest.keys
        for name, spec in manifest.keys.items():
            assert spec.description.strip(), name
            if spec.unit:
                assert name.endswith("_" + spec.unit), name


def test_shipped_files_carry_the_spdx_header() -> None:
    for path in sorted(manifests_dir().glob("*.yaml")):
        assert path.read_text().startswith("# SPDX-License-Identifier: Apache-2.0\n"), path


BSP_KEYS: dict[str, tuple[str, object, object, object]] = {
    # key: (type, default, min, max)
    "serial_port": ("path", "/dev/ttyLP2", None, None),
    "serial_baud_Bd": ("int", 115200, 9600, 1000000),
    "reset_line_driver": ("enum", "gpiochip", None, None),
    "reset_line_chip": ("path", "/dev/gpiochip0", None, None),
    "reset_line_name": ("str", "nSAFETY_RESET_INT", None, None),
    "reset_line_file": ("path", "/run/ccy/bsp/reset", None, None),
    "reset_pulse_ms": ("int", 5, 5, 5),
    "startup_wait_ms": ("int", 300, 300, 300),
    "link_timeout_ms": ("int", 1500, 1500, 1500),
    "charge_control_period_ms": ("int", 100, 100, 100),
    "estop_confirm_timeout_ms": ("int", 1000, 1000, 1000),
    "temperature_publish_period_ms": ("int", 1000, 100, 60000),
    "temperature_warning_degC": ("float", 70.0, -40, 200),
    "temperature_derating_start_degC": ("float", 75.0, -40, 200),
    "temperature_derating_end_degC": ("float", 85.0, -40, 200),
    "temperature_channel_names": ("list", ("dc_plus", "dc_minus", "aux1", "aux2"), None, None),
    "led_status_path": ("path", "/sys/class/leds/ccy:red:status", None, None),
    "led_charging_path": ("path", "", None, None),
    "led_error_path": ("path", "", None, None),
    "firmware_inquiry_retries": ("int", 3, 0, 10),
    "firmware_inquiry_timeout_ms": ("int", 500, 30, 5000),
}


def test_bsp_manifest_declares_the_issue_keys(installed: dict[str, Manifest]) -> None:
    bsp = installed["bsp"]
    assert set(bsp.keys) == set(BSP_KEYS)
    for name, (kind, default, low, high) in BSP_KEYS.items():
        spec = bsp.keys[name]
        assert (spec.type, spec.default, spec.minimum, spec.maximum) == (kind, default, low, high)
        assert re.fullmatch(r"[a-z][a-z0-9_]*(_(ms|Bd|degC))?", name), name
    assert bsp.keys["reset_line_driver"].choices == ("gpiochip", "file", "none")
    names = bsp.keys["temperature_channel_names"]
    assert (names.min_items, names.max_items) == (4, 4)
    assert names.item is not None and names.item.pattern == "[a-z][a-z0-9_]*"
    assert all(bsp.keys[f"led_{led}_path"].allow_empty for led in ("status", "charging", "error"))
    assert [(r.key, r.greater_than) for r in bsp.rules] == [
        ("temperature_derating_start_degC", "temperature_warning_degC"),
        ("temperature_derating_end_degC", "temperature_derating_start_degC"),
    ]
