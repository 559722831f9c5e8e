# SPDX-License-Identifier: Apache-2.0
"""Manifests: config/manifests/<section>.yaml declares every key of one section, once.

A manifest is itself checked as strictly as a config file, and a broken one is a
ManifestError naming the manifest file and line. Its shape::

    description: what the section configures
    keys:
      serial_baud_Bd:            # snake_case; a key with a unit ends in _<unit>
        type: int                # int float bool str path enum list
        default: 115200          # checked against the declaration below
        min: 9600                # int/float: min, max, unit
        max: 1000000
        unit: Bd
        description: what it does and where the value comes from
    rules:                       # cross-key rules, checked after every key
      - key: temperature_derating_end_degC
        greater_than: temperature_derating_start_degC

str keys take pattern/min_length/max_length, path keys allow_empty, enum keys choices, list
keys item (a declaration without default and description) and min_items/max_items. The design
follows EVerest's module manifests (STYLE.md): the declaration is the documentation.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from yaml.nodes import MappingNode, Node, SequenceNode

from ccy.runtime.config.problems import ConfigProblem, ManifestError, did_you_mean
from ccy.runtime.config.source import Document, parse_bytes, read_document
from ccy.runtime.config.values import INVALID, TYPES, KeySpec, convert
from ccy.runtime.paths import manifests_dir

SECTION_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_UNIT = r"[A-Za-z][A-Za-z0-9]*"
_COUNT = KeySpec("count", "int", minimum=0)
_META: dict[str, KeySpec] = {
    "type": KeySpec("type", "enum", choices=TYPES),
    "description": KeySpec("description", "str", min_length=1),
    "unit": KeySpec("unit", "str", pattern=_UNIT),
    "pattern": KeySpec("pattern", "str", min_length=1),
    "min_length": _COUNT,
    "max_length": _COUNT,
    "min_items": _COUNT,
    "max_items": _COUNT,
    "allow_empty": KeySpec("allow_empty", "bool"),
    "choices": KeySpec("choices", "list", item=KeySpec("choice", "str", min_length=1), min_items=1),
}
_FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "int": ("min", "max", "unit"),
    "float": ("min", "max", "unit"),
    "bool": (),
    "str": ("pattern", "min_length", "max_length"),
    "path": ("allow_empty",),
    "enum": ("choices",),
    "list": ("item", "min_items", "max_items"),
}
_TOP_FIELDS = ("description", "keys", "rules")
_RULE_FIELDS = ("key", "greater_than")


@dataclass(frozen=True)
class Rule:
    """``key`` must be greater than ``greater_than`` (both numeric keys of the section)."""

    key: str
    greater_than: str

    def holds(self, values: Mapping[str, Any]) -> bool:
        return bool(values[self.key] > values[self.greater_than])


@dataclass(frozen=True)
class Manifest:
    """The declaration of one config section."""

    section: str
    file: str
    description: str
    keys: Mapping[str, KeySpec]
    rules: tuple[Rule, ...] = ()

    def defaults(self) -> dict[str, Any]:
        return {name: spec.default for name, spec in self.keys.items()}


class _ManifestReader:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def fields(self, node: Node, path: str, allowed: tuple[str, ...]) -> dict[str, Node]:
        if self.doc.node_problem(node) is not None or not isinstance(node, MappingNode):
            self.doc.problem(node, path, "expected a mapping")
            return {}
        found: dict[str, Node] = {}
        for name, key, value in self.doc.mapping(node, path):
            if name not in allowed:
                hint = did_you_mean(name, allowed) or f" (allowed: {', '.join(allowed)})"
                self.doc.problem(key, f"{path}.{name}" if path else name, f"unknown field{hint}")
                continue
            found[name] = value
        return found

    def value(self, spec: KeySpec, node: Node, path: str) -> Any:
        value, issues = convert(spec, node, self.doc.node_problem)
        for where, message in issues:
            self.doc.problem(where, path, message)
        return value

    def declaration(
        self, name: str, node: Node, path: str, is_item: bool = False
    ) -> KeySpec | None:
        base = ("type",) if is_item else ("type", "default", "description")
        if not isinstance(node, MappingNode):
            self.doc.problem(node, path, "expected a mapping (type, default, description …)")
            return None
        type_node = next((v for k, v in node.value if getattr(k, "value", None) == "type"), None)
        if type_node is None:
            self.doc.problem(node, path, f"has no type (one of {', '.join(TYPES)})")
            return None
        kind = self.value(_META["type"], type_node, f"{path}.type")
        if kind is INVALID:
            return None
        if is_item and kind == "list":
            self.doc.problem(type_node, f"{path}.type", "a list item cannot be a list")
            return None
        fields = self.fields(node, path, base + _FIELDS_BY_TYPE[kind])
        for needed in base:
            if needed not in fields:
                self.doc.problem(node, path, f"has no {needed}")
        got: dict[str, Any] = {}
        number = KeySpec("bound", kind) if kind in ("int", "float") else None
        for field, child in fields.items():
            if field in ("type", "default"):
                continue
            if field in ("min", "max") and number is not None:
                got[field] = self.value(number, child, f"{path}.{field}")
            elif field == "item":
                got[field] = self.declaration(name, child, f"{path}.item", is_item=True)
            else:
                got[field] = self.value(_META[field], child, f"{path}.{field}")
        if any(v is INVALID or v is None for v in got.values()):
            return None
        spec = KeySpec(
            name=name,
            type=kind,
            description=got.get("description", ""),
            unit=got.get("unit", ""),
            minimum=got.get("min"),
            maximum=got.get("max"),
            choices=tuple(got.get("choices", ())),
            pattern=got.get("pattern"),
            min_length=got.get("min_length"),
            max_length=got.get("max_length"),
            allow_empty=bool(got.get("allow_empty", False)),
            item=got.get("item"),
            min_items=got.get("min_items"),
            max_items=got.get("max_items"),
        )
        if not self.consistent(spec, node, path):
            return None
        if is_item or "default" not in fields:
            return spec
        default = self.value(spec, fields["default"], f"{path}.default")
        return None if default is INVALID else replace(spec, default=default)

    def consistent(self, spec: KeySpec, node: Node, path: str) -> bool:
        wrong: list[str] = []
        if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
            wrong.append(f"min {spec.minimum} is above max {spec.maximum}")
        lows = ((spec.min_length, spec.max_length), (spec.min_items, spec.max_items))
        wrong += [f"minimum {lo} is above maximum {hi}" for lo, hi in lows if lo and hi and lo > hi]
        if spec.pattern is not None:
            try:
                re.compile(spec.pattern)
            except re.error as exc:
                wrong.append(f"pattern {spec.pattern!r} is not a regular expression: {exc}")
        if spec.type == "enum" and not spec.choices:
            wrong.append("an enum needs choices")
        if spec.type == "list" and spec.item is None:
            wrong.append("a list needs an item declaration")
        if len(set(spec.choices)) != len(spec.choices):
            wrong.append("choices repeat a value")
        for message in wrong:
            self.doc.problem(node, path, message)
        return not wrong

    def key_name(self, name: str, key: Node, spec: KeySpec) -> None:
        unit = spec.unit
        stem = name[: -len(unit) - 1] if unit and name.endswith("_" + unit) else name
        if unit and stem == name:
            self.doc.problem(key, f"keys.{name}", f"a key with unit {unit} must end in _{unit}")
        elif not SECTION_NAME.fullmatch(stem):
            self.doc.problem(key, f"keys.{name}", "not a snake_case name (plus an optional _unit)")

    def rules(self, node: Node, keys: Mapping[str, KeySpec]) -> tuple[Rule, ...]:
        if self.doc.node_problem(node) is not None or not isinstance(node, SequenceNode):
            self.doc.problem(node, "rules", "expected a list of rules")
            return ()
        rules: list[Rule] = []
        for index, item in enumerate(node.value):
            path = f"rules[{index + 1}]"
            fields = self.fields(item, path, _RULE_FIELDS)
            names = {}
            for field in _RULE_FIELDS:
                if field not in fields:
                    self.doc.problem(item, path, f"has no {field}")
                    continue
                named = self.value(KeySpec(field, "str"), fields[field], f"{path}.{field}")
                spec = keys.get(named) if isinstance(named, str) else None
                if isinstance(named, str) and spec is None:
                    hint = did_you_mean(named, keys)
                    self.doc.problem(fields[field], f"{path}.{field}", f"unknown key{hint}")
                elif spec is not None and spec.type not in ("int", "float"):
                    self.doc.problem(fields[field], f"{path}.{field}", "is not a number key")
                elif spec is not None:
                    names[field] = named
            if len(names) == 2:
                rule = Rule(names["key"], names["greater_than"])
                if not rule.holds({k: s.default for k, s in keys.items()}):
                    high, low = keys[rule.key].default, keys[rule.greater_than].default
                    self.doc.problem(
                        item,
                        path,
                        f"the defaults break this rule: {rule.key} ({high}) is not greater "
                        f"than {rule.greater_than} ({low})",
                    )
                rules.append(rule)
        return tuple(rules)


def parse_manifest(doc: Document, section: str) -> Manifest | None:
    """The manifest in ``doc`` (problems added to ``doc``), or None when it is broken."""
    reader = _ManifestReader(doc)
    if not SECTION_NAME.fullmatch(section):
        doc.problem(None, "", f"{section!r} is not a snake_case section name")
    if doc.root is None:
        return None
    top = reader.fields(doc.root, "", _TOP_FIELDS)
    for needed in ("description", "keys"):
        if needed not in top and isinstance(doc.root, MappingNode):
            doc.problem(doc.root, "", f"has no {needed}")
    description = (
        reader.value(_META["description"], top["description"], "description")
        if ("description" in top)
        else INVALID
    )
    keys: dict[str, KeySpec] = {}
    broken = False
    keys_node = top.get("keys")
    if keys_node is not None and not isinstance(keys_node, MappingNode):
        doc.problem(keys_node, "keys", "expected a mapping of key declarations")
    elif keys_node is not None:
        for name, key, node in doc.mapping(keys_node, "keys"):
            spec = reader.declaration(name, node, f"keys.{name}")
            if spec is None:
                broken = True
            else:
                reader.key_name(name, key, spec)
                keys[name] = spec
    rules = reader.rules(top["rules"], keys) if "rules" in top and not broken else ()
    if doc.problems or description is INVALID:
        return None
    return Manifest(section, doc.file, str(description), MappingProxyType(keys), rules)


def load_manifest(path: str | Path) -> Manifest:
    """The manifest at ``path`` (the section is the file name's stem); ManifestError if broken."""
    doc = read_document(path)
    manifest = parse_manifest(doc, Path(path).stem)
    if manifest is None:
        raise ManifestError(doc.problems)
    return manifest


def manifest_from_text(text: str, section: str, file: str = "<manifest>") -> Manifest:
    """A manifest from text (tests and tools); ManifestError if broken."""
    doc = parse_bytes(text.encode("utf-8"), file)
    manifest = parse_manifest(doc, section)
    if manifest is None:
        raise ManifestError(doc.problems)
    return manifest


def load_manifests(dir: str | Path | None = None) -> dict[str, Manifest]:
    """Every manifest in ``dir`` (default: the share folder's config/manifests), by section.

    All broken manifests are reported together in one ManifestError.
    """
    folder = Path(dir) if dir is not None else manifests_dir()
    if not folder.is_dir():
        raise ManifestError([ConfigProblem(str(folder), 0, "", "no such manifest folder")])
    manifests: dict[str, Manifest] = {}
    problems: list[ConfigProblem] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            manifests[path.stem] = load_manifest(path)
        except ManifestError as exc:
            problems += exc.problems
    if problems:
        raise ManifestError(problems)
    return manifests
