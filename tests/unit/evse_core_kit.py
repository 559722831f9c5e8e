# SPDX-License-Identifier: Apache-2.0
"""Drives the pure ccy-evse core through a session with controlled time: a stand-in for what
ccy-bsp and the power stage show (plain property dicts, as the glue passes them), and the
Evse1 calls ccy-v2g and ccy-auth make. Nothing here is mocked inside the core."""

import dataclasses
import itertools
import logging
import math
from pathlib import Path
from typing import Any

from ccy.evse.core import EvseCore
from ccy.evse.effects import BspCall, Effect, StageMode, StageTarget
from ccy.evse.settings import EvseSettings
from ccy.runtime.config import Config
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.paths import Paths

LOG = logging.getLogger("ccy-evse-test")
STAGE_ALL: dict[str, object] = {
    "Mode": "Off",
    "PresentVoltage": 0.0,
    "PresentCurrent": 0.0,
    "TargetVoltage": 0.0,
    "TargetCurrent": 0.0,
    "IsolationResistance": math.nan,
    "IsolationStatus": "Invalid",
    "SelfTest": "Idle",
    "SupplyReady": True,
    "MaxVoltage": 1250.0,
    "MinVoltage": 50.0,
    "MaxCurrent": 3000.0,
    "MinCurrent": 10.0,
    "MaxPower": 3_750_000.0,
    "MeterEnergy": 0.0,
    "LeaseSeconds": 1.0,
}
BSP_ALL: dict[str, object] = {
    "LinkUp": True,
    "CeState": "A",
    "IdState": "NotConnected",
    "EmergencyStop": "NoStop",
    "SafeState": "Normal",
    "Enabled": False,
    "CcsReady": "NotReady",
    "PowerOnAllowed": False,
    "DeratingFactor": 1.0,
}


def default_settings(**changes: Any) -> EvseSettings:
    section = Config.defaults().section("evse")
    settings = EvseSettings.from_section(section, Paths(Path("/nonexistent")))
    return dataclasses.replace(settings, **changes)


class Kit:
    """One core, its clock (``now``, seconds) and every effect it produced (``fx``)."""

    def __init__(self, **settings: Any) -> None:
        self.now = 100.0
        counter = itertools.count(1)
        self.errors = ErrorRegistry(LOG)
        self.core = EvseCore(
            default_settings(**settings),
            self.errors,
            LOG,
            self.now,
            wall_offset=1_755_000_000.0,
            new_id=lambda: f"id-{next(counter)}",
        )
        self.fx: list[Effect] = []
        self.bsp_done: list[tuple[str, object]] = []
        """Every Bsp1 call ccy-bsp carried out (``obey_bsp``)."""

    # ------------------------------------------------------------ plumbing
    def call(self, name: str, *args: Any) -> Any:
        result = getattr(self.core, name)(self.now, *args)
        self.fx += self.core.drain()
        return result

    def at(self, seconds: float) -> "Kit":
        """Move the clock forward and tick."""
        self.now += seconds
        self.call("tick")
        return self

    def bsp(self, **props: Any) -> None:
        self.call("on_bsp", props)

    def stage(self, **props: Any) -> None:
        self.call("on_stage", props)

    def take(self) -> list[Effect]:
        fx, self.fx = self.fx, []
        return fx

    def bsp_calls(self) -> list[tuple[str, object]]:
        return [(e.method, e.arg) for e in self.fx if isinstance(e, BspCall)]

    def stage_calls(self) -> list[Effect]:
        return [e for e in self.fx if isinstance(e, StageMode | StageTarget)]

    def obey_bsp(self) -> None:
        """ccy-bsp carries out the calls it received (as the real one shows them)."""
        names = {"Enable": "Enabled", "SetCcsReady": "CcsReady", "AllowPowerOn": "PowerOnAllowed"}
        self.bsp_done += self.bsp_calls()
        props = {names[m]: a for m, a in self.bsp_calls()}
        self.fx = [e for e in self.fx if not isinstance(e, BspCall)]
        if props:
            self.bsp(**props)

    def external(self, watts: float) -> None:
        """An external power limit for a minute (NaN: clear it)."""
        self.call("set_external_limits", watts, math.nan, 0.0 if math.isnan(watts) else 60.0)

    @property
    def state(self) -> str:
        return str(self.core.state.state)

    # ------------------------------------------------------------ scenario steps
    def ready(self, meter: float = 0.0) -> None:
        self.call("on_stage_presence", True, {**STAGE_ALL, "MeterEnergy": meter})
        self.call("on_bsp_presence", True, dict(BSP_ALL))
        self.obey_bsp()

    def plug(self, hlc_after: float = 0.0) -> str:
        """ID Connected (CE B0); CE B ``hlc_after`` seconds later (HLC enabled at start)."""
        self.bsp(IdState="Connected", CeState="B0")
        if hlc_after:
            self.at(hlc_after)
        self.bsp(CeState="B")
        return self.core.state.session_id

    def bind(self) -> None:
        self.call(
            "bind_session", "E2804BEFDABADD0C", "[redacted] hash: 1", "urn:iso:std:iso:15118:-20:DC"
        )

    def authorize(self, token_type: str = "RFID") -> None:
        self.call(
            "authorize", self.core.state.session_id, "[redacted] hash: 29F2679CA504908", token_type
        )

    def parameters(self, max_v: float = 1000.0) -> list[float]:
        nan = math.nan
        result: list[float] = self.call(
            "charge_parameters", max_v, nan, 3000.0, nan, 3_000_000.0, nan
        )
        return result

    def cable_check(self, self_test: bool = False) -> None:
        """CE C, then the cable check with the stage following its orders in steps."""
        self.bsp(CeState="C")
        self.call("cable_check")
        self.obey_bsp()  # AllowPowerOn(true)
        self.at(0.1)  # Relay On after contactor_close_time
        self.call("cable_check")
        self.stage(Mode="CableCheck", TargetVoltage=800.0, TargetCurrent=10.0)
        self.at(0.287)
        self.stage(PresentVoltage=800.0)
        if self_test:
            self.stage(SelfTest="Running")
            self.at(0.5)
            self.stage(SelfTest="Passed")
        self.at(0.591)
        self.stage(IsolationResistance=150000.0, IsolationStatus="Valid")
        self.at(0.134)
        self.stage(PresentVoltage=40.0)

    def precharge(self, target: float = 850.0) -> None:
        self.call("pre_charge", target, 2.0)
        self.stage(Mode="PreCharge", PresentVoltage=target - 5)

    def start_charging(self) -> Any:
        self.call("pre_charge", 850.0, 2.0)
        self.call("power_delivery", "Start")
        self.stage(Mode="Charge")
        self.at(0.533)
        return self.call("charge_loop", 850.0, 100.0, math.nan, math.nan, math.nan, 845.0, 50.0)

    def to_charging(self) -> Any:
        self.ready()
        self.at(0.5)
        self.plug(hlc_after=0.688)
        self.bind()
        self.at(0.012)
        self.authorize()
        self.parameters()
        self.call("schedule", "Dynamic", math.nan)
        self.at(0.748)
        self.cable_check()
        self.precharge()
        return self.start_charging()
