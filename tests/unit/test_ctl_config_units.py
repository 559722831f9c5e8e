# SPDX-License-Identifier: Apache-2.0
"""Pure parts of ``ccyctl config apply``: section diff, unit discovery, restart decision."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ccy
from ccy.ctl.config_units import changed_sections, section_units, units_to_restart
from ccy.ctl.unit_restart import decide
from ccy.runtime.config import Config, load_config


def _config(tmp_path: Path, name: str, text: str) -> Config:
    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


def test_only_sections_whose_effective_values_differ(tmp_path: Path) -> None:
    defaults = Config.defaults()
    explicit_default = _config(tmp_path, "a.yaml", "bsp:\n  serial_baud_Bd: 115200\n")
    other = _config(tmp_path, "b.yaml", "bsp:\n  serial_baud_Bd: 57600\n")
    assert changed_sections(defaults, explicit_default) == []  # same values, other spelling
    assert changed_sections(defaults, other) == ["bsp"]
    assert changed_sections(other, other) == []


def test_bsp_binds_ccy_bsp() -> None:
    assert section_units()["bsp"] == ("ccy-bsp",)


def test_units_for_sections() -> None:
    change = units_to_restart(["bsp", "orphan"], {"bsp": ("ccy-bsp",), "x": ("ccy-x",)})
    assert change.units == ("ccy-bsp",)
    assert change.unbound == ("orphan",)
    assert units_to_restart([], {"bsp": ("ccy-bsp",)}).units == ()


NEW_UNIT = """\
from ccy.runtime.contract import UnitContract

CONTRACT = UnitContract(
    unit="ccy-zzdemo", bus_name="org.ccy.Zzdemo", object_path="/org/ccy/Zzdemo",
    interfaces=("org.ccy.Zzdemo1",),
)
"""


@pytest.fixture
def new_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A unit package ccy.zzdemo with only a contract module, found through ccy.__path__."""
    package = tmp_path / "zzdemo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "contract.py").write_text(NEW_UNIT)
    monkeypatch.setattr(ccy, "__path__", [*ccy.__path__, str(tmp_path)])
    yield
    for name in ("ccy.zzdemo.contract", "ccy.zzdemo"):
        sys.modules.pop(name, None)


def test_a_new_unit_is_discovered_from_its_contract(new_unit: None) -> None:
    found = section_units()
    assert found["zzdemo"] == ("ccy-zzdemo",)
    assert found["bsp"] == ("ccy-bsp",)


@pytest.mark.parametrize(
    ("units", "active", "now", "restart"),
    [
        (("ccy-bsp",), False, False, True),
        (("ccy-bsp",), True, False, False),
        (("ccy-bsp",), None, False, False),  # unknown counts as active
        (("ccy-bsp",), True, True, True),
        ((), False, True, False),
    ],
)
def test_decide(units: tuple[str, ...], active: bool | None, now: bool, restart: bool) -> None:
    assert decide(units, active, now).restart is restart
