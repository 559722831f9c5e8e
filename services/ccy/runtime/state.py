# SPDX-License-Identifier: Apache-2.0
"""State, not vocabulary: a unit's typed state mapped once to D-Bus properties, and diffed.

A core mutates a plain state object and names no bus member. This module holds the one place
where a unit says which state field is which property (:class:`PropertyTable`: property name,
D-Bus signature, getter with its to-wire conversion), and :class:`StatePublisher`, which runs
every input of the unit (a frame, a tick, a command, a peer vanishing) as::

    with publisher.input():      # the values published after the previous input are the
        effects = core.on_x(…)   # snapshot before this one
    # on leaving: compare, emit ONE PropertiesChanged per interface, then call the listeners

So a client never sees half of an input (no torn state: SafeState, EmergencyStop and
PowerOnAllowed of one frame arrive in one signal), and whatever else follows the state (typed
signals, LEDs, the STATUS= line) is derived by listeners from the same :class:`StateDiff`.
A listener or an emitter that raises is logged with its traceback; it neither stops the other
listeners nor reaches the core (issue 9: a failing notification never leaves power allowed).

No bus code here: the dbus-fast side (properties of a ServiceInterface generated from the
same table) is :mod:`ccy.runtime.state_iface`.
"""

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

S = TypeVar("S")

Wire = object
"""A value as dbus-fast sends it for the property's signature (str, bool, float, lists…)."""


@dataclass(frozen=True)
class Prop(Generic[S]):
    """One D-Bus property read from a state object."""

    name: str
    """The D-Bus member name, e.g. ``PowerOnAllowed``."""
    signature: str
    """Its D-Bus type, e.g. ``b`` (as in the contract XML)."""
    read: Callable[[S], Wire]
    """The getter on the state, including the conversion to the wire value."""


@dataclass(frozen=True)
class PropertyTable(Generic[S]):
    """Every state-driven property of one interface, spelled once."""

    interface: str
    props: tuple[Prop[S], ...]

    def __post_init__(self) -> None:
        names = [p.name for p in self.props]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.interface}: a property is listed twice in {names}")

    def prop(self, name: str) -> Prop[S]:
        for p in self.props:
            if p.name == name:
                return p
        raise KeyError(f"{self.interface} has no state property {name!r}")

    def read_all(self, state: S) -> dict[str, Wire]:
        return {p.name: p.read(state) for p in self.props}


@dataclass(frozen=True)
class Change:
    old: Wire
    new: Wire


@dataclass(frozen=True)
class StateDiff:
    """What one input changed: interface → property → (old, new) wire values."""

    changes: Mapping[str, Mapping[str, Change]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.changes.values())

    def get(self, prop: str, interface: str | None = None) -> Change | None:
        """The change of ``prop`` (in ``interface``, or in any), None if it did not change."""
        for iface, props in self.changes.items():
            if (interface is None or iface == interface) and prop in props:
                return props[prop]
        return None

    def touches(self, *props: str) -> bool:
        """True if any of ``props`` changed (in any interface)."""
        return any(self.get(p) is not None for p in props)


Emitter = Callable[[dict[str, Wire]], None]
"""Sends one PropertiesChanged with the given {property: new value}."""
Listener = Callable[[StateDiff], None]


def same(a: Wire, b: Wire) -> bool:
    """Equality of wire values in which NaN equals NaN (an unused PT1000 channel is NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


class _Source(Generic[S]):
    """One interface's table, where its state is read from, and what was published last."""

    def __init__(self, table: PropertyTable[S], read_state: Callable[[], S], emit: Emitter) -> None:
        self.table = table
        self.read_state = read_state
        self.emit = emit
        self.published = table.read_all(read_state())

    def delta(self) -> dict[str, Change]:
        state = self.read_state()
        delta: dict[str, Change] = {}
        for prop in self.table.props:
            old, new = self.published[prop.name], prop.read(state)
            if not same(old, new):
                delta[prop.name] = Change(old, new)
                self.published[prop.name] = new
        return delta


class StatePublisher:
    """Diffs a unit's state around each input and publishes the difference once."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._sources: list[_Source[object]] = []
        self._listeners: list[Listener] = []
        self._depth = 0

    def add(self, table: PropertyTable[S], read_state: Callable[[], S], emit: Emitter) -> None:
        """Publish ``table``'s properties of ``read_state()`` through ``emit``; the values now
        are taken as already known to clients (they read them with Get/GetAll)."""
        self._sources.append(_Source(table, read_state, emit))  # type: ignore[arg-type]

    def listen(self, listener: Listener) -> None:
        """Call ``listener(diff)`` after every input that changed something."""
        self._listeners.append(listener)

    def published(self, interface: str) -> dict[str, Wire]:
        """The values last published for ``interface`` (the snapshot before the next input)."""
        for source in self._sources:
            if source.table.interface == interface:
                return dict(source.published)
        raise KeyError(interface)

    @contextmanager
    def input(self) -> Iterator[None]:
        """Run one input: publish its difference when the block ends, also when it raised
        (what the core changed before an exception is published, never lost). Nested inputs
        publish once, when the outermost ends."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.publish()

    def publish(self) -> StateDiff:
        """Compare the state with what was published; emit and notify the difference."""
        changes: dict[str, Mapping[str, Change]] = {}
        for source in self._sources:
            delta = source.delta()
            if not delta:
                continue
            changes[source.table.interface] = delta
            self._guarded(
                source.emit,
                {name: change.new for name, change in delta.items()},
                f"PropertiesChanged of {source.table.interface}",
            )
        diff = StateDiff(changes)
        if diff:
            for listener in list(self._listeners):
                self._guarded(listener, diff, f"state listener {_name(listener)}")
        return diff

    def _guarded(self, fn: Callable[[S], None], arg: S, what: str) -> None:
        try:
            fn(arg)
        except Exception:
            self._log.exception("%s failed (logged; the core and other listeners go on)", what)


def _name(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or repr(fn))
