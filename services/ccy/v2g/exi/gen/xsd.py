# SPDX-License-Identifier: Apache-2.0
"""XML Schema reader: the subset of XSD 1.0 used by the ISO 15118-20 and XMLDSig schemas.

Components: global elements (with abstract/substitutionGroup), complex types (attributes,
complex or simple content, extension/restriction, mixed), simple types (restriction facets),
particles (element, sequence, choice, any with minOccurs/maxOccurs).
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

XS = "http://www.w3.org/2001/XMLSchema"
QName = tuple[str, str]  # (namespace URI, local name)


class SchemaError(Exception):
    """The schema uses a construct this reader does not know."""


@dataclass
class SimpleType:
    """A simple type reduced to its built-in primitive and the facets in force."""

    builtin: str
    enumeration: list[str] = field(default_factory=list)
    min_value: int | None = None
    max_value: int | None = None
    min_length: int | None = None
    max_length: int | None = None


@dataclass
class Particle:
    """kind: element | sequence | choice | any; max_occurs None = unbounded."""

    kind: str
    min_occurs: int = 1
    max_occurs: int | None = 1
    element: "ElementDecl | None" = None
    children: list["Particle"] = field(default_factory=list)
    wildcard: str = "##any"


@dataclass
class Attribute:
    qname: QName
    type: SimpleType
    required: bool


@dataclass
class ComplexType:
    """content: empty | simple | particle."""

    name: str
    attributes: list[Attribute] = field(default_factory=list)
    content: str = "empty"
    simple: SimpleType | None = None
    particle: Particle | None = None
    mixed: bool = False


@dataclass
class ElementDecl:
    qname: QName
    type: "ComplexType | SimpleType"
    abstract: bool = False
    head: QName | None = None


_BUILTIN_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-32768, 32767),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 65535),
    "unsignedByte": (0, 255),
}
_STRINGS = {"string", "anyURI", "ID", "IDREF", "token", "normalizedString", "NCName", "Name"}
_OTHERS = {"boolean", "hexBinary", "base64Binary", "decimal", "float", "double", "dateTime"}


def _builtin(local: str) -> SimpleType:
    if local in _BUILTIN_RANGES:
        lo, hi = _BUILTIN_RANGES[local]
        return SimpleType("integer", min_value=lo, max_value=hi)
    if local in _STRINGS:
        return SimpleType("string")
    if local in _OTHERS:
        return SimpleType(local)
    raise SchemaError(f"built-in type xs:{local} not supported")


@dataclass
class _Doc:
    root: ET.Element
    target: str
    prefixes: dict[str, str]
    elem_qualified: bool
    attr_qualified: bool

    def resolve(self, text: str) -> QName:
        prefix, _, local = text.rpartition(":")
        return (self.prefixes.get(prefix, ""), local)


class SchemaSet:
    """The closure of one schema file and its imports, resolved into components."""

    def __init__(self, main: Path) -> None:
        self.docs: list[_Doc] = []
        self._load(main, set())
        self._raw_elements: dict[QName, tuple[_Doc, ET.Element]] = {}
        self._raw_types: dict[QName, tuple[_Doc, ET.Element]] = {}
        for doc in self.docs:
            for node in doc.root:
                name = node.get("name")
                if name is None:
                    continue
                if node.tag == f"{{{XS}}}element":
                    self._raw_elements[(doc.target, name)] = (doc, node)
                elif node.tag in (f"{{{XS}}}complexType", f"{{{XS}}}simpleType"):
                    self._raw_types[(doc.target, name)] = (doc, node)
        self.types: dict[QName, ComplexType | SimpleType] = {}
        self.elements: dict[QName, ElementDecl] = {}
        for qname in sorted(self._raw_elements):
            self.global_element(qname)

    def _load(self, path: Path, seen: set[Path]) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        prefixes: dict[str, str] = {}
        root: ET.Element | None = None
        for event, item in ET.iterparse(path, events=("start-ns", "start")):
            if event == "start-ns" and isinstance(item, tuple):
                prefixes.setdefault(item[0], item[1])
            elif event == "start" and root is None and isinstance(item, ET.Element):
                root = item
        assert root is not None
        doc = _Doc(
            root,
            root.get("targetNamespace", ""),
            prefixes,
            root.get("elementFormDefault") == "qualified",
            root.get("attributeFormDefault") == "qualified",
        )
        self.docs.append(doc)
        for node in root.findall(f"{{{XS}}}import"):
            location = node.get("schemaLocation")
            if location:
                self._load(path.parent / location, seen)

    def global_element(self, qname: QName) -> ElementDecl:
        if qname not in self.elements:
            doc, node = self._raw_elements[qname]
            decl = ElementDecl(qname, SimpleType("string"), node.get("abstract") == "true")
            self.elements[qname] = decl
            group = node.get("substitutionGroup")
            decl.head = doc.resolve(group) if group else None
            decl.type = self._element_type(doc, node, qname[1])
        return self.elements[qname]

    def _element_type(self, doc: _Doc, node: ET.Element, name: str) -> ComplexType | SimpleType:
        type_name = node.get("type")
        if type_name is not None:
            return self.type_of(doc.resolve(type_name))
        for child in node:
            if child.tag == f"{{{XS}}}complexType":
                return self._complex(doc, child, f"{name}@anon")
            if child.tag == f"{{{XS}}}simpleType":
                return self._simple(doc, child)
        return ComplexType(f"{name}@anyType")

    def type_of(self, qname: QName) -> ComplexType | SimpleType:
        if qname[0] == XS:
            return _builtin(qname[1])
        if qname not in self.types:
            doc, node = self._raw_types[qname]
            if node.tag == f"{{{XS}}}simpleType":
                self.types[qname] = self._simple(doc, node)
            else:
                self.types[qname] = ComplexType(qname[1])  # placeholder against cycles
                self.types[qname] = self._complex(doc, node, qname[1])
        return self.types[qname]

    def simple_of(self, doc: _Doc, text: str) -> SimpleType:
        found = self.type_of(doc.resolve(text))
        if not isinstance(found, SimpleType):
            raise SchemaError(f"{text} is not a simple type")
        return found

    def _simple(self, doc: _Doc, node: ET.Element) -> SimpleType:
        restriction = node.find(f"{{{XS}}}restriction")
        if restriction is None:
            raise SchemaError("only simpleType restrictions are supported")
        base = restriction.get("base")
        if base is None:
            raise SchemaError("simpleType restriction without base")
        parent = self.simple_of(doc, base)
        result = SimpleType(
            parent.builtin,
            list(parent.enumeration),
            parent.min_value,
            parent.max_value,
            parent.min_length,
            parent.max_length,
        )
        enumeration: list[str] = []
        for facet in restriction:
            kind = facet.tag.rpartition("}")[2]
            value = facet.get("value", "")
            if kind == "enumeration":
                enumeration.append(value)
            elif kind in ("minInclusive", "minExclusive"):
                bound = int(value) + (kind == "minExclusive")
                result.min_value = (
                    bound if result.min_value is None else max(bound, result.min_value)
                )
            elif kind in ("maxInclusive", "maxExclusive"):
                bound = int(value) - (kind == "maxExclusive")
                result.max_value = (
                    bound if result.max_value is None else min(bound, result.max_value)
                )
            elif kind == "length":
                result.min_length = result.max_length = int(value)
            elif kind == "minLength":
                result.min_length = int(value)
            elif kind == "maxLength":
                result.max_length = int(value)
            elif kind in ("annotation", "totalDigits", "fractionDigits", "whiteSpace"):
                continue
            else:
                raise SchemaError(f"facet {kind} not supported")
        if enumeration:
            result.enumeration = enumeration
        return result

    def _complex(self, doc: _Doc, node: ET.Element, name: str) -> ComplexType:
        result = ComplexType(name, mixed=node.get("mixed") == "true")
        body = node
        for child in node:
            tag = child.tag.rpartition("}")[2]
            if tag in ("complexContent", "simpleContent"):
                if child.get("mixed") == "true":
                    result.mixed = True
                derivation = child[0] if child[0].tag != f"{{{XS}}}annotation" else child[1]
                kind = derivation.tag.rpartition("}")[2]
                base_name = derivation.get("base")
                if base_name is None:
                    raise SchemaError(f"{name}: derivation without base")
                base = self.type_of(doc.resolve(base_name))
                if tag == "simpleContent":
                    if isinstance(base, ComplexType):
                        result.simple = base.simple
                        result.attributes = list(base.attributes)
                    else:
                        result.simple = base
                    result.content = "simple"
                elif isinstance(base, ComplexType) and kind == "extension":
                    result.attributes = list(base.attributes)
                    result.content = base.content
                    result.particle = base.particle
                    result.mixed = result.mixed or base.mixed
                elif isinstance(base, ComplexType):
                    result.attributes = list(base.attributes)
                body = derivation
        own = self._content(doc, body)
        if own is not None:
            if result.particle is not None:
                result.particle = Particle("sequence", children=[result.particle, own])
            else:
                result.particle = own
            result.content = "particle"
        known = {a.qname for a in result.attributes}
        for attr in body.findall(f"{{{XS}}}attribute"):
            attribute = self._attribute(doc, attr)
            if attribute.qname not in known:
                result.attributes.append(attribute)
        if body.find(f"{{{XS}}}anyAttribute") is not None:
            raise SchemaError(f"{name}: anyAttribute not supported")
        return result

    def _attribute(self, doc: _Doc, node: ET.Element) -> Attribute:
        name = node.get("name")
        if name is None:
            raise SchemaError("attribute references are not supported")
        namespace = (
            doc.target
            if (node.get("form") or ("qualified" if doc.attr_qualified else "")) == "qualified"
            else ""
        )
        type_name = node.get("type")
        simple = self.simple_of(doc, type_name) if type_name else SimpleType("string")
        return Attribute((namespace, name), simple, node.get("use") == "required")

    def _content(self, doc: _Doc, node: ET.Element) -> Particle | None:
        for child in node:
            if child.tag in (f"{{{XS}}}sequence", f"{{{XS}}}choice"):
                return self._particle(doc, child)
            if child.tag in (f"{{{XS}}}all", f"{{{XS}}}group"):
                raise SchemaError("xs:all / xs:group not supported")
        return None

    def _particle(self, doc: _Doc, node: ET.Element) -> Particle:
        tag = node.tag.rpartition("}")[2]
        max_text = node.get("maxOccurs", "1")
        particle = Particle(
            tag,
            int(node.get("minOccurs", "1")),
            None if max_text == "unbounded" else int(max_text),
        )
        if tag == "element":
            ref = node.get("ref")
            if ref is not None:
                particle.element = self.global_element(doc.resolve(ref))
            else:
                local = node.get("name", "")
                qualified = (
                    node.get("form") or ("qualified" if doc.elem_qualified else "")
                ) == "qualified"
                qname = (doc.target if qualified else "", local)
                particle.element = ElementDecl(qname, self._element_type(doc, node, local))
        elif tag == "any":
            particle.wildcard = node.get("namespace", "##any")
        elif tag in ("sequence", "choice"):
            particle.children = [
                self._particle(doc, c) for c in node if c.tag != f"{{{XS}}}annotation"
            ]
        else:
            raise SchemaError(f"particle {tag} not supported")
        return particle

    def all_declarations(self) -> dict[QName, list[ElementDecl]]:
        """Every element declaration, global and local, by qname (EXI 1.0 §8.5.3)."""
        for qname in sorted(self._raw_types):
            self.type_of(qname)
        found: dict[QName, list[ElementDecl]] = {}
        seen: set[int] = set()

        def visit_type(ctype: ComplexType | SimpleType) -> None:
            if isinstance(ctype, ComplexType) and id(ctype) not in seen:
                seen.add(id(ctype))
                if ctype.particle is not None:
                    visit_particle(ctype.particle)

        def visit_particle(particle: Particle) -> None:
            if particle.element is not None:
                decls = found.setdefault(particle.element.qname, [])
                if all(d is not particle.element for d in decls):
                    decls.append(particle.element)
                visit_type(particle.element.type)
            for child in particle.children:
                visit_particle(child)

        for decl in self.elements.values():
            decls = found.setdefault(decl.qname, [])
            if all(d is not decl for d in decls):
                decls.append(decl)
            visit_type(decl.type)
        for ctype in self.types.values():
            visit_type(ctype)
        return found

    def substitutes(self, head: ElementDecl) -> list[ElementDecl]:
        """Non-abstract members of head's substitution group (transitively, itself included),
        sorted by local name then namespace (EXI 1.0 §8.5.4.1.6)."""
        members = [head]
        changed = True
        while changed:
            changed = False
            names = {m.qname for m in members}
            for decl in self.elements.values():
                if decl.head in names and decl.qname not in names:
                    members.append(decl)
                    changed = True
        chosen = [m for m in members if not m.abstract]
        return sorted(chosen, key=lambda d: (d.qname[1], d.qname[0]))
