# SPDX-License-Identifier: Apache-2.0
"""Property tests: whatever the bytes, validation yields problems, never another exception."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccy.runtime.config import ConfigError, ConfigProblem, Manifest, load_config, validate_bytes
from ccy.runtime.config.manifest import manifest_from_text

DEMO_TEXT = """\
description: d
keys:
  speed_Bd: {type: int, default: 9600, min: 9600, max: 1000000, unit: Bd, description: d}
  low_degC: {type: float, default: 1.0, min: -40, max: 200, unit: degC, description: d}
  high_degC: {type: float, default: 2.0, unit: degC, description: d}
  enabled: {type: bool, default: false, description: d}
  label: {type: str, default: ab, pattern: "[a-z]+", max_length: 8, description: d}
  device: {type: path, default: /dev/null, description: d}
  led: {type: path, default: "", allow_empty: true, description: d}
  mode: {type: enum, choices: [fast, slow], default: fast, description: d}
  names: {type: list, item: {type: str}, max_items: 3, default: [], description: d}
rules:
  - {key: high_degC, greater_than: low_degC}
"""
DEMO: dict[str, Manifest] = {"demo": manifest_from_text(DEMO_TEXT, "demo", "demo.yaml")}
KEYS = [*DEMO["demo"].keys, "demo", "bsp", "x"]
TOKENS = [
    "demo",
    ":",
    " ",
    "  ",
    "\n",
    "\t",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a",
    "*a",
    "!!str",
    "!x",
    "'",
    '"',
    "#",
    "---",
    "...",
    "?",
    "|",
    ">",
    "yes",
    "true",
    "~",
    "1e999",
    "0x1F",
    "-40",
    "3.5",
    "/dev/x",
    "\x00",
    "\xe9",
    "<<",
    "%YAML 1.1",
    "@",
    "`",
    *KEYS,
]

yamlish = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
structured = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)


def _check(data: bytes) -> list[ConfigProblem]:
    problems = validate_bytes(data, "g.yaml", DEMO)
    for problem in problems:
        assert isinstance(problem, ConfigProblem) and problem.file == "g.yaml"
        assert problem.line >= 0 and problem.message
        assert str(problem).startswith("g.yaml")
    return problems


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=300, deadline=None)
@given(yamlish)
def test_yaml_ish_text(text: str) -> None:
    _check(text.encode("utf-8"))


@settings(max_examples=200, deadline=None)
@given(structured)
def test_random_structures_in_the_section(value: object) -> None:
    import yaml

    _check(yaml.safe_dump({"demo": value}).encode("utf-8"))
    _check(yaml.safe_dump(value).encode("utf-8"))


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(yamlish)
def test_load_config_raises_only_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path, DEMO)
    except ConfigError as exc:
        assert exc.problems


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    problems = _check(b"demo: " + b"[" * 5000 + b"]" * 5000 + b"\n")
    assert [str(p) for p in problems] == ["g.yaml: nesting is too deep for a config file"]


def test_alias_bombs_are_refused_without_expansion() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    pairs = zip("abcdefgh", "bcdefghi", strict=True)
    lines += [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in pairs]
    lines += ["demo:", "  names: [*i, *i, *i]"]
    problems = _check(("\n".join(lines) + "\n").encode())
    assert str(problems[-1]) == (
        "g.yaml:11: demo.names: item 3: alias '*i' is not allowed: write the value out "
        "(config files take no anchors or aliases)"
    )
