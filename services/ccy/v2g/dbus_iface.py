# SPDX-License-Identifier: Apache-2.0
"""org.ccy.V2g1 on the bus: properties from the table, two read-on-demand properties, and
the V2gMessage signal. No methods (dbus/org.ccy.V2g1.xml)."""

from collections.abc import Callable
from typing import Annotated

from dbus_fast import introspection as intr
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import dbus_property, signal

from ccy.runtime.state_iface import StateInterface, export_state
from ccy.v2g.contract import CONTRACT, IFACE
from ccy.v2g.properties import V2G_TABLE, V2gState

Counters = Annotated[dict[str, int], DBusSignature("a{st}")]
Values = Annotated[dict[str, float], DBusSignature("a{sd}")]
MessageArgs = Annotated[list[str], DBusSignature("ssss")]

_NOT_EMITTED = frozenset({"EvTargets", "MessageCounters"})
_EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"


@export_state(V2G_TABLE)
class V2gInterface(StateInterface[V2gState]):
    def __init__(
        self,
        read_state: Callable[[], V2gState],
        ev_targets: Callable[[], dict[str, float]],
        counters: Callable[[], dict[str, int]],
    ) -> None:
        super().__init__(IFACE, read_state, CONTRACT)
        self._ev_targets = ev_targets
        self._counters = counters

    def introspect(self) -> intr.Interface:
        iface = super().introspect()
        for prop in iface.properties:
            if prop.name in _NOT_EMITTED:
                prop.annotations[_EMITS] = "false"
        return iface

    @signal(name="V2gMessage")
    def v2g_message(self, direction: str, name: str, json: str, exi_hex: str) -> MessageArgs:
        return [direction, name, json, exi_hex]

    @dbus_property(access=PropertyAccess.READ, name="EvTargets")
    def ev_targets(self) -> Values:
        return self._ev_targets()

    @dbus_property(access=PropertyAccess.READ, name="MessageCounters")
    def message_counters(self) -> Counters:
        return self._counters()
