# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet's settings: the ``profinet`` section of /etc/ccy/config.yaml, typed.

Every key is declared once, with its bounds and meaning, in config/manifests/profinet.yaml;
``Section.bind`` fills this class (``_ms`` keys are ``_s`` fields in seconds; ``mode`` is the
contract's UnitMode). tests/config/test_config_binding.py checks the class against the
manifest. ``stage_config`` turns the ``sim_*`` keys into the simulated model's configuration.
"""

from dataclasses import dataclass
from typing import ClassVar

from ccy.profinet.contract import UnitMode
from ccy.profinet.dcp.names import station_name_problem
from ccy.profinet.stage.load import EvLoad
from ccy.profinet.stage.model import Limits, StageConfig
from ccy.runtime.config import ConfigError, ConfigProblem, Section
from ccy.runtime.paths import Paths


@dataclass(frozen=True)
class ProfinetSettings:
    SECTION: ClassVar[str] = "profinet"

    mode: UnitMode
    interface: str
    station_name: str
    min_cycle_time_s: float
    reconnect_grace_s: float
    reconnect_current_A: float
    lease_s: float
    stage_tick_s: float
    over_current_margin_pct: float
    self_test_timeout_s: float
    sim_voltage_slew_Vps: float
    sim_discharge_Vps: float
    sim_current_slew_Aps: float
    sim_isolation_delay_s: float
    sim_isolation_ohm: float
    sim_imd_installed: bool
    sim_max_voltage_V: float
    sim_min_voltage_V: float
    sim_max_current_A: float
    sim_min_current_A: float
    sim_max_power_W: float
    sim_ev_ocv_V: float
    sim_ev_resistance_ohm: float

    @classmethod
    def from_section(cls, section: Section, paths: Paths) -> "ProfinetSettings":
        """The settings of a loaded ``profinet`` section; ConfigError (exit 78) for a station
        name the manifest's pattern lets through but DCP forbids (IPv4-looking, port-xyz)."""
        settings = section.bind(cls, paths)
        problem = station_name_problem(settings.station_name, allow_empty=True)
        if problem is not None:
            key = "station_name"
            where = ConfigProblem(
                section.file or "<defaults>",
                section.lines.get(key, 0),
                f"{section.name}.{key}",
                f"{settings.station_name!r} is not a NameOfStation: {problem}",
            )
            raise ConfigError([where])
        return settings

    def stage_config(self) -> StageConfig:
        """The simulated power stage's configuration (mode simulated)."""
        return StageConfig(
            limits=Limits(
                max_voltage_v=self.sim_max_voltage_V,
                min_voltage_v=self.sim_min_voltage_V,
                max_current_a=self.sim_max_current_A,
                min_current_a=self.sim_min_current_A,
                max_power_w=self.sim_max_power_W,
            ),
            slew_v_per_s=self.sim_voltage_slew_Vps,
            discharge_v_per_s=self.sim_discharge_Vps,
            current_slew_a_per_s=self.sim_current_slew_Aps,
            lease_s=self.lease_s,
            isolation_ohm=self.sim_isolation_ohm,
            isolation_delay_s=self.sim_isolation_delay_s,
            imd_installed=self.sim_imd_installed,
        )

    def ev_load(self) -> EvLoad:
        return EvLoad(ocv_v=self.sim_ev_ocv_V, resistance_ohm=self.sim_ev_resistance_ohm)
