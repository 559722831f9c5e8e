# SPDX-License-Identifier: Apache-2.0
"""Loading /etc/ccy/config.yaml: every section checked against its manifest, all at once.

A config file lists, per section, only what differs from the manifest's defaults; a section
absent from the file means "all defaults" (ARCHITECTURE.md "Configuration"). Every problem of
the file is collected, in line order, before anything is refused: the operator fixes a file
in one round, and a unit never starts half-configured.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode

from ccy.runtime.config.binding import bind_values
from ccy.runtime.config.manifest import Manifest, load_manifests
from ccy.runtime.config.problems import ConfigError, ConfigProblem, did_you_mean
from ccy.runtime.config.source import Document, kind_of, line_of, parse_bytes, read_document
from ccy.runtime.config.values import INVALID, convert
from ccy.runtime.paths import Paths

T = TypeVar("T")


class Section(Mapping[str, Any]):
    """One section's effective values (file over defaults); read-only.

    ``manifest`` and ``file`` (set by the loader) let :meth:`bind` build the unit's settings.
    """

    def __init__(
        self,
        name: str,
        values: Mapping[str, Any],
        lines: Mapping[str, int] | None = None,
        manifest: Manifest | None = None,
        file: str | None = None,
    ) -> None:
        self.name = name
        self._values = dict(values)
        self.lines: Mapping[str, int] = dict(lines or {})
        self.manifest = manifest
        self.file = file

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(f"section {self.name!r} has no key {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def from_file(self, key: str) -> bool:
        """Whether ``key`` was set in the file (else it holds its default)."""
        return key in self.lines

    def bind(self, cls: type[T], paths: Paths) -> T:
        """The section as ``cls``, a frozen dataclass named after the keys (config.binding).

        BindingError (a TypeError) when ``cls`` does not match the manifest; ConfigError at
        the value's file:line when a value is outside its field's StrEnum.
        """
        if self.manifest is None:
            raise TypeError(
                f"section {self.name!r} has no manifest: build it with load_config or "
                "Config.defaults to bind it"
            )
        return bind_values(cls, self.manifest, self._values, paths, self.lines, self.file)

    def __repr__(self) -> str:
        return f"Section({self.name!r}, {self._values!r})"


@dataclass(frozen=True)
class Config:
    """A validated configuration: every declared section, defaults applied."""

    file: str | None
    manifests: Mapping[str, Manifest]
    sections: Mapping[str, Section]
    in_file: tuple[str, ...] = field(default=())

    def section(self, name: str) -> Section:
        """The section ``name`` (all defaults when the file does not mention it)."""
        try:
            return self.sections[name]
        except KeyError:
            known = ", ".join(sorted(self.sections)) or "none"
            raise KeyError(f"no manifest declares section {name!r} (known: {known})") from None

    @classmethod
    def defaults(cls, manifests: Mapping[str, Manifest] | None = None) -> "Config":
        """The configuration of an empty file: every key at its manifest default."""
        chosen = load_manifests() if manifests is None else manifests
        sections = {name: Section(name, m.defaults(), manifest=m) for name, m in chosen.items()}
        return cls(None, chosen, sections)


def _check_section(
    doc: Document, manifest: Manifest, node: Node, name: str
) -> tuple[dict[str, Any], dict[str, int]]:
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return values, lines
    if not isinstance(node, MappingNode):
        doc.problem(node, name, "expected a mapping of keys (write '{}' for all defaults)")
        return values, lines
    for key, key_node, value_node in doc.mapping(node, name):
        spec = manifest.keys.get(key)
        if spec is None:
            doc.problem(key_node, f"{name}.{key}", f"unknown key{did_you_mean(key, manifest.keys)}")
            continue
        value, issues = convert(spec, value_node, doc.node_problem)
        for where, message in issues:
            doc.problem(where, f"{name}.{key}", message)
        if value is not INVALID:
            values[key] = value
            lines[key] = line_of(key_node)
    effective = {**manifest.defaults(), **values}
    for rule in manifest.rules:
        if rule.key not in values and rule.greater_than not in values:
            continue
        if rule.key not in effective or rule.holds(effective):
            continue
        spec, other = manifest.keys[rule.key], manifest.keys[rule.greater_than]
        high, low = (
            spec.with_unit(effective[rule.key]),
            other.with_unit(effective[rule.greater_than]),
        )
        if rule.key in lines:
            source = f"line {lines[rule.greater_than]}" if rule.greater_than in lines else "default"
            line, key, message = (
                lines[rule.key],
                rule.key,
                f"{high} must be greater than {rule.greater_than} ({low}, {source})",
            )
        else:
            line, key, message = (
                lines[rule.greater_than],
                rule.greater_than,
                f"{low} must be less than {rule.key} ({high}, default)",
            )
        doc.problems.append(ConfigProblem(doc.file, line, f"{name}.{key}", message))
    return values, lines


def _owner_hint(name: str, manifests: Mapping[str, Manifest]) -> str:
    owners = sorted(s for s, m in manifests.items() if name in m.keys)
    if owners:
        return f" ({name} is a key of section '{owners[0]}': indent it under '{owners[0]}:')"
    return f" (known sections: {', '.join(sorted(manifests)) or 'none'})"


def check_document(doc: Document, manifests: Mapping[str, Manifest]) -> Config | None:
    """Check a parsed file against the manifests; problems go to ``doc``; None when invalid."""
    if doc.root is None:
        return None
    problem = doc.node_problem(doc.root)
    if problem is not None or not isinstance(doc.root, MappingNode):
        shown = (
            problem
            or f"expected a mapping of sections (section: {{key: value}}), got {kind_of(doc.root)}"
        )
        doc.problem(doc.root, "", shown)
        return None
    sections: dict[str, Section] = {}
    in_file: list[str] = []
    for name, key_node, node in doc.mapping(doc.root, ""):
        manifest = manifests.get(name)
        if manifest is None:
            hint = did_you_mean(name, manifests) or _owner_hint(name, manifests)
            doc.problem(key_node, name, f"unknown section{hint}")
            continue
        problem = doc.node_problem(node)
        if problem is not None:
            doc.problem(node, name, problem)
            continue
        values, lines = _check_section(doc, manifest, node, name)
        sections[name] = Section(
            name, {**manifest.defaults(), **values}, lines, manifest=manifest, file=doc.file
        )
        in_file.append(name)
    if doc.problems:
        doc.problems.sort(key=lambda p: p.line)
        return None
    for name, manifest in manifests.items():
        sections.setdefault(name, Section(name, manifest.defaults(), manifest=manifest))
    return Config(doc.file, manifests, sections, tuple(in_file))


def _manifests(manifests: Mapping[str, Manifest] | None) -> Mapping[str, Manifest]:
    return load_manifests() if manifests is None else manifests


def load_config(path: str | Path, manifests: Mapping[str, Manifest] | None = None) -> Config:
    """The validated configuration in ``path``; ConfigError listing every problem otherwise.

    ``path`` may be a symlink (config.yaml → profile): it is followed for reading, and problems
    name the path as given. Without ``manifests`` the installed ones are used (a broken
    manifest raises ManifestError, itself a ConfigError).
    """
    chosen = _manifests(manifests)
    doc = read_document(path)
    config = check_document(doc, chosen)
    if config is None:
        raise ConfigError(doc.problems)
    return config


def validate_file(
    path: str | Path, manifests: Mapping[str, Manifest] | None = None
) -> list[ConfigProblem]:
    """Every problem of the file at ``path`` (empty when valid); never raises for bad content."""
    chosen = _manifests(manifests)
    doc = read_document(path)
    check_document(doc, chosen)
    return doc.problems


def validate_bytes(
    data: bytes, file: str, manifests: Mapping[str, Manifest] | None = None
) -> list[ConfigProblem]:
    """Like validate_file, for content in memory named ``file`` (tests and fuzzing)."""
    doc = parse_bytes(data, file)
    check_document(doc, _manifests(manifests))
    return doc.problems
