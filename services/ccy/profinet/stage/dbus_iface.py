# SPDX-License-Identifier: Apache-2.0
"""org.ccy.PowerStage1 on the bus: handlers forward to the server's inputs in a line or two.

Contract: dbus/org.ccy.PowerStage1.xml (tests/bus/test_power_stage_bus.py compares the running
simulated server with it). The properties are generated from
:data:`ccy.profinet.stage.properties.POWER_STAGE_TABLE`; PropertiesChanged comes from the
server's StatePublisher. A refused input is ``org.ccy.Error.<kind>`` of
:class:`ccy.profinet.stage.model.Refused`; anything unexpected is ``org.ccy.Error.Failed``
(logged with its traceback), never a Python exception name. SetTarget is a plain handler, so
a call sent with NO_REPLY_EXPECTED (the hot path, contracts.md) is applied and not answered.
"""

import logging
from collections.abc import Callable
from typing import Protocol

from dbus_fast.annotations import DBusDouble, DBusStr
from dbus_fast.service import method

from ccy.profinet.contract import IFACE, POWER_STAGE, Method
from ccy.profinet.stage.model import Snapshot
from ccy.profinet.stage.properties import POWER_STAGE_TABLE
from ccy.runtime import bus
from ccy.runtime.state_iface import StateInterface, export_state


class PowerStageCommands(Protocol):
    """What the interface's methods call (the server runs each as one input)."""

    def set_mode(self, mode: str) -> None: ...
    def set_target(self, voltage: float, current: float) -> None: ...
    def start_self_test(self) -> None: ...


@export_state(POWER_STAGE_TABLE)
class PowerStageInterface(StateInterface[Snapshot]):
    def __init__(
        self, read_state: Callable[[], Snapshot], commands: PowerStageCommands, log: logging.Logger
    ) -> None:
        super().__init__(IFACE, read_state, POWER_STAGE)
        self._commands = commands
        self._log = log

    @method(name=Method.SET_MODE.value)
    def set_mode(self, mode: DBusStr) -> None:
        self._call(lambda: self._commands.set_mode(mode))

    @method(name=Method.SET_TARGET.value)
    def set_target(self, voltage: DBusDouble, current: DBusDouble) -> None:
        self._call(lambda: self._commands.set_target(voltage, current))

    @method(name=Method.START_SELF_TEST.value)
    def start_self_test(self) -> None:
        self._call(self._commands.start_self_test)

    def _call(self, action: Callable[[], None]) -> None:
        bus.answer(action, self._log, IFACE)
