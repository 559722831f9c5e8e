# SPDX-License-Identifier: Apache-2.0
"""Every kind of config problem, with its exact text and line (ARCHITECTURE.md "Configuration")."""

import pytest

from ccy.runtime.config import ConfigProblem, Manifest, validate_bytes

CASES: list[tuple[str, str | bytes, str]] = [
    # numbers and units
    (
        "int below",
        "demo:\n  speed_Bd: 20\n",
        "c.yaml:2: demo.speed_Bd: 20 is below the minimum 9600 Bd",
    ),
    (
        "int above",
        "demo:\n  speed_Bd: 2000000\n",
        "c.yaml:2: demo.speed_Bd: 2000000 is above the maximum 1000000 Bd",
    ),
    (
        "int quoted",
        "demo:\n  speed_Bd: '9600'\n",
        "c.yaml:2: demo.speed_Bd: expected an integer, got the string '9600' (remove the quotes)",
    ),
    (
        "int fraction",
        "demo:\n  speed_Bd: 9600.5\n",
        "c.yaml:2: demo.speed_Bd: expected an integer, got a number '9600.5'",
    ),
    (
        "int word",
        "demo:\n  speed_Bd: fast\n",
        "c.yaml:2: demo.speed_Bd: expected an integer, got a string 'fast'",
    ),
    (
        "int hex",
        "demo:\n  speed_Bd: 0x2580\n",
        "c.yaml:2: demo.speed_Bd: '0x2580' is not a decimal integer",
    ),
    (
        "float inf",
        "demo:\n  low_degC: .inf\n",
        "c.yaml:2: demo.low_degC: .inf is not a finite number",
    ),
    (
        "float overflow",
        "demo:\n  low_degC: 1e999\n",
        "c.yaml:2: demo.low_degC: 1e999 is not a finite number",
    ),
    (
        "float list",
        "demo:\n  low_degC: [1]\n",
        "c.yaml:2: demo.low_degC: expected a number, got a list",
    ),
    (
        "float below",
        "demo:\n  low_degC: -41\n",
        "c.yaml:2: demo.low_degC: -41.0 is below the minimum -40.0 degC",
    ),
    # booleans: only true/false
    (
        "bool yes",
        "demo:\n  enabled: yes\n",
        "c.yaml:2: demo.enabled: expected true or false, got 'yes' (yes/no/on/off are not used)",
    ),
    (
        "bool on",
        "demo:\n  enabled: on\n",
        "c.yaml:2: demo.enabled: expected true or false, got 'on' (yes/no/on/off are not used)",
    ),
    (
        "bool 1",
        "demo:\n  enabled: 1\n",
        "c.yaml:2: demo.enabled: expected true or false, got an integer '1'",
    ),
    (
        "bool quoted",
        "demo:\n  enabled: 'true'\n",
        "c.yaml:2: demo.enabled: expected true or false, got a string 'true'",
    ),
    # strings and paths
    (
        "str pattern",
        "demo:\n  label: ABC\n",
        "c.yaml:2: demo.label: 'ABC' does not match the pattern [a-z]+",
    ),
    ("str short", "demo:\n  label: a\n", "c.yaml:2: demo.label: 'a' is shorter than 2 characters"),
    (
        "str long",
        "demo:\n  label: abcdefghij\n",
        "c.yaml:2: demo.label: 'abcdefghij' is longer than 8 characters",
    ),
    (
        "str number",
        "demo:\n  label: 12\n",
        "c.yaml:2: demo.label: expected a string, got '12', "
        "which YAML reads as an integer: quote it",
    ),
    (
        "str mapping",
        "demo:\n  label: {a: 1}\n",
        "c.yaml:2: demo.label: expected a string, got a mapping",
    ),
    (
        "path relative",
        "demo:\n  device: dev/null\n",
        "c.yaml:2: demo.device: 'dev/null' is not an absolute path (it must start with '/')",
    ),
    (
        "path empty",
        "demo:\n  device: ''\n",
        "c.yaml:2: demo.device: must not be empty: an absolute path is needed",
    ),
    ("no value", "demo:\n  device:\n", "c.yaml:2: demo.device: has no value"),
    # enums and lists
    (
        "enum typo",
        "demo:\n  mode: slwo\n",
        "c.yaml:2: demo.mode: 'slwo' is not one of fast, slow, off (did you mean 'slow'?)",
    ),
    (
        "enum yaml11 bool",
        "demo:\n  mode: off\n",
        "c.yaml:2: demo.mode: expected a string, got 'off', "
        "which YAML reads as a boolean: quote it",
    ),
    (
        "enum far",
        "demo:\n  mode: zzzzzz\n",
        "c.yaml:2: demo.mode: 'zzzzzz' is not one of fast, slow, off",
    ),
    (
        "list scalar",
        "demo:\n  names: ab\n",
        "c.yaml:2: demo.names: expected a list, got a string 'ab'",
    ),
    ("list short", "demo:\n  names: [ab]\n", "c.yaml:2: demo.names: has 1 item, needs at least 2"),
    (
        "list long",
        "demo:\n  names: [ab, cd, ef, gh]\n",
        "c.yaml:2: demo.names: has 4 items, at most 3 allowed",
    ),
    (
        "list item",
        "demo:\n  names:\n    - ab\n    - Cd\n",
        "c.yaml:4: demo.names: item 2: 'Cd' does not match the pattern [a-z]+",
    ),
    # cross-key rules
    (
        "rule both set",
        "demo:\n  low_degC: 30\n  high_degC: 25\n",
        "c.yaml:3: demo.high_degC: 25.0 degC must be greater than low_degC (30.0 degC, line 2)",
    ),
    (
        "rule lower set",
        "demo:\n  low_degC: 20\n",
        "c.yaml:2: demo.low_degC: 20.0 degC must be less than high_degC (20.0 degC, default)",
    ),
    (
        "rule upper set",
        "demo:\n  high_degC: 5\n",
        "c.yaml:2: demo.high_degC: 5.0 degC must be greater than low_degC (10.0 degC, default)",
    ),
    # names and structure
    (
        "unknown key",
        "demo:\n  speed: 9600\n",
        "c.yaml:2: demo.speed: unknown key (did you mean 'speed_Bd'?)",
    ),
    (
        "unknown key case",
        "demo:\n  speed_bd: 9600\n",
        "c.yaml:2: demo.speed_bd: unknown key (did you mean 'speed_Bd'?)",
    ),
    (
        "unknown section",
        "dmeo:\n  speed_Bd: 9600\n",
        "c.yaml:1: dmeo: unknown section (did you mean 'demo'?)",
    ),
    ("unknown section far", "zzzz: {}\n", "c.yaml:1: zzzz: unknown section (known sections: demo)"),
    (
        "key outside its section",
        "speed_Bd: 9600\n",
        "c.yaml:1: speed_Bd: unknown section "
        "(speed_Bd is a key of section 'demo': indent it under 'demo:')",
    ),
    (
        "duplicate key",
        "demo:\n  mode: fast\n  mode: slow\n",
        "c.yaml:3: demo.mode: duplicate key (first given on line 2)",
    ),
    (
        "duplicate section",
        "demo: {}\ndemo: {}\n",
        "c.yaml:2: demo: duplicate section (first given on line 1)",
    ),
    (
        "section list",
        "demo: [1]\n",
        "c.yaml:1: demo: expected a mapping of keys (write '{}' for all defaults)",
    ),
    (
        "top list",
        "- demo\n",
        "c.yaml:1: expected a mapping of sections (section: {key: value}), got a list",
    ),
    (
        "top scalar",
        "demo\n",
        "c.yaml:1: expected a mapping of sections (section: {key: value}), got a string",
    ),
    (
        "key number",
        "demo:\n  1: 2\n",
        "c.yaml:2: demo: key '1' is not a name (YAML reads it as an integer)",
    ),
    ("key list", "? [a]\n: 1\n", "c.yaml:1: a key must be a name, not a list"),
    # YAML features a config file must not use
    (
        "anchor",
        "demo:\n  label: &x abc\n",
        "c.yaml:2: demo.label: anchor '&x' is not allowed "
        "(config files take no anchors or aliases)",
    ),
    (
        "alias",
        "demo:\n  label: abc\n  mode: *x\n",
        "c.yaml:3: demo.mode: alias '*x' is not allowed: write the value out "
        "(config files take no anchors or aliases)",
    ),
    (
        "anchored section",
        "demo: &s {}\n",
        "c.yaml:1: demo: anchor '&s' is not allowed (config files take no anchors or aliases)",
    ),
    (
        "python tag",
        "demo:\n  label: !!python/name:os.system ab\n",
        "c.yaml:2: demo.label: tag '!!python/name:os.system' is not allowed "
        "(config files hold plain data)",
    ),
    (
        "local tag",
        "demo:\n  label: !secret ab\n",
        "c.yaml:2: demo.label: tag '!secret' is not allowed (config files hold plain data)",
    ),
    # the file itself
    ("tab", "demo:\n\tlabel: ab\n", "c.yaml:2: indented with a tab: YAML indents with spaces"),
    ("empty", "", "c.yaml: is empty (write '{}' for all defaults)"),
    ("only comments", "# nothing\n\n", "c.yaml: is empty (write '{}' for all defaults)"),
    ("null document", "~\n", "c.yaml: is empty (write '{}' for all defaults)"),
    (
        "two documents",
        "demo: {}\n---\ndemo: {}\n",
        "c.yaml:2: not valid YAML: "
        "expected a single document in the stream but found another document",
    ),
    (
        "unclosed flow",
        "demo:\n  label: [ab\n",
        "c.yaml:3: not valid YAML: while parsing a flow sequence expected ',' or ']', "
        "but got '<stream end>'",
    ),
    (
        "bad indent",
        "demo:\n  label: ab\n bad: 1\n",
        "c.yaml:3: not valid YAML: while parsing a block mapping expected <block end>, "
        "but found '<block mapping start>'",
    ),
    ("latin-1", b"demo:\n  label: \xe9\n", "c.yaml:2: is not UTF-8 text (byte 0xe9 at column 10)"),
    (
        "control character",
        "demo:\n  label: a\x07b\n",
        "c.yaml:2: control character U+0007 is not allowed",
    ),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem_text_and_line(
    content: str | bytes, expected: str, demo: dict[str, Manifest]
) -> None:
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    assert [str(p) for p in validate_bytes(data, "c.yaml", demo)] == [expected]


def test_every_problem_of_a_file_at_once_in_line_order(demo: dict[str, Manifest]) -> None:
    text = (
        "dmeo: {}\n"
        "demo:\n"
        "  speed_Bd: 20\n"
        "  lable: ab\n"
        "  enabled: yes\n"
        "  names: [ab]\n"
        "  low_degC: 30\n"
    )
    problems = validate_bytes(text.encode(), "c.yaml", demo)
    assert [str(p) for p in problems] == [
        "c.yaml:1: dmeo: unknown section (did you mean 'demo'?)",
        "c.yaml:3: demo.speed_Bd: 20 is below the minimum 9600 Bd",
        "c.yaml:4: demo.lable: unknown key (did you mean 'label'?)",
        "c.yaml:5: demo.enabled: expected true or false, got 'yes' (yes/no/on/off are not used)",
        "c.yaml:6: demo.names: has 1 item, needs at least 2",
        "c.yaml:7: demo.low_degC: 30.0 degC must be less than high_degC (20.0 degC, default)",
    ]
    assert [p.line for p in problems] == [1, 3, 4, 5, 6, 7]


def test_problem_fields_and_text() -> None:
    problem = ConfigProblem("/etc/ccy/config.yaml", 7, "bsp.serial_baud_Bd", "is wrong")
    assert str(problem) == "/etc/ccy/config.yaml:7: bsp.serial_baud_Bd: is wrong"
    assert str(ConfigProblem("f", 0, "", "is empty")) == "f: is empty"
    assert str(ConfigProblem("f", 3, "", "bad")) == "f:3: bad"


def test_a_valid_file_with_every_type(demo: dict[str, Manifest]) -> None:
    text = (
        "demo:\n  speed_Bd: 1_000_000\n  low_degC: -5\n  high_degC: 1.5e1\n  enabled: True\n"
        '  label: "xy"\n  device: /dev/tty\n  led: \'\'\n  mode: "off"\n  names: [ab, cd, ef]\n'
    )
    assert validate_bytes(text.encode(), "c.yaml", demo) == []


def test_utf8_bom_is_accepted(demo: dict[str, Manifest]) -> None:
    assert validate_bytes(b"\xef\xbb\xbfdemo: {}\n", "c.yaml", demo) == []


def test_tab_inside_a_value_or_comment_is_fine(demo: dict[str, Manifest]) -> None:
    assert validate_bytes(b'demo:\n  label: "a\\tb"  # x\tcomment\n', "c.yaml", demo) == [
        ConfigProblem("c.yaml", 2, "demo.label", "'a\\tb' does not match the pattern [a-z]+")
    ]
