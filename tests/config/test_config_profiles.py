# SPDX-License-Identifier: Apache-2.0
"""The shipped profiles (config/profiles/*.yaml) validate and say what they should."""

from pathlib import Path

import pytest

from ccy.runtime.config import Manifest, load_config
from ccy.runtime.paths import profiles_dir
from ccy.sim.layout import LED_NAMES

PROFILES = sorted(profiles_dir().glob("*.yaml"))


def test_the_board_and_simulator_profiles_exist() -> None:
    assert {p.name for p in PROFILES} >= {"ccy.yaml", "sim.yaml"}


@pytest.mark.parametrize("path", PROFILES, ids=[p.name for p in PROFILES])
def test_profile_validates(path: Path, installed: dict[str, Manifest]) -> None:
    config = load_config(path, installed)
    assert "bsp" in config.in_file
    assert path.read_text().startswith("# SPDX-License-Identifier: Apache-2.0\n")


def test_board_profile_is_the_defaults(installed: dict[str, Manifest]) -> None:
    bsp = load_config(profiles_dir() / "ccy.yaml", installed).section("bsp")
    assert dict(bsp) == installed["bsp"].defaults()


def test_simulator_profile_drives_the_simulated_parts(installed: dict[str, Manifest]) -> None:
    bsp = load_config(profiles_dir() / "sim.yaml", installed).section("bsp")
    assert bsp["reset_line_driver"] == "file"
    assert bsp["reset_line_file"] == "/run/ccy/sim/mcu-reset"
    assert bsp["serial_port"] == "/dev/ttyLP2"
    leds = [bsp[f"led_{name}_path"] for name in ("status", "charging", "error")]
    assert all(led.startswith("/sys/class/leds/") for led in leds)
    assert leds == [f"/sys/class/leds/{name}" for name in LED_NAMES]  # what the stack lays out
