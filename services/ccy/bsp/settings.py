# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp's settings: the ``bsp`` section of /etc/ccy/config.yaml, typed.

Every key is declared once, with its bounds and meaning, in config/manifests/bsp.yaml; the
loader has validated the section, and ``Section.bind`` (ccy.runtime.config.binding) fills
this class: field names are the keys, ``_ms`` keys are ``_s`` fields in seconds, paths are
resolved under the root folder ("" LED paths become None), the reset-line driver is a
StrEnum. tests/config/test_config_binding.py checks the class against the manifest.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from ccy.runtime.config import Section
from ccy.runtime.paths import Paths


class ResetLineDriver(StrEnum):
    """How the MCU reset line is driven (manifest key reset_line_driver, same choices)."""

    GPIOCHIP = "gpiochip"
    """The GPIO character device (libgpiod) on the board."""
    FILE = "file"
    """Write "0" then "1" to reset_line_file (sysfs GPIO value file or the simulator's FIFO)."""
    NONE = "none"
    """No reset line wired: resets are refused."""


@dataclass(frozen=True)
class BspSettings:
    SECTION: ClassVar[str] = "bsp"

    serial_port: Path
    serial_baud_Bd: int
    reset_line_driver: ResetLineDriver
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
    def from_section(cls, section: Section, paths: Paths) -> "BspSettings":
        """The settings of a loaded ``bsp`` section (``section.bind(BspSettings, paths)``)."""
        return section.bind(cls, paths)
