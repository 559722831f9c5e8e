# SPDX-License-Identifier: Apache-2.0
"""Key declarations (KeySpec) and the conversion of a YAML node into a checked value.

Types (ARCHITECTURE.md "Configuration", STYLE.md rule 5): int, float (integers accepted),
bool (only true/false: YAML 1.1's yes/no/on/off are refused, they are a classic trap), str
(optional pattern and length bounds), path (an absolute path; optionally empty = "none"),
enum (one of the declared choices) and list (items of one declared type, with item-count
bounds). Numbers carry their unit into every message: "20 is below the minimum 9600 Bd".
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ccy.runtime.config.problems import did_you_mean
from ccy.runtime.config.source import kind_of

TYPES = ("int", "float", "bool", "str", "path", "enum", "list")
_YAML = "tag:yaml.org,2002:"
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_YAML11_BOOL = frozenset(
    {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"}
    | {"on", "On", "ON", "off", "Off", "OFF"}
)


class Invalid:
    """The marker for "no usable value" (the problems say why)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID = Invalid()
Issue = tuple[Node, str]
NodeCheck = Callable[[Node], str | None]


@dataclass(frozen=True)
class KeySpec:
    """One declared key: its type, default, bounds, unit and meaning."""

    name: str
    type: str
    default: Any = None
    description: str = ""
    unit: str = ""
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    allow_empty: bool = False
    item: "KeySpec | None" = None
    min_items: int | None = None
    max_items: int | None = None

    def with_unit(self, number: int | float) -> str:
        """``number`` followed by the unit, the way messages show it."""
        return f"{number} {self.unit}" if self.unit else f"{number}"

    def bounds_text(self) -> str:
        """The bounds in words, for ``ccyctl config keys``; "" when unbounded."""
        parts: list[str] = []
        if self.minimum is not None and self.minimum == self.maximum:
            parts.append(f"fixed at {self.minimum}")
        elif self.minimum is not None and self.maximum is not None:
            parts.append(f"{self.minimum}..{self.maximum}")
        elif self.minimum is not None:
            parts.append(f">= {self.minimum}")
        elif self.maximum is not None:
            parts.append(f"<= {self.maximum}")
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        if self.pattern:
            parts.append(f"pattern {self.pattern}")
        if self.min_length is not None or self.max_length is not None:
            parts.append(f"length {self.min_length or 0}..{self.max_length or '∞'}")
        if self.min_items is not None or self.max_items is not None:
            parts.append(f"items {self.min_items or 0}..{self.max_items or '∞'}")
        if self.allow_empty:
            parts.append('"" = none')
        if self.item is not None and self.item.bounds_text():
            parts.append(f"each {self.item.type}: {self.item.bounds_text()}")
        return "; ".join(parts)

    def type_text(self) -> str:
        return f"list of {self.item.type}" if self.item is not None else self.type


def _scalar_text(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""


def _plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style


def _got(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return f"{kind_of(node)} {node.value!r}"
    return kind_of(node)


def _number(spec: KeySpec, node: Node) -> int | float | str:
    """The number in ``node``, or the message saying why there is none."""
    text = _scalar_text(node)
    wanted = "an integer" if spec.type == "int" else "a number"
    if not _plain(node):
        if isinstance(node, ScalarNode) and _FLOAT.fullmatch(text):
            return f"expected {wanted}, got the string {text!r} (remove the quotes)"
        return f"expected {wanted}, got {_got(node)}"
    if _INT.fullmatch(text):
        number: int | float = int(text.replace("_", ""))
        return number if spec.type == "int" else float(number)
    if spec.type == "float" and _FLOAT.fullmatch(text):
        value = float(text.replace("_", ""))
        return value if math.isfinite(value) else f"{text} is not a finite number"
    if spec.type == "float" and node.tag == _YAML + "float":
        return f"{text} is not a finite number"
    if node.tag == _YAML + "int":
        return f"{text!r} is not a decimal integer"
    return f"expected {wanted}, got {_got(node)}"


def _check_number(spec: KeySpec, node: Node) -> tuple[Any, list[Issue]]:
    number = _number(spec, node)
    if isinstance(number, str):
        return INVALID, [(node, number)]
    if spec.minimum is not None and spec.minimum == spec.maximum and number != spec.minimum:
        fixed = spec.with_unit(spec.minimum)
        return INVALID, [(node, f"{number} is not allowed: the value is fixed at {fixed}")]
    if spec.minimum is not None and number < spec.minimum:
        return INVALID, [(node, f"{number} is below the minimum {spec.with_unit(spec.minimum)}")]
    if spec.maximum is not None and number > spec.maximum:
        return INVALID, [(node, f"{number} is above the maximum {spec.with_unit(spec.maximum)}")]
    return number, []


def _check_bool(node: Node) -> tuple[Any, list[Issue]]:
    text = _scalar_text(node)
    if _plain(node) and text in _TRUE:
        return True, []
    if _plain(node) and text in _FALSE:
        return False, []
    if _plain(node) and text in _YAML11_BOOL:
        return INVALID, [
            (node, f"expected true or false, got {text!r} (yes/no/on/off are not used)")
        ]
    return INVALID, [(node, f"expected true or false, got {_got(node)}")]


def _string(node: Node) -> str | tuple[None, str]:
    if isinstance(node, ScalarNode) and (node.style or node.tag == _YAML + "str"):
        return str(node.value)
    if isinstance(node, ScalarNode) and node.tag == _YAML + "null":
        return None, "has no value"
    if isinstance(node, ScalarNode):
        return None, (
            f"expected a string, got {node.value!r}, which YAML reads as {kind_of(node)}: quote it"
        )
    return None, f"expected a string, got {kind_of(node)}"


def _check_str(spec: KeySpec, node: Node) -> tuple[Any, list[Issue]]:
    text = _string(node)
    if isinstance(text, tuple):
        return INVALID, [(node, text[1])]
    if spec.min_length is not None and len(text) < spec.min_length:
        if not text:
            return INVALID, [(node, "must not be empty")]
        return INVALID, [(node, f"{text!r} is shorter than {spec.min_length} characters")]
    if spec.max_length is not None and len(text) > spec.max_length:
        return INVALID, [(node, f"{text!r} is longer than {spec.max_length} characters")]
    if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
        return INVALID, [(node, f"{text!r} does not match the pattern {spec.pattern}")]
    return text, []


def _check_path(spec: KeySpec, node: Node) -> tuple[Any, list[Issue]]:
    text = _string(node)
    if isinstance(text, tuple):
        return INVALID, [(node, text[1])]
    if text == "":
        if spec.allow_empty:
            return text, []
        return INVALID, [(node, "must not be empty: an absolute path is needed")]
    if not text.startswith("/"):
        return INVALID, [(node, f"{text!r} is not an absolute path (it must start with '/')")]
    return text, []


def _check_enum(spec: KeySpec, node: Node) -> tuple[Any, list[Issue]]:
    text = _string(node)
    if isinstance(text, tuple):
        return INVALID, [(node, text[1])]
    if text not in spec.choices:
        hint = did_you_mean(text, spec.choices)
        return INVALID, [(node, f"{text!r} is not one of {', '.join(spec.choices)}{hint}")]
    return text, []


def _check_list(spec: KeySpec, node: Node, check: NodeCheck) -> tuple[Any, list[Issue]]:
    if not isinstance(node, SequenceNode):
        return INVALID, [(node, f"expected a list, got {_got(node)}")]
    assert spec.item is not None
    items: list[Any] = []
    issues: list[Issue] = []
    for index, child in enumerate(node.value):
        value, child_issues = convert(spec.item, child, check)
        issues += [(n, f"item {index + 1}: {m}") for n, m in child_issues]
        items.append(value)
    count = len(node.value)
    low, high = spec.min_items, spec.max_items
    has = f"has {count} item{'' if count == 1 else 's'}"
    if low is not None and low == high and count != low:
        issues.append((node, f"{has}, needs exactly {low}"))
    elif low is not None and count < low:
        issues.append((node, f"{has}, needs at least {low}"))
    elif high is not None and count > high:
        issues.append((node, f"{has}, at most {high} allowed"))
    return (INVALID if issues else tuple(items)), issues


def convert(spec: KeySpec, node: Node, check: NodeCheck) -> tuple[Any, list[Issue]]:
    """The checked value of ``node`` for ``spec`` (or INVALID) and every issue found.

    ``check`` names problems of the node itself (alias, anchor, foreign tag) before its type
    is looked at; each issue carries the node whose line it belongs to.
    """
    problem = check(node)
    if problem is not None:
        return INVALID, [(node, problem)]
    if spec.type != "list" and isinstance(node, MappingNode | SequenceNode):
        wanted = {"int": "an integer", "float": "a number", "bool": "true or false"}
        return INVALID, [(node, f"expected {wanted.get(spec.type, 'a string')}, got {_got(node)}")]
    if spec.type != "str" and isinstance(node, ScalarNode) and node.tag == _YAML + "null":
        return INVALID, [(node, "has no value")]
    if spec.type in ("int", "float"):
        return _check_number(spec, node)
    if spec.type == "bool":
        return _check_bool(node)
    if spec.type == "str":
        return _check_str(spec, node)
    if spec.type == "path":
        return _check_path(spec, node)
    if spec.type == "enum":
        return _check_enum(spec, node)
    if spec.type == "list":
        return _check_list(spec, node, check)
    raise ValueError(f"unknown key type {spec.type!r}")
