# SPDX-License-Identifier: Apache-2.0
"""Reading a YAML file into nodes that remember their line, and naming everything wrong with it.

PyYAML's composer (``yaml.compose``) yields a node tree whose marks carry line numbers; no
constructor runs, so no tag can build a Python object. On top of YAML's own syntax errors
this module names as problems: a file that cannot be read, is too large, is not UTF-8, holds
control characters, is indented with tabs or is empty; anchors, aliases and explicit tags
(a config file is plain data, and an alias is the "billion laughs" door); duplicate keys,
which PyYAML would silently let the last one win.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from ccy.runtime.config.problems import ConfigProblem

MAX_FILE_BYTES = 1 << 20
ALIAS_TAG = "tag:ccy:alias"
_YAML = "tag:yaml.org,2002:"
STANDARD_TAGS = frozenset(
    _YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
# What YAML calls printable (YAML 1.1 §5.1), minus the tab, which _tab_problems handles.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_TAG_KIND = {
    _YAML + "int": "an integer",
    _YAML + "float": "a number",
    _YAML + "bool": "a boolean",
    _YAML + "null": "no value (null)",
    _YAML + "timestamp": "a date",
    _YAML + "str": "a string",
    _YAML + "map": "a mapping",
    _YAML + "seq": "a list",
}


def line_of(node: Node) -> int:
    """The 1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def kind_of(node: Node) -> str:
    """What the node is, in words ("an integer", "a list" …), for messages."""
    if isinstance(node, ScalarNode) and node.style is not None and node.style != "":
        return "a string"
    return _TAG_KIND.get(str(node.tag), f"a value tagged {node.tag!r}")


class _MarkingLoader(yaml.SafeLoader):
    """A composer that remembers anchors and replaces aliases by placeholders.

    An alias becomes a scalar node tagged ALIAS_TAG, so nothing is ever shared or expanded
    and the walker reports it at its own line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchored: dict[int, tuple[str, Node]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            return ScalarNode(ALIAS_TAG, str(event.anchor), event.start_mark, event.end_mark)
        anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
        node = super().compose_node(parent, index)
        if node is None:
            raise yaml.YAMLError("the composer returned no node")
        if anchor is not None:
            self.anchored[id(node)] = (str(anchor), node)
        return node


@dataclass
class Document:
    """One parsed YAML file: its root node (None when unusable) and the problems found."""

    file: str
    root: Node | None
    problems: list[ConfigProblem] = field(default_factory=list)
    anchored: dict[int, tuple[str, Node]] = field(default_factory=dict)

    def problem(self, node: Node | None, key_path: str, message: str) -> None:
        self.problems.append(
            ConfigProblem(self.file, line_of(node) if node is not None else 0, key_path, message)
        )

    def node_problem(self, node: Node) -> str | None:
        """Why ``node`` cannot be used at all (alias, anchor, foreign tag), else None."""
        if node.tag == ALIAS_TAG:
            return (
                f"alias '*{node.value}' is not allowed: write the value out "
                "(config files take no anchors or aliases)"
            )
        if id(node) in self.anchored:
            return (
                f"anchor '&{self.anchored[id(node)][0]}' is not allowed "
                "(config files take no anchors or aliases)"
            )
        if node.tag not in STANDARD_TAGS:
            shown = str(node.tag).replace(_YAML, "!!")
            return f"tag '{shown}' is not allowed (config files hold plain data)"
        return None

    def mapping(self, node: Node, key_path: str) -> Iterator[tuple[str, ScalarNode, Node]]:
        """The (name, key node, value node) pairs of a mapping, reporting bad or repeated keys.

        The caller has checked that ``node`` is a MappingNode; bad keys are reported and skipped,
        a repeated key is reported and its later value skipped.
        """
        assert isinstance(node, MappingNode)
        seen: dict[str, int] = {}
        for key, value in node.value:
            where = f"{key_path}." if key_path else ""
            if not (isinstance(key, ScalarNode) and key.tag == _YAML + "str" and key.value):
                if isinstance(key, ScalarNode) and key.value:
                    message = f"key {key.value!r} is not a name (YAML reads it as {kind_of(key)})"
                else:
                    message = f"a key must be a name, not {kind_of(key)}"
                self.problem(key, key_path, message)
                continue
            problem = self.node_problem(key)
            if problem is not None:
                self.problem(key, where + key.value, problem)
                continue
            name = str(key.value)
            if name in seen:
                noun = "key" if key_path else "section"
                self.problem(
                    key, where + name, f"duplicate {noun} (first given on line {seen[name]})"
                )
                continue
            seen[name] = line_of(key)
            yield name, key, value


def _decode(data: bytes, doc: Document) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        doc.problems.append(
            ConfigProblem(
                doc.file, line, "", f"is not UTF-8 text (byte 0x{byte:02x} at column {column})"
            )
        )
        return None


def _text_problems(text: str, doc: Document) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        bad = _NOT_PRINTABLE.search(line)
        if bad is not None:
            doc.problems.append(
                ConfigProblem(
                    doc.file,
                    number,
                    "",
                    f"control character U+{ord(bad.group()):04X} is not allowed",
                )
            )
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip() and not line.lstrip(" \t").startswith("#"):
            doc.problems.append(
                ConfigProblem(doc.file, number, "", "indented with a tab: YAML indents with spaces")
            )


def parse_bytes(data: bytes, file: str) -> Document:
    """Parse ``data`` (the content of ``file``, named as the user gave it) into a Document."""
    doc = Document(file, None)
    if len(data) > MAX_FILE_BYTES:
        doc.problems.append(
            ConfigProblem(
                file, 0, "", f"is too large ({len(data)} bytes, at most {MAX_FILE_BYTES})"
            )
        )
        return doc
    text = _decode(data, doc)
    if text is None:
        return doc
    _text_problems(text, doc)
    if doc.problems:
        return doc
    loader = _MarkingLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 0
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        doc.problems.append(ConfigProblem(file, line, "", f"not valid YAML: {what}"))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(ConfigProblem(file, 0, "", f"not valid YAML: {exc}"))
        return doc
    except RecursionError:
        doc.problems.append(ConfigProblem(file, 0, "", "nesting is too deep for a config file"))
        return doc
    finally:
        loader.dispose()
    doc.anchored = loader.anchored
    if root is None or (isinstance(root, ScalarNode) and root.tag == _YAML + "null"):
        doc.problems.append(ConfigProblem(file, 0, "", "is empty (write '{}' for all defaults)"))
        return doc
    doc.root = root
    return doc


def read_bytes(path: str | Path) -> bytes | ConfigProblem:
    """The content of the file at ``path`` (symlinks followed), or the problem naming ``path``.

    Reads at most MAX_FILE_BYTES + 1 bytes, so an oversized file is seen as such.
    """
    file = str(path)
    try:
        real = Path(path).resolve(strict=True)
        if real.is_dir():
            return ConfigProblem(file, 0, "", "is a directory, not a file")
        if not real.is_file():  # a FIFO or a device would block or never end
            return ConfigProblem(file, 0, "", "is not a regular file")
        with real.open("rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return ConfigProblem(file, 0, "", "no such file")
    except RuntimeError:  # a symlink loop (Path.resolve on Python 3.11)
        return ConfigProblem(file, 0, "", "is a symlink loop")
    except ValueError as exc:  # e.g. a NUL byte in the name
        return ConfigProblem(file, 0, "", f"is not a usable path: {exc}")
    except OSError as exc:
        return ConfigProblem(file, 0, "", f"cannot be read: {exc.strerror or exc}")


def read_document(path: str | Path) -> Document:
    """Read and parse the file at ``path``; problems name ``path`` exactly as given.

    A symlink (config.yaml → profile) is followed for reading, while problems keep the name
    the user typed.
    """
    data = read_bytes(path)
    if isinstance(data, ConfigProblem):
        return Document(str(path), None, [data])
    return parse_bytes(data, str(path))
