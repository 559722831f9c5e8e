# SPDX-License-Identifier: Apache-2.0
"""A client of org.ccy.Profinet1 and org.ccy.PowerStage1 (+ their org.ccy.Errors1), for ccyctl.

Built from the committed contract XML (dbus/), so client and service are checked against the
same text.
"""

from typing import Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus

from ccy.profinet.contract import (
    BUS_NAME,
    ERRORS_IFACE,
    IFACE,
    OBJECT_PATH,
    PROFINET_IFACE,
    PROFINET_OBJECT_PATH,
)
from ccy.runtime.client import PROPERTIES, contract_node


class _Object:
    def __init__(self, bus: MessageBus, path: str, iface: str) -> None:
        node = contract_node(iface, ERRORS_IFACE, PROPERTIES)
        obj = bus.get_proxy_object(BUS_NAME, path, node)
        self.iface_name = iface
        self.main: Any = obj.get_interface(iface)
        self.errors: Any = obj.get_interface(ERRORS_IFACE)
        self.props: Any = obj.get_interface(PROPERTIES)

    async def get_all(self) -> dict[str, Any]:
        values: dict[str, Variant] = await self.props.call_get_all(self.iface_name)
        return {k: v.value for k, v in values.items()}

    async def active_errors(self) -> list[list[Any]]:
        errors: list[list[Any]] = await self.errors.get_active_errors()
        return errors


class ProfinetClient:
    def __init__(self, bus: MessageBus) -> None:
        self.profinet = _Object(bus, PROFINET_OBJECT_PATH, PROFINET_IFACE)
        self.stage = _Object(bus, OBJECT_PATH, IFACE)

    async def reset_station(self) -> None:
        await self.profinet.main.call_reset_station()
