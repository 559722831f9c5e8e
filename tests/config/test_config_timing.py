# SPDX-License-Identifier: Apache-2.0
"""The timings safety-link.md fixes stay at the note's values (issue 9).

Reset pulse 5 ms, start-up wait 300 ms, link timeout 1.5 s, ChargeControl2 every 100 ms,
E-stop confirmation within 1 s: the manifest fixes each (min = max = the value), so a config
file with any other value is refused with its file and line. The inquiry timeout only has a
floor: the MCU answers within 30 ms, so a shorter timeout is refused.
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from ccy.runtime.config import Manifest, validate_file

Write = Callable[..., Path]

FIXED_MS = {
    "reset_pulse_ms": 5,
    "startup_wait_ms": 300,
    "link_timeout_ms": 1500,
    "charge_control_period_ms": 100,
    "estop_confirm_timeout_ms": 1000,
}
INQUIRY_ANSWER_MS = 30


@pytest.mark.parametrize(("key", "value"), FIXED_MS.items())
def test_the_manifest_fixes_the_note_value(
    key: str, value: int, installed: dict[str, Manifest]
) -> None:
    spec = installed["bsp"].keys[key]
    assert (spec.default, spec.minimum, spec.maximum, spec.unit) == (value, value, value, "ms")
    assert "safety-link.md" in spec.description


@pytest.mark.parametrize(("key", "value"), FIXED_MS.items())
@pytest.mark.parametrize("delta", [-1, 1])
def test_another_value_is_refused_with_file_and_line(
    key: str, value: int, delta: int, write: Write, installed: dict[str, Manifest]
) -> None:
    path = write(f"# board\nbsp:\n  serial_baud_Bd: 115200\n  {key}: {value + delta}\n")
    assert [str(p) for p in validate_file(path, installed)] == [
        f"{path}:4: bsp.{key}: {value + delta} is not allowed: the value is fixed at {value} ms"
    ]


@pytest.mark.parametrize(("key", "value"), FIXED_MS.items())
def test_the_note_value_itself_is_accepted(
    key: str, value: int, write: Write, installed: dict[str, Manifest]
) -> None:
    assert validate_file(write(f"bsp:\n  {key}: {value}\n"), installed) == []


def test_the_inquiry_timeout_is_at_least_the_answer_time(
    write: Write, installed: dict[str, Manifest]
) -> None:
    spec = installed["bsp"].keys["firmware_inquiry_timeout_ms"]
    assert spec.minimum == INQUIRY_ANSWER_MS
    assert spec.default is not None and spec.default >= INQUIRY_ANSWER_MS
    short = write("bsp:\n  firmware_inquiry_timeout_ms: 29\n")
    assert [str(p) for p in validate_file(short, installed)] == [
        f"{short}:2: bsp.firmware_inquiry_timeout_ms: 29 is below the minimum 30 ms"
    ]
    assert validate_file(write("bsp:\n  firmware_inquiry_timeout_ms: 30\n"), installed) == []


def test_fixed_keys_say_so_in_the_key_table(installed: dict[str, Manifest]) -> None:
    assert installed["bsp"].keys["link_timeout_ms"].bounds_text() == "fixed at 1500"
    assert installed["bsp"].keys["serial_baud_Bd"].bounds_text() == "9600..1000000"
