# SPDX-License-Identifier: Apache-2.0
"""Hypothesis strategies for random valid ISO 15118 messages in the JSON view, from the XSDs.

Walks the schema set of one namespace (xsd_model.py): sequences, choices (also optional ones),
optional elements present and absent, repeated elements as lists whose lengths include both
bounds, substitution groups (every concrete member), complexContent extensions, attributes and
simple-type facets (ranges, lengths, enumerations). Values follow the JSON view of
design/v2g.md: hexBinary upper-case hex, base64Binary base64, enumerations as strings.

Deliberate limits, each from design/v2g.md:
- the xmldsig ``Signature`` is never generated (it is optional wherever it occurs);
- at most 4 ParameterSets of at most 8 Parameters (libcbv2g interop limit);
- a list whose bound exceeds ``SMALL_BOUND`` reaches its bound by repeating one drawn entry,
  and only when no enclosing list did so already (keeps documents to a few hundred kB).
"""

from __future__ import annotations

import base64
import string
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import strategies as st
from xsd_model import XS, Component, QName, SchemaSet, XsdError, load_namespace, xs

Doc = dict[str, Any]
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"
SMALL_BOUND = 16
#: Interop caps on maxOccurs, by element local name (design/v2g.md, libcbv2g).
CAPS: dict[str, int] = {"ParameterSet": 4, "Parameter": 8}
EXCLUDED: set[QName] = {(XMLDSIG, "Signature")}
#: Optional elements the oracle cannot leave out: EXIficient's JSON binding of
#: supportedAppProtocolRes holds SchemaID as a primitive, so it encodes an absent SchemaID
#: as 0 and decodes its absence as 0 (test_oracle_quirks.py pins this quirk down separately).
ORACLE_REQUIRED: set[tuple[str, str]] = {("supportedAppProtocolRes", "SchemaID")}

INT_RANGES: dict[str, tuple[int, int]] = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "integer": (-(2**63), 2**63 - 1),
    "unsignedByte": (0, 2**8 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedLong": (0, 2**64 - 1),
    "nonNegativeInteger": (0, 2**64 - 1),
}
# XML characters, excluding the ones an XML/JSON round trip may normalise (controls, CR).
TEXT = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn"), exclude_characters="\r"
)
NCNAME = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.\-]{0,15}\Z")


def _facets(sset: SchemaSet, comp: Component) -> tuple[str, dict[str, list[str]]]:
    """Follow a simpleType's restriction chain to its built-in base; merge the facets
    (the most derived value of each facet wins)."""
    facets: dict[str, list[str]] = {}
    node = comp
    for _ in range(16):
        restriction = node.node.find(xs("restriction"))
        if restriction is None:
            raise XsdError(f"simpleType without restriction: {node.node.get('name')}")
        for facet in restriction:
            tag = facet.tag.removeprefix(f"{{{XS}}}")
            if tag == "enumeration":
                if "enumeration" not in facets or facets.get("_enum_owner") == [str(id(node))]:
                    facets.setdefault("enumeration", []).append(facet.get("value", ""))
                    facets["_enum_owner"] = [str(id(node))]
            else:
                facets.setdefault(tag, [facet.get("value", "")])
        base = node.resolve(restriction.get("base", ""))
        if base[0] == XS:
            facets.pop("_enum_owner", None)
            return base[1], facets
        node = sset.simple_types[base]
    raise XsdError("simpleType restriction chain too deep")


def _builtin(
    name: str, facets: dict[str, list[str]], empty_text: bool = True
) -> st.SearchStrategy[Any]:
    if "enumeration" in facets:
        return st.sampled_from(facets["enumeration"])
    if name == "boolean":
        return st.booleans()
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        lo = max(lo, int(facets.get("minInclusive", [lo])[0]))
        hi = min(hi, int(facets.get("maxInclusive", [hi])[0]))
        return st.one_of(st.sampled_from(sorted({lo, hi})), st.integers(lo, hi))
    if "length" in facets:
        lo = hi = int(facets["length"][0])
    else:
        lo = int(facets.get("minLength", ["0"])[0])
        hi = int(facets.get("maxLength", ["64"])[0])
    if not empty_text:
        lo = max(lo, 1)
    if name == "hexBinary":
        return st.binary(min_size=lo, max_size=hi).map(lambda b: b.hex().upper())
    if name == "base64Binary":
        return st.binary(min_size=lo, max_size=hi).map(lambda b: base64.b64encode(b).decode())
    if name in ("string", "anyURI"):
        if name == "anyURI":
            return st.text(string.ascii_lowercase + string.digits + ":/.", min_size=lo, max_size=hi)
        bounded = st.text(TEXT, min_size=lo, max_size=hi)
        return st.one_of(bounded, st.text(TEXT, min_size=hi, max_size=hi)) if hi <= 255 else bounded
    if name == "ID":
        return NCNAME
    raise XsdError(f"built-in type xs:{name} not modelled")


class Generator:
    """Strategies for every element of one namespace's schema set."""

    def __init__(self, sset: SchemaSet, empty_text: bool = True) -> None:
        self.sset = sset
        self.empty_text = empty_text
        self._types: dict[tuple[QName, bool], st.SearchStrategy[Any]] = {}

    # -- simple and complex types ---------------------------------------------------------
    def type_strategy(self, comp: Component, type_attr: str, big_ok: bool) -> Any:
        name = comp.resolve(type_attr)
        key = (name, big_ok)
        if key not in self._types:
            if name[0] == XS:
                self._types[key] = _builtin(name[1], {}, self.empty_text)
            elif name in self.sset.simple_types:
                base, facets = _facets(self.sset, self.sset.simple_types[name])
                self._types[key] = _builtin(base, facets, self.empty_text)
            elif name in self.sset.complex_types:
                self._types[key] = self.complex_strategy(self.sset.complex_types[name], big_ok)
            else:
                raise XsdError(f"unknown type {name}")
        return self._types[key]

    def element_value(self, comp: Component, big_ok: bool) -> st.SearchStrategy[Any]:
        """The value of an element declaration: named type, or an inline anonymous one."""
        type_attr = comp.node.get("type")
        if type_attr is not None:
            return self.type_strategy(comp, type_attr, big_ok)
        inline = comp.node.find(xs("complexType"))
        if inline is not None:
            return self.complex_strategy(comp.child(inline), big_ok)
        simple = comp.node.find(xs("simpleType"))
        if simple is not None:
            return _builtin(*_facets(self.sset, comp.child(simple)), self.empty_text)
        raise XsdError(f"element {comp.node.get('name')} without a type")

    def complex_strategy(self, ct: Component, big_ok: bool) -> st.SearchStrategy[Doc]:
        if ct.node.get("mixed") == "true" or ct.node.find(xs("simpleContent")) is not None:
            raise XsdError(f"complexType {ct.node.get('name')}: mixed/simple content")
        parts: list[st.SearchStrategy[Doc]] = []
        content = ct.node.find(xs("complexContent"))
        holder = ct
        if content is not None:
            ext = content.find(xs("extension"))
            if ext is None:
                raise XsdError(f"complexType {ct.node.get('name')}: only extension modelled")
            base = self.sset.complex_types[ct.resolve(ext.get("base", ""))]
            parts.append(self.complex_strategy(base, big_ok))
            holder = ct.child(ext)
        for child in holder.node:
            if child.tag == xs("attribute"):
                parts.append(self.attribute(holder.child(child)))
            elif child.tag in (xs("sequence"), xs("choice"), xs("element")):
                parts.append(self.particle(holder.child(child), big_ok))
            elif child.tag in (xs("any"), xs("anyAttribute"), xs("all"), xs("group")):
                raise XsdError(f"complexType {ct.node.get('name')}: {child.tag} not modelled")
        return _merge(parts)

    def attribute(self, comp: Component) -> st.SearchStrategy[Doc]:
        name = comp.node.get("name", "")
        value = self.type_strategy(comp, comp.node.get("type", "xs:string"), False)
        present = value.map(lambda v: {name: v})
        if comp.node.get("use") == "required":
            return present
        return st.one_of(st.just({}), present)

    # -- particles ------------------------------------------------------------------------
    def particle(self, comp: Component, big_ok: bool) -> st.SearchStrategy[Doc]:
        node = comp.node
        lo = int(node.get("minOccurs", "1"))
        hi_text = node.get("maxOccurs", "1")
        if hi_text == "unbounded":
            raise XsdError("unbounded maxOccurs not modelled")
        hi = int(hi_text)
        if node.tag == xs("element"):
            return self.element_particle(comp, lo, hi, big_ok)
        if hi != 1:
            raise XsdError(f"repeated {node.tag} not modelled")
        kids = [self.particle(comp.child(k), big_ok) for k in node if k.tag != xs("annotation")]
        body = _merge(kids) if node.tag == xs("sequence") else st.one_of(*kids)
        return st.one_of(st.just({}), body) if lo == 0 else body

    def element_particle(
        self, comp: Component, lo: int, hi: int, big_ok: bool
    ) -> st.SearchStrategy[Doc]:
        node = comp.node
        if node.get("ref"):
            head = comp.resolve(node.get("ref", ""))
            if head in EXCLUDED:
                if lo:
                    raise XsdError(f"required {head} is excluded")
                return st.just({})
            names = [
                m
                for m in self.sset.substitution_members(head)
                if not self.sset.is_abstract_element(m)
            ]
            if not names:
                raise XsdError(f"substitution group {head} has no concrete member")
            options = [self.named_value(m, big_ok) for m in names]
            choice = st.one_of(*options)
            if hi != 1:
                raise XsdError(f"repeated substitution group {head} not modelled")
            return st.one_of(st.just({}), choice) if lo == 0 else choice
        name = node.get("name", "")
        hi = min(hi, CAPS.get(name, hi))
        big = hi > SMALL_BOUND
        value = self.element_value(comp, big_ok and not big)
        if hi == 1:
            present = value.map(lambda v: {name: v})
            return st.one_of(st.just({}), present) if lo == 0 else present
        # An element occurring zero times is absent from the JSON view, not an empty list.
        return _repeat(value, lo, hi, big and big_ok).map(
            lambda items: {name: items} if items else {}
        )

    def named_value(self, name: QName, big_ok: bool) -> st.SearchStrategy[Doc]:
        comp = self.sset.elements[name]
        return self.element_value(comp, big_ok).map(lambda v: {name[1]: v})

    def root(self, local: str) -> st.SearchStrategy[Doc]:
        """``{local: {...}}`` for a global element of the namespace's own schema."""
        return self.named_value((self.sset.main_ns, local), True)


def _merge(parts: list[st.SearchStrategy[Doc]]) -> st.SearchStrategy[Doc]:
    def join(dicts: tuple[Doc, ...]) -> Doc:
        out: Doc = {}
        for d in dicts:
            out.update(d)
        return out

    return st.tuples(*parts).map(join)


def _repeat(
    value: st.SearchStrategy[Any], lo: int, hi: int, allow_bound: bool
) -> st.SearchStrategy[list[Any]]:
    """Lists of ``lo``..``hi`` items with both bounds likely. Beyond SMALL_BOUND, the upper
    bound is reached (where allowed) by repeating one drawn item."""
    if hi <= SMALL_BOUND:
        sizes = st.one_of(st.sampled_from(sorted({lo, hi})), st.integers(lo, hi))
        return sizes.flatmap(lambda n: st.lists(value, min_size=n, max_size=n))
    options = [st.lists(value, min_size=max(lo, 1) if lo else 0, max_size=max(lo, 4))]
    options.insert(0, st.lists(value, min_size=lo, max_size=lo))
    if allow_bound:
        options.append(value.map(lambda v: [v] * hi))
    return st.one_of(*options)


@cache
def generator(key: str, empty_text: bool = True) -> Generator:
    return Generator(load_namespace(key), empty_text)


def message(key: str, local: str, empty_text: bool = True) -> st.SearchStrategy[Doc]:
    """Random valid ``{local: ...}`` documents of namespace ``key`` (SAP, CM, DC, AC);
    with ``empty_text`` False, no string or binary value is empty (the one form in which the
    reference encoder's bytes differ from ours, test_oracle_quirks.py)."""
    docs = generator(key, empty_text).root(local)
    for root, child in sorted(ORACLE_REQUIRED):
        if root == local:
            docs = docs.filter(lambda d, r=root, c=child: c in d[r])
    return docs


Factory = Callable[[str, str], st.SearchStrategy[Doc]]
