# SPDX-License-Identifier: Apache-2.0
"""The ``profinet`` section bound to ProfinetSettings: defaults, the simulated stage's
configuration, and a station name DCP forbids refused with file:line (the unit exits 78)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccy.profinet.contract import UnitMode
from ccy.profinet.settings import ProfinetSettings
from ccy.runtime.config import Config, ConfigError, load_config
from ccy.runtime.paths import Paths

ROOT = Paths(Path("/srv/root"))


def test_defaults_are_the_board_and_the_seed() -> None:
    s = ProfinetSettings.from_section(Config.defaults().section("profinet"), ROOT)
    assert s.mode is UnitMode.PLC and s.interface == "eth0" and s.station_name == ""
    assert s.lease_s == 1.0 and s.min_cycle_time_s == 0.008
    stage = s.stage_config()
    assert stage.limits.max_voltage_v == 1250.0 and stage.isolation_delay_s == 0.5
    assert s.ev_load().ocv_v == 800.0


@pytest.mark.parametrize(
    ("name", "why"), [("192.168.0.1", "IPv4"), ("port-001", "port"), ("port-123-45678", "port")]
)
def test_a_forbidden_station_name_is_a_config_error(tmp_path: Path, name: str, why: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"profinet:\n  mode: simulated\n  station_name: {name}\n")
    section = load_config(path).section("profinet")
    with pytest.raises(ConfigError) as err:
        ProfinetSettings.from_section(section, ROOT)
    text = str(err.value)
    assert text.startswith(f"{path}:3: profinet.station_name:"), text
    assert why.lower() in text.lower()


def test_a_valid_name_passes(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("profinet:\n  station_name: line-7.charger-2\n")
    s = ProfinetSettings.from_section(load_config(path).section("profinet"), ROOT)
    assert s.station_name == "line-7.charger-2"


def test_the_unit_exits_78_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "etc/ccy").mkdir(parents=True)
    (tmp_path / "etc/ccy/config.yaml").write_text("profinet:\n  station_name: 10.0.0.1\n")
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'none'}"}
    r = subprocess.run(
        [sys.executable, "-m", "ccy.profinet.main", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 78, r.stderr
    bad = [line for line in r.stderr.splitlines() if "Invalid configuration" in line]
    assert len(bad) == 1 and "profinet.station_name" in bad[0], r.stderr
