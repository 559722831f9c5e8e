# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Errors1 on the bus: a thin face of :class:`ccy.runtime.errors.ErrorRegistry`.

Contract: dbus/org.ccy.Errors1.xml. ``Raised``/``Cleared`` go out as they happen;
``ActiveErrors`` is a state property (:data:`ERRORS_TABLE`). A unit that runs its inputs
through a :class:`ccy.runtime.state.StatePublisher` adds that table to it
(:func:`publish_errors`), so the errors of one input arrive in one PropertiesChanged together
with the unit's own properties; standalone, the interface emits it on every change.
"""

from typing import Annotated

from dbus_fast.annotations import DBusSignature
from dbus_fast.service import signal

from ccy.runtime.contract import ERRORS_IFACE
from ccy.runtime.errors import ActiveError, ErrorRegistry
from ccy.runtime.state import Prop, PropertyTable, StatePublisher
from ccy.runtime.state_iface import StateInterface, export_state

RaisedArgs = Annotated[list[object], DBusSignature("ssssx")]
ClearedArgs = Annotated[list[object], DBusSignature("ssx")]

ERRORS_TABLE: PropertyTable[ErrorRegistry] = PropertyTable(
    ERRORS_IFACE,
    (Prop("ActiveErrors", "a(ssssx)", lambda r: [e.as_struct() for e in r.active()]),),
)


@export_state(ERRORS_TABLE)
class ErrorsInterface(StateInterface[ErrorRegistry]):
    def __init__(self, registry: ErrorRegistry, emit_active: bool = True) -> None:
        super().__init__(ERRORS_IFACE, lambda: registry)
        self._registry = registry
        self._emit_active = emit_active
        registry.on_raised.append(self._raised)
        registry.on_cleared.append(self._cleared)

    @signal(name="Raised")
    def raised(self, err: ActiveError) -> RaisedArgs:
        return err.as_struct()

    @signal(name="Cleared")
    def cleared(self, err: ActiveError, at_us: int) -> ClearedArgs:
        return [err.type, err.subtype, at_us]

    def _raised(self, err: ActiveError) -> None:
        self.raised(err)
        self._changed()

    def _cleared(self, err: ActiveError, at_us: int) -> None:
        self.cleared(err, at_us)
        self._changed()

    def _changed(self) -> None:
        if self._emit_active:
            self.emit_properties_changed(ERRORS_TABLE.read_all(self._registry))


def publish_errors(
    publisher: StatePublisher, registry: ErrorRegistry, iface: ErrorsInterface
) -> None:
    """Let ``publisher`` emit ActiveErrors, once per input (``iface`` built with
    ``emit_active=False``)."""
    publisher.add(ERRORS_TABLE, lambda: registry, iface.emit_properties_changed)
