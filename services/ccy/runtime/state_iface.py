# SPDX-License-Identifier: Apache-2.0
"""The dbus-fast side of :mod:`ccy.runtime.state`: properties generated from a PropertyTable.

``@export_state(TABLE)`` on a ServiceInterface subclass adds one read-only D-Bus property per
table entry; its getter reads ``self.state()`` through the same entry the publisher diffs, so
a property name, its signature and its conversion are spelled once per unit. Get/GetAll
therefore always show the live state; PropertiesChanged comes from the publisher.

A :class:`StateInterface` also introspects as its contract XML does: it adds the unit
contract's org.ccy.Enum annotations, signal argument names and error catalogue
(:func:`ccy.runtime.contract_xml.add_enum_annotations`; without a contract, those of the
shared org.ccy.Errors1), so no unit can forget them.
"""

import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from dbus_fast import introspection as intr
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property

from ccy.runtime.contract import UnitContract
from ccy.runtime.contract_xml import add_enum_annotations
from ccy.runtime.state import Prop, PropertyTable

S = TypeVar("S")
C = TypeVar("C", bound=type[ServiceInterface])


class StateInterface(ServiceInterface, Generic[S]):
    """A ServiceInterface whose state-driven properties read ``read_state()`` and whose
    introspection carries what ``contract``'s XML carries beside the members."""

    def __init__(
        self, name: str, read_state: Callable[[], S], contract: UnitContract | None = None
    ) -> None:
        """``contract`` None: only what every unit's org.ccy.Errors1 carries."""
        super().__init__(name)
        self._read_state = read_state
        self._contract = contract

    def state(self) -> S:
        return self._read_state()

    def introspect(self) -> intr.Interface:
        return add_enum_annotations(super().introspect(), self._contract)


def _attribute(name: str) -> str:
    return "_state_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _property(prop: Prop[Any]) -> Any:
    def getter(self: StateInterface[Any]) -> Any:
        return prop.read(self.state())

    getter.__name__ = _attribute(prop.name)
    getter.__qualname__ = getter.__name__
    getter.__annotations__ = {"return": prop.signature}
    return dbus_property(access=PropertyAccess.READ, name=prop.name)(getter)


def export_state(table: PropertyTable[S]) -> Callable[[C], C]:
    """Class decorator: add ``table``'s properties to a :class:`StateInterface` subclass."""

    def decorate(cls: C) -> C:
        for prop in table.props:
            attribute = _attribute(prop.name)
            if attribute in vars(cls):
                raise TypeError(f"{cls.__name__} already defines {attribute}")
            setattr(cls, attribute, _property(prop))
        return cls

    return decorate
