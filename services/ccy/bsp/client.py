# SPDX-License-Identifier: Apache-2.0
"""A typed client of org.ccy.Bsp1 + org.ccy.Errors1, for ccyctl, the simulator and benchmarks.

Built from the committed contract XML (dbus/), so the client and the service are checked
against the same text.
"""

import re
from collections.abc import Callable
from typing import Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus

from ccy.bsp.contract import BUS_NAME, ERRORS_IFACE, IFACE, OBJECT_PATH
from ccy.runtime.client import PROPERTIES, contract_node


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class BspClient:
    def __init__(self, bus: MessageBus) -> None:
        node = contract_node(IFACE, ERRORS_IFACE, PROPERTIES)
        obj = bus.get_proxy_object(BUS_NAME, OBJECT_PATH, node)
        self._bsp: Any = obj.get_interface(IFACE)
        self._errors: Any = obj.get_interface(ERRORS_IFACE)
        self._props: Any = obj.get_interface(PROPERTIES)

    async def get(self, prop: str) -> Any:
        return await getattr(self._bsp, "get_" + _snake(prop))()

    async def get_all(self) -> dict[str, Any]:
        values: dict[str, Variant] = await self._props.call_get_all(IFACE)
        return {k: v.value for k, v in values.items()}

    async def active_errors(self) -> list[list[Any]]:
        errors: list[list[Any]] = await self._errors.get_active_errors()
        return errors

    async def enable(self, on: bool) -> None:
        await self._bsp.call_enable(on)

    async def set_ccs_ready(self, state: str) -> None:
        await self._bsp.call_set_ccs_ready(state)

    async def allow_power_on(self, allow: bool) -> None:
        await self._bsp.call_allow_power_on(allow)

    async def reset(self) -> None:
        await self._bsp.call_reset_safety_controller()

    def on_ce_changed(self, callback: Callable[[str, str], None]) -> None:
        self._bsp.on_ce_changed(callback)

    def on_id_changed(self, callback: Callable[[str, str], None]) -> None:
        self._bsp.on_id_changed(callback)

    def on_changed(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Call ``callback({property: value})`` on every PropertiesChanged of org.ccy.Bsp1."""

        def handler(iface: str, changed: dict[str, Variant], _invalidated: list[str]) -> None:
            if iface == IFACE:
                callback({k: v.value for k, v in changed.items()})

        self._props.on_properties_changed(handler)
