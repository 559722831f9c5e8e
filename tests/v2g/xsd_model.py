# SPDX-License-Identifier: Apache-2.0
"""A small XSD reader for the ISO 15118 schemas, written for the oracle tests only.

Independent of the codec's own generator (services/ccy/v2g/exi/gen): it reads the unmodified
XSDs that .ci/setup.d/exificient.sh extracts from the ``iso15118`` wheel (design/v2g.md, "EXI")
with xml.etree and exposes global components by qualified name, resolving prefixes per file,
following xs:import, and computing substitution groups transitively.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

XS = "http://www.w3.org/2001/XMLSchema"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / ".cache" / "peers" / "exificient" / "schemas"

#: The message namespaces and the schema file that defines each.
NAMESPACE_FILES: dict[str, str] = {
    "SAP": "V2G_CI_AppProtocol.xsd",
    "CM": "V2G_CI_CommonMessages.xsd",
    "DC": "V2G_CI_DC.xsd",
    "AC": "V2G_CI_AC.xsd",
}

QName = tuple[str, str]  # (namespace URI, local name)


class XsdError(ValueError):
    """A schema construct this reader does not model, or an unresolvable reference."""


def xs(tag: str) -> str:
    return f"{{{XS}}}{tag}"


@dataclass(frozen=True)
class Component:
    """A schema node together with the file context needed to resolve its QName values."""

    node: ET.Element
    target_ns: str
    prefixes: dict[str, str]

    def resolve(self, value: str) -> QName:
        prefix, _, local = value.rpartition(":")
        try:
            return (self.prefixes[prefix], local)
        except KeyError:
            raise XsdError(f"unknown prefix {prefix!r} in {value!r}") from None

    def child(self, node: ET.Element) -> Component:
        return Component(node, self.target_ns, self.prefixes)


@dataclass
class SchemaSet:
    """All components reachable from one namespace's schema file (its grammar set)."""

    main_ns: str = ""
    elements: dict[QName, Component] = field(default_factory=dict)
    complex_types: dict[QName, Component] = field(default_factory=dict)
    simple_types: dict[QName, Component] = field(default_factory=dict)
    substitutes: dict[QName, list[QName]] = field(default_factory=dict)
    main_elements: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> SchemaSet:
        out = cls()
        out._read(path, seen=set(), main=True)
        return out

    def _read(self, path: Path, seen: set[Path], main: bool) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        if not path.is_file():
            raise XsdError(f"schema {path} absent (run .ci/setup.d/exificient.sh)")
        prefixes: dict[str, str] = {}
        for _event, (prefix, uri) in ET.iterparse(path, events=("start-ns",)):
            prefixes.setdefault(prefix, uri)
        root = ET.parse(path).getroot()
        target = root.get("targetNamespace", "")
        if main:
            self.main_ns = target
        for node in root:
            comp = Component(node, target, prefixes)
            name = node.get("name")
            if node.tag == xs("import"):
                location = node.get("schemaLocation")
                if location:
                    self._read(path.parent / location, seen, main=False)
            elif node.tag == xs("element") and name:
                self.elements[(target, name)] = comp
                if main:
                    self.main_elements.append(name)
                head = node.get("substitutionGroup")
                if head:
                    self.substitutes.setdefault(comp.resolve(head), []).append((target, name))
            elif node.tag == xs("complexType") and name:
                self.complex_types[(target, name)] = comp
            elif node.tag == xs("simpleType") and name:
                self.simple_types[(target, name)] = comp

    def substitution_members(self, head: QName) -> list[QName]:
        """``head`` and every element substitutable for it, transitively, sorted by
        local name then namespace (EXI 1.0 §8.5.4.1.6 orders the productions likewise)."""
        out: list[QName] = [head]
        pending = [head]
        while pending:
            for member in self.substitutes.get(pending.pop(), []):
                if member not in out:
                    out.append(member)
                    pending.append(member)
        return sorted(out, key=lambda q: (q[1], q[0]))

    def is_abstract_element(self, name: QName) -> bool:
        comp = self.elements[name]
        if comp.node.get("abstract") == "true":
            return True
        type_name = comp.node.get("type")
        if type_name is None:
            return False
        ct = self.complex_types.get(comp.resolve(type_name))
        return ct is not None and ct.node.get("abstract") == "true"


def load_namespace(key: str, schema_dir: Path = SCHEMA_DIR) -> SchemaSet:
    """The schema set of ``key`` (SAP, CM, DC, AC)."""
    return SchemaSet.load(schema_dir / NAMESPACE_FILES[key])


def message_elements(key: str, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Global request/response elements declared by the namespace's own schema file."""
    return [
        name
        for name in load_namespace(key, schema_dir).main_elements
        if name.endswith(("Req", "Res"))
    ]
