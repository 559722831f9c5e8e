# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Bsp1 on the bus: handlers forward to the core in a line or two.

Contract: dbus/org.ccy.Bsp1.xml (tests/bus/test_contract.py compares the running service
with it). The interface also implements the core's events port: state changes become
PropertiesChanged, CE/ID transitions the CeChanged/IdChanged signals.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from dbus_fast import introspection as intr
from dbus_fast.annotations import DBusBool, DBusDouble, DBusSignature, DBusStr
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method, signal

from ccy.bsp.core import BspCore, CommandRefused
from ccy.runtime import bus

Temperatures = Annotated[list[list[object]], DBusSignature("a(sds)")]
Statistics = Annotated[dict[str, int], DBusSignature("a{st}")]
Transition = Annotated[list[str], DBusSignature("ss")]

_NOT_EMITTED = frozenset({"LinkStatistics"})
_EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"


class BspInterface(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.ccy.Bsp1")
        self._core: BspCore | None = None
        self._reset: Callable[[], Awaitable[None]] | None = None
        self._stats: Callable[[], dict[str, int]] = dict

    def attach(
        self,
        core: BspCore,
        reset: Callable[[], Awaitable[None]] | None,
        stats: Callable[[], dict[str, int]],
    ) -> None:
        self._core, self._reset, self._stats = core, reset, stats

    def introspect(self) -> intr.Interface:
        """The decorators' introspection plus EmitsChangedSignal=false where the XML says so."""
        iface = super().introspect()
        for prop in iface.properties:
            if prop.name in _NOT_EMITTED:
                prop.annotations[_EMITS] = "false"
        return iface

    @property
    def core(self) -> BspCore:
        assert self._core is not None, "attach() first"
        return self._core

    # ---------------------------------------------------------------- events port
    def changed(self, prop: str, value: object) -> None:
        if prop not in _NOT_EMITTED:
            self.emit_properties_changed({prop: value})

    # ---------------------------------------------------------------- methods
    @method(name="Enable")
    def enable(self, enable: DBusBool) -> None:
        self.core.enable(enable)

    @method(name="SetCcsReady")
    def set_ccs_ready(self, state: DBusStr) -> None:
        self._call(lambda: self.core.set_ccs_ready(state, time.monotonic()))

    @method(name="AllowPowerOn")
    def allow_power_on(self, allow: DBusBool) -> None:
        self._call(lambda: self.core.allow_power_on(allow))

    @method(name="ResetSafetyController")
    async def reset_safety_controller(self) -> None:
        if self._reset is None:
            raise bus.error(bus.NOT_SUPPORTED, "no reset line configured (reset_line_driver)")
        try:
            await self._reset()
        except OSError as exc:
            raise bus.error(bus.FAILED, f"reset failed: {exc}") from exc

    @staticmethod
    def _call(action: Callable[[], None]) -> None:
        try:
            action()
        except CommandRefused as exc:
            raise bus.error(bus.ERROR_PREFIX + exc.kind, str(exc)) from exc

    # ---------------------------------------------------------------- signals
    @signal(name="CeChanged")
    def ce_changed(self, old: str, new: str) -> Transition:
        return [old, new]

    @signal(name="IdChanged")
    def id_changed(self, old: str, new: str) -> Transition:
        return [old, new]

    # ---------------------------------------------------------------- properties
    @dbus_property(access=PropertyAccess.READ, name="LinkUp")
    def link_up(self) -> DBusBool:
        return self.core.state.link_up

    @dbus_property(access=PropertyAccess.READ, name="CeState")
    def ce_state(self) -> DBusStr:
        return self.core.state.ce.value

    @dbus_property(access=PropertyAccess.READ, name="CpState")
    def cp_state(self) -> DBusStr:
        return self.core.state.cp

    @dbus_property(access=PropertyAccess.READ, name="IdState")
    def id_state(self) -> DBusStr:
        return self.core.state.id.value

    @dbus_property(access=PropertyAccess.READ, name="EmergencyStop")
    def emergency_stop(self) -> DBusStr:
        return self.core.state.estop.value

    @dbus_property(access=PropertyAccess.READ, name="SafeState")
    def safe_state(self) -> DBusStr:
        return self.core.state.safe_state.value

    @dbus_property(access=PropertyAccess.READ, name="Temperatures")
    def temperatures(self) -> Temperatures:
        return self.core.temperature_structs()

    @dbus_property(access=PropertyAccess.READ, name="DeratingFactor")
    def derating_factor(self) -> DBusDouble:
        return self.core.state.derating_factor

    @dbus_property(access=PropertyAccess.READ, name="FirmwareVersion")
    def firmware_version(self) -> DBusStr:
        return self.core.state.firmware_version

    @dbus_property(access=PropertyAccess.READ, name="FirmwarePlatform")
    def firmware_platform(self) -> DBusStr:
        return self.core.state.firmware_platform

    @dbus_property(access=PropertyAccess.READ, name="FirmwareApplication")
    def firmware_application(self) -> DBusStr:
        return self.core.state.firmware_application

    @dbus_property(access=PropertyAccess.READ, name="GitHash")
    def git_hash(self) -> DBusStr:
        return self.core.state.git_hash

    @dbus_property(access=PropertyAccess.READ, name="Enabled")
    def enabled(self) -> DBusBool:
        return self.core.state.enabled

    @dbus_property(access=PropertyAccess.READ, name="CcsReady")
    def ccs_ready(self) -> DBusStr:
        return self.core.state.ccs_ready.value

    @dbus_property(access=PropertyAccess.READ, name="PowerOnAllowed")
    def power_on_allowed(self) -> DBusBool:
        return self.core.state.power_on_allowed

    @dbus_property(access=PropertyAccess.READ, name="LinkStatistics")
    def link_statistics(self) -> Statistics:
        return self._stats()
