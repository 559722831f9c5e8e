# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp's settings: the ``bsp`` section of /etc/ccy/config.yaml, typed.

Every key is declared once, with its bounds and meaning, in config/manifests/bsp.yaml; the
loader has validated the section before this runs. Paths are resolved under the root folder.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccy.runtime.paths import Paths


@dataclass(frozen=True)
class BspSettings:
    serial_port: Path
    serial_baud_Bd: int
    reset_line_driver: str
    reset_line_chip: Path
    reset_line_name: str
    reset_line_file: Path
    reset_pulse_s: float
    startup_wait_s: float
    link_timeout_s: float
    charge_control_period_s: float
    estop_confirm_timeout_s: float
    temperature_publish_period_s: float
    temperature_warning_degC: float
    temperature_derating_start_degC: float
    temperature_derating_end_degC: float
    temperature_channel_names: tuple[str, ...]
    led_status_path: Path | None
    led_charging_path: Path | None
    led_error_path: Path | None
    firmware_inquiry_retries: int
    firmware_inquiry_timeout_s: float

    @classmethod
    def from_section(cls, s: Mapping[str, Any], paths: Paths) -> "BspSettings":
        def led(key: str) -> Path | None:
            value = str(s[key])
            return paths.resolve(value) if value else None

        return cls(
            serial_port=paths.resolve(s["serial_port"]),
            serial_baud_Bd=int(s["serial_baud_Bd"]),
            reset_line_driver=str(s["reset_line_driver"]),
            reset_line_chip=paths.resolve(s["reset_line_chip"]),
            reset_line_name=str(s["reset_line_name"]),
            reset_line_file=paths.resolve(s["reset_line_file"]),
            reset_pulse_s=s["reset_pulse_ms"] / 1000,
            startup_wait_s=s["startup_wait_ms"] / 1000,
            link_timeout_s=s["link_timeout_ms"] / 1000,
            charge_control_period_s=s["charge_control_period_ms"] / 1000,
            estop_confirm_timeout_s=s["estop_confirm_timeout_ms"] / 1000,
            temperature_publish_period_s=s["temperature_publish_period_ms"] / 1000,
            temperature_warning_degC=float(s["temperature_warning_degC"]),
            temperature_derating_start_degC=float(s["temperature_derating_start_degC"]),
            temperature_derating_end_degC=float(s["temperature_derating_end_degC"]),
            temperature_channel_names=tuple(str(n) for n in s["temperature_channel_names"]),
            led_status_path=led("led_status_path"),
            led_charging_path=led("led_charging_path"),
            led_error_path=led("led_error_path"),
            firmware_inquiry_retries=int(s["firmware_inquiry_retries"]),
            firmware_inquiry_timeout_s=s["firmware_inquiry_timeout_ms"] / 1000,
        )
