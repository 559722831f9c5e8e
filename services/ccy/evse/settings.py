# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's settings: the ``evse`` section of /etc/ccy/config.yaml, typed.

Every key is declared once, with bounds, unit and meaning, in config/manifests/evse.yaml;
``section.bind(EvseSettings, paths)`` fills this class (``_ms`` keys are ``_s`` fields in
seconds). The EVSE ID is checked again here against the ISO 15118 format (the manifest's
pattern already refuses most mistakes at ``ccyctl config check``).
"""

from dataclasses import dataclass
from typing import ClassVar

from ccy.evse.evse_id import InvalidEvseId, parse_evse_id
from ccy.evse.limits import Limits
from ccy.runtime.config import ConfigError, Section
from ccy.runtime.config.problems import ConfigProblem
from ccy.runtime.paths import Paths


@dataclass(frozen=True)
class EvseSettings:
    SECTION: ClassVar[str] = "evse"

    evse_id: str
    connector_max_voltage_V: float
    connector_min_voltage_V: float
    connector_max_current_A: float
    connector_min_current_A: float
    connector_max_power_W: float
    grid_connection_limit_W: float
    cable_check_voltage_V: float
    cable_check_current_A: float
    cable_check_voltage_tolerance_V: float
    cable_check_timeout_s: float
    cable_check_isolation_samples: int
    imd_self_test: bool
    imd_self_test_timeout_s: float
    isolation_warning_threshold_ohmPerV: float
    isolation_fault_threshold_ohmPerV: float
    contactor_close_time_s: float
    precharge_current_A: float
    precharge_tolerance_V: float
    precharge_timeout_s: float
    stop_current_threshold_A: float
    stop_current_timeout_s: float
    welding_timeout_s: float
    meter_note_interval_s: float
    session_log_max_count: int
    session_log_max_bytes: int

    @property
    def connector_limits(self) -> Limits:
        return Limits(
            self.connector_max_voltage_V,
            self.connector_min_voltage_V,
            self.connector_max_current_A,
            self.connector_min_current_A,
            self.connector_max_power_W,
        )

    @classmethod
    def from_section(cls, section: Section, paths: Paths) -> "EvseSettings":
        settings = section.bind(cls, paths)
        try:
            parse_evse_id(settings.evse_id)
        except InvalidEvseId as exc:
            raise ConfigError([ConfigProblem("", 0, f"{cls.SECTION}.evse_id", str(exc))]) from None
        return settings
