# SPDX-License-Identifier: Apache-2.0
"""EXI 1.0 schema-informed grammars (§8.5.4) derived from the :mod:`xsd` component model.

A complex type becomes a proto-grammar with epsilon transitions (attribute uses sorted by
qname, then the particle grammars: sequences concatenated, choices united, minOccurs and
bounded maxOccurs unrolled, unbounded ones and those of at least ``LOOP_FROM`` looped,
substitution groups expanded, mixed content adding untyped CH). Normalisation (§8.5.4.2)
removes the epsilons and merges duplicate terminals (a subset construction), then event
codes are assigned in the order AT(qname) sorted, SE(qname) in schema order, SE(*), EE, CH.
Non-strict mode (§8.5.4.4.1) adds second-level productions to every non-terminal, so each
state's code width is ceil(log2(n + 1)).
"""

from dataclasses import dataclass, field

from ccy.v2g.exi.gen.xsd import Attribute, ComplexType, ElementDecl, Particle, QName, SchemaSet

#: A maxOccurs of at least this many is looped like "unbounded": after the last allowed item
#: the item production stays, so EE keeps its wider code. The -20 CommonMessages lists bounded
#: at 1024 and 2048 (PriceLevelScheduleEntry, PowerScheduleEntry, EVPowerProfileEntry, ...)
#: are encoded that way by both reference encoders: EXIficient's grammars in Josev's jar
#: (which even accept 3000 items) and libcbv2g's LOOP grammars. The schemas' other bounds
#: (2 to 128) are unrolled, as EXIficient does. The item count is still limited to maxOccurs:
#: the tables carry it per list (emit.py) and the codec enforces it both ways.
LOOP_FROM = 1024

# Event: (group, order key, payload). Groups in event-code order.
AT, SE, SE_ANY, EE, CH = 0, 2, 4, 5, 6
Event = tuple[int, tuple[object, ...], object]


@dataclass
class _NState:
    """A proto-grammar non-terminal: terminal edges and epsilon edges."""

    edges: list[tuple[Event, "_NState"]] = field(default_factory=list)
    eps: list["_NState"] = field(default_factory=list)


@dataclass
class State:
    """A normalised non-terminal: (event, next state index or -1 after EE) in code order."""

    productions: list[tuple[Event, int]]


class _Builder:
    def __init__(self, schemas: SchemaSet) -> None:
        self.schemas = schemas
        self.states: list[_NState] = []
        self.order: dict[int, int] = {}

    def new(self) -> _NState:
        state = _NState()
        self.states.append(state)
        return state

    def number(self, particle: Particle) -> None:
        if particle.kind == "element":
            self.order[id(particle)] = len(self.order)
        for child in particle.children:
            self.number(child)

    def particle(self, p: Particle, nxt: _NState) -> _NState:
        if p.max_occurs is None or p.max_occurs >= LOOP_FROM:
            loop = self.new()
            loop.eps = [self.term(p, loop), nxt]
            chain = loop
        else:
            chain = nxt
            for _ in range(p.max_occurs - p.min_occurs):
                optional = self.new()
                optional.eps = [self.term(p, chain), nxt]
                chain = optional
        for _ in range(p.min_occurs):
            chain = self.term(p, chain)
        return chain

    def term(self, p: Particle, nxt: _NState) -> _NState:
        start = self.new()
        if p.kind == "element":
            assert p.element is not None
            is_global = self.schemas.elements.get(p.element.qname) is p.element
            members = self.schemas.substitutes(p.element) if is_global else [p.element]
            for index, member in enumerate(members):
                key = (self.order[id(p)], index)
                start.edges.append(((SE, key, member), nxt))
        elif p.kind == "any":
            start.edges.append(((SE_ANY, (), p.wildcard), nxt))
        elif p.kind == "sequence":
            chain = nxt
            for child in reversed(p.children):
                chain = self.particle(child, chain)
            start.eps = [chain]
        else:
            start.eps = [self.particle(child, nxt) for child in p.children]
        return start


def _closure(states: frozenset[int], nfa: list[_NState], index: dict[int, int]) -> frozenset[int]:
    todo = list(states)
    seen = set(states)
    while todo:
        for target in nfa[todo.pop()].eps:
            t = index[id(target)]
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return frozenset(seen)


def _event_key(event: Event) -> tuple[object, ...]:
    group, key, payload = event
    if group == AT:
        assert isinstance(payload, Attribute)
        return (group, payload.qname[1], payload.qname[0])
    return (group, *key)


def type_grammar(schemas: SchemaSet, ctype: ComplexType) -> list[State]:
    """The normalised, code-assigned grammar of a complex type (start state first)."""
    builder = _Builder(schemas)
    end = builder.new()
    if ctype.content == "simple":
        content = builder.new()
        content.edges.append(((CH, (), ctype.simple), end))
    elif ctype.content == "particle" and ctype.particle is not None:
        builder.number(ctype.particle)
        content = builder.particle(ctype.particle, end)
    else:
        content = end
    if ctype.mixed:
        for state in builder.states:
            state.edges.append(((CH, (), None), state))
    start = content
    for attribute in sorted(ctype.attributes, key=lambda a: (a.qname[1], a.qname[0]), reverse=True):
        state = builder.new()
        state.edges.append(((AT, (), attribute), start))
        if not attribute.required:
            state.eps.append(start)
        start = state
    nfa = builder.states
    index = {id(s): i for i, s in enumerate(nfa)}
    end_index = index[id(end)]
    first = _closure(frozenset([index[id(start)]]), nfa, index)
    numbering: dict[frozenset[int], int] = {first: 0}
    todo = [first]
    raw: list[list[tuple[Event, frozenset[int] | None]]] = []
    while todo:
        current = todo.pop(0)
        moves: dict[tuple[object, ...], tuple[Event, set[int]]] = {}
        for s in sorted(current):
            for event, target in nfa[s].edges:
                key = _event_key(event) if event[0] != SE else (SE, _qname_of(event))
                if key in moves:
                    old_event, targets = moves[key]
                    if _event_key(event) < _event_key(old_event):
                        moves[key] = (event, targets)
                    targets.add(index[id(target)])
                else:
                    moves[key] = (event, {index[id(target)]})
        productions: list[tuple[Event, frozenset[int] | None]] = []
        for event, targets in moves.values():
            closed = _closure(frozenset(targets), nfa, index)
            if closed not in numbering:
                numbering[closed] = len(numbering)
                todo.append(closed)
            productions.append((event, closed))
        if end_index in current:
            productions.append(((EE, (), None), None))
        productions.sort(key=lambda p: _event_key(p[0]))
        raw.append(productions)
    order = sorted(numbering, key=lambda k: numbering[k])
    assert order[0] == first
    states: list[State] = []
    for productions in raw:
        states.append(
            State(
                [
                    (event, -1 if target is None else numbering[target])
                    for event, target in productions
                ]
            )
        )
    return states


def _qname_of(event: Event) -> QName:
    payload = event[2]
    assert isinstance(payload, ElementDecl)
    return payload.qname
