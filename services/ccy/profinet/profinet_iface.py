# SPDX-License-Identifier: Apache-2.0
"""org.ccy.Profinet1 on the bus: handlers forward to the unit in a line.

Contract: dbus/org.ccy.Profinet1.xml (tests/bus/test_profinet_bus.py compares the running
unit with it). State properties come from :data:`ccy.profinet.unit_state.PROFINET_TABLE`;
CycleStatistics is read live and not emitted. A refusal is ``org.ccy.Error.<kind>``.
"""

import logging
from collections.abc import Callable
from typing import Annotated, Protocol

from dbus_fast import introspection as intr
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.errors import DBusError
from dbus_fast.service import dbus_property, method

from ccy.profinet.contract import CONTRACT, PROFINET_IFACE, ProfinetMethod, ProfinetProp
from ccy.profinet.unit_state import PROFINET_TABLE, ProfinetState
from ccy.runtime import bus
from ccy.runtime.state_iface import StateInterface, export_state

_EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
Statistics = Annotated[dict[str, int], DBusSignature("a{st}")]


class Refusal(Exception):
    """A Profinet1 command refused: ``kind`` is the org.ccy.Error suffix."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ProfinetCommands(Protocol):
    def reset_station(self) -> None: ...
    def cycle_statistics(self) -> dict[str, int]: ...


@export_state(PROFINET_TABLE)
class ProfinetInterface(StateInterface[ProfinetState]):
    def __init__(
        self,
        read_state: Callable[[], ProfinetState],
        commands: ProfinetCommands,
        log: logging.Logger,
    ) -> None:
        super().__init__(PROFINET_IFACE, read_state, CONTRACT)
        self._commands = commands
        self._log = log

    def introspect(self) -> intr.Interface:
        """The generated introspection with the contract's annotations (StateInterface) and
        EmitsChangedSignal=false on CycleStatistics, as the XML says."""
        iface = super().introspect()
        for prop in iface.properties:
            if prop.name == ProfinetProp.CYCLE_STATISTICS:
                prop.annotations[_EMITS] = "false"
        return iface

    @method(name=ProfinetMethod.RESET_STATION.value)
    def reset_station(self) -> None:
        try:
            self._commands.reset_station()
        except Refusal as exc:
            raise bus.error(bus.ERROR_PREFIX + exc.kind, str(exc)) from exc
        except DBusError:
            raise
        except Exception as exc:
            self._log.exception("%s.ResetStation failed", PROFINET_IFACE)
            raise bus.error(bus.FAILED, f"internal error: {exc}") from exc

    @dbus_property(access=PropertyAccess.READ, name=ProfinetProp.CYCLE_STATISTICS.value)
    def cycle_statistics(self) -> Statistics:
        return self._commands.cycle_statistics()
