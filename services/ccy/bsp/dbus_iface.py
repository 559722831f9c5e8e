# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Bsp1 on the bus: handlers forward to the unit's glue in a line or two.

Contract: dbus/org.ccy.Bsp1.xml (tests/bus/test_contract.py compares the running service
with it). The state properties are generated from :data:`ccy.bsp.properties.BSP_TABLE` (one
spelling of each name); PropertiesChanged comes from the unit's StatePublisher, and the
CeChanged/IdChanged signals from the same state diff. A refused command is the named error
``org.ccy.Error.<kind>`` of :class:`ccy.bsp.effects.CommandRefused`; anything unexpected is
``org.ccy.Error.Failed`` (logged with its traceback), never a Python exception name.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol, TypeVar

from dbus_fast import introspection as intr
from dbus_fast.annotations import DBusBool, DBusDouble, DBusSignature, DBusStr
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import dbus_property, method, signal

from ccy.bsp.contract import CONTRACT, IFACE
from ccy.bsp.properties import BSP_TABLE
from ccy.bsp.state import BspState
from ccy.runtime import bus
from ccy.runtime.state_iface import StateInterface, export_state

Statistics = Annotated[dict[str, int], DBusSignature("a{st}")]
Transition = Annotated[list[str], DBusSignature("ss")]

_NOT_EMITTED = frozenset({"LinkStatistics"})
_EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
T = TypeVar("T")


class BspCommands(Protocol):
    """What the interface's methods call (the unit's glue runs each as one input)."""

    def enable(self, on: bool) -> None: ...
    def set_ccs_ready(self, value: str) -> None: ...
    def allow_power_on(self, allow: bool) -> None: ...
    async def reset(self) -> None: ...
    def identify(self, duration_s: float) -> None: ...
    def link_statistics(self) -> dict[str, int]: ...


@export_state(BSP_TABLE)
class BspInterface(StateInterface[BspState]):
    def __init__(
        self, read_state: Callable[[], BspState], commands: BspCommands, log: logging.Logger
    ) -> None:
        super().__init__(IFACE, read_state, CONTRACT)
        self._commands = commands
        self._log = log

    def introspect(self) -> intr.Interface:
        """The generated introspection plus what the XML carries beside it: the contract's
        org.ccy.Enum annotations, signal argument names and error catalogue, and
        EmitsChangedSignal=false where the XML says so."""
        iface = super().introspect()
        for prop in iface.properties:
            if prop.name in _NOT_EMITTED:
                prop.annotations[_EMITS] = "false"
        return iface

    # ---------------------------------------------------------------- methods
    @method(name="Enable")
    def enable(self, enable: DBusBool) -> None:
        self._call(lambda: self._commands.enable(enable))

    @method(name="SetCcsReady")
    def set_ccs_ready(self, state: DBusStr) -> None:
        self._call(lambda: self._commands.set_ccs_ready(state))

    @method(name="AllowPowerOn")
    def allow_power_on(self, allow: DBusBool) -> None:
        self._call(lambda: self._commands.allow_power_on(allow))

    @method(name="ResetSafetyController")
    async def reset_safety_controller(self) -> None:
        await self._await(self._commands.reset())

    @method(name="Identify")
    def identify(self, duration_s: DBusDouble) -> None:
        self._call(lambda: self._commands.identify(duration_s))

    def _call(self, action: Callable[[], T]) -> T:
        return bus.answer(action, self._log, IFACE)

    async def _await(self, action: Awaitable[None]) -> None:
        await bus.answer_async(action, self._log, IFACE)

    # ---------------------------------------------------------------- signals
    @signal(name="CeChanged")
    def ce_changed(self, old: str, new: str) -> Transition:
        return [old, new]

    @signal(name="IdChanged")
    def id_changed(self, old: str, new: str) -> Transition:
        return [old, new]

    # ---------------------------------------------------------------- not state
    @dbus_property(access=PropertyAccess.READ, name="LinkStatistics")
    def link_statistics(self) -> Statistics:
        return self._commands.link_statistics()
