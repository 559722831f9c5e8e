# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Errors1 on the bus: a thin face of :class:`ccy.runtime.errors.ErrorRegistry`.

Contract: dbus/org.ccy.Errors1.xml.
"""

from typing import Annotated

from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, signal

from ccy.runtime.errors import ActiveError, ErrorRegistry

ErrorList = Annotated[list[list[object]], DBusSignature("a(ssssx)")]
RaisedArgs = Annotated[list[object], DBusSignature("ssssx")]
ClearedArgs = Annotated[list[object], DBusSignature("ssx")]


class ErrorsInterface(ServiceInterface):
    def __init__(self, registry: ErrorRegistry) -> None:
        super().__init__("org.ccy.Errors1")
        self._registry = registry
        registry.on_raised.append(self._raised)
        registry.on_cleared.append(self._cleared)

    @dbus_property(access=PropertyAccess.READ, name="ActiveErrors")
    def active_errors(self) -> ErrorList:
        return [e.as_struct() for e in self._registry.active()]

    @signal(name="Raised")
    def raised(self, err: ActiveError) -> RaisedArgs:
        return err.as_struct()

    @signal(name="Cleared")
    def cleared(self, err: ActiveError, at_us: int) -> ClearedArgs:
        return [err.type, err.subtype, at_us]

    def _raised(self, err: ActiveError) -> None:
        self.raised(err)
        self._emit_active()

    def _cleared(self, err: ActiveError, at_us: int) -> None:
        self.cleared(err, at_us)
        self._emit_active()

    def _emit_active(self) -> None:
        self.emit_properties_changed({"ActiveErrors": self.active_errors})
