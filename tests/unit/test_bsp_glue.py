# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp's glue without a bus: one input → one PropertiesChanged, signals from the diff, a
failing listener harmless, refused commands as named D-Bus errors (issues 9 and 10)."""

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface

from ccy.bsp.contract import IFACE
from ccy.bsp.effects import CommandRefused
from ccy.bsp.main import BspUnit
from ccy.bsp.protocol.codes import CeState, EstopReason, IdState, SafeState
from ccy.bsp.protocol.messages import ChargeState2, encode
from ccy.runtime.config import Config
from ccy.runtime.paths import Paths
from ccy.runtime.redact import Redactor
from ccy.runtime.service import UnitContext


class WireRecorder:
    """Stands in for a bus connection: records what the interfaces would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[Any]]] = []

    def _interface_signal_notify(
        self, iface: object, interface: str, member: str, signature: str, body: list[Any], *_: Any
    ) -> None:
        self.sent.append((interface, member, body))


def make_unit(tmp_path: Path) -> tuple[BspUnit, WireRecorder]:
    paths = Paths.from_root(tmp_path)
    ctx = UnitContext(
        "ccy-bsp", paths, Config.defaults(), logging.getLogger("t"), Redactor.for_paths(paths)
    )
    unit = BspUnit(ctx, clock=lambda: 100.0)
    wire = WireRecorder()
    for iface in (unit.iface, unit.errors_iface):
        ServiceInterface._get_buses(iface).add(wire)  # type: ignore[arg-type]
    return unit, wire


def frame(**fields: Any) -> Any:
    return encode(ChargeState2(safe_state=SafeState.NORMAL, **fields))


def changed(wire: WireRecorder, interface: str) -> list[dict[str, Any]]:
    return [
        {k: v.value for k, v in body[1].items()}
        for i, member, body in wire.sent
        if member == "PropertiesChanged" and body[0] == interface
    ]


def charging(unit: BspUnit) -> None:
    unit.enable(True)
    unit._on_frame(frame(ce=CeState.C, id=IdState.CONNECTED))
    unit.allow_power_on(True)
    assert unit.core.state.power_on_allowed


def test_an_estop_frame_is_one_properties_changed_with_power_withdrawn(tmp_path: Path) -> None:
    unit, wire = make_unit(tmp_path)
    charging(unit)
    wire.sent.clear()
    unit._on_frame(frame(ce=CeState.EC, id=IdState.CONNECTED, estop=EstopReason.EMERGENCY_INPUT))
    bsp = changed(wire, IFACE)
    assert len(bsp) == 1  # no torn state: all of one frame in one signal
    assert bsp[0]["PowerOnAllowed"] is False and bsp[0]["EmergencyStop"] == "EmergencyInput"
    assert bsp[0]["CeState"] == "EC"
    assert (IFACE, "CeChanged", ["C", "EC"]) in wire.sent
    assert len(changed(wire, "org.ccy.Errors1")) == 1  # ActiveErrors once, with the E-stop


def test_a_failing_listener_neither_stops_the_signals_nor_reaches_the_core(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unit, wire = make_unit(tmp_path)
    charging(unit)

    def broken(_: object) -> None:
        raise RuntimeError("LED driver bug")

    unit.leds.show = broken  # type: ignore[method-assign]
    wire.sent.clear()
    unit._on_frame(frame(ce=CeState.A, id=IdState.NOT_CONNECTED))  # unplug
    assert unit.core.state.power_on_allowed is False
    assert changed(wire, IFACE)[0]["PowerOnAllowed"] is False
    assert (IFACE, "IdChanged", ["Connected", "NotConnected"]) in wire.sent
    assert any("state listener" in r.getMessage() and r.exc_info for r in caplog.records)
    assert unit.ctx.supervisor.failure is None


def test_a_vanished_power_owner_withdraws_power(tmp_path: Path) -> None:
    unit, wire = make_unit(tmp_path)
    charging(unit)
    unit._on_owner_changed(":1.7", "")
    assert changed(wire, IFACE)[-1]["PowerOnAllowed"] is False


def test_refused_and_failed_commands_are_named_errors(tmp_path: Path) -> None:
    unit, _ = make_unit(tmp_path)
    with pytest.raises(DBusError) as refused:
        unit.iface._call(lambda: unit.allow_power_on(True))
    assert refused.value.type == "org.ccy.Error.NotReady"

    async def failing_reset() -> None:
        raise CommandRefused("Failed", "reset failed: reset line /x: No such file")

    async def buggy() -> None:
        raise RuntimeError("bug")

    with pytest.raises(DBusError) as failed:
        asyncio.run(unit.iface._await(failing_reset()))
    assert failed.value.type == "org.ccy.Error.Failed" and "reset line" in failed.value.text
    with pytest.raises(DBusError) as internal:
        asyncio.run(unit.iface._await(buggy()))
    assert internal.value.type == "org.ccy.Error.Failed"


def test_a_core_failure_on_a_frame_ends_the_unit(tmp_path: Path) -> None:
    unit, _ = make_unit(tmp_path)

    def broken(*_: object) -> list[object]:
        raise ValueError("core bug")

    unit.core.on_message = broken  # type: ignore[method-assign,assignment]
    unit._on_frame(frame(ce=CeState.A))
    assert unit.ctx.supervisor.failure is not None and "core bug" in unit.ctx.supervisor.failure
