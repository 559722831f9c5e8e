# SPDX-License-Identifier: Apache-2.0
"""LEDs through LED-class files, and the file/FIFO reset-line driver."""

import asyncio
import logging
import os
import time
from pathlib import Path

import pytest

from ccy.bsp.leds import BoardLeds, Led, LedState, patterns_for
from ccy.bsp.reset_line import FileResetLine, ResetLineError


def led_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ccy:red:status"
    d.mkdir()
    for attr in ("trigger", "brightness", "delay_on", "delay_off"):
        (d / attr).write_text("")
    return d


def test_led_blink_pattern_uses_timer_trigger(tmp_path: Path) -> None:
    d = led_dir(tmp_path)
    led = Led("status", d, logging.getLogger("t"))
    led.show(LedState.LINK_DOWN)
    assert [(d / a).read_text().strip() for a in ("trigger", "delay_on", "delay_off")] == [
        "timer",
        "100",
        "100",
    ]
    led.show(LedState.FAULT)
    assert (d / "trigger").read_text().strip() == "none"
    assert (d / "brightness").read_text().strip() == "1"


def test_missing_led_is_logged_once_and_harmless(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    led = Led("status", tmp_path / "absent", logging.getLogger("t"))
    led.show(LedState.RUNNING)
    led.show(LedState.FAULT)
    assert led.state is None
    assert len([r for r in caplog.records if "cannot be driven" in r.message]) == 1


def test_reset_pulse_on_a_fifo_is_two_time_stamped_lines(tmp_path: Path) -> None:
    fifo = tmp_path / "reset"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        before = time.monotonic()
        asyncio.run(FileResetLine(fifo).pulse(0.005))
        after = time.monotonic()
        (low, t_low), (high, t_high) = (
            line.split() for line in os.read(reader, 128).decode().splitlines()
        )
    finally:
        os.close(reader)
    assert (low, high) == ("0", "1")
    # The writer's own monotonic times: the simulator measures the width it really held.
    assert before <= float(t_low) <= float(t_high) <= after
    assert float(t_high) - float(t_low) >= 0.005


def test_reset_pulse_on_a_plain_file_writes_bare_levels(tmp_path: Path) -> None:
    value = tmp_path / "value"  # a sysfs GPIO value file takes "0" and "1" only
    value.write_text("1\n")
    asyncio.run(FileResetLine(value).pulse(0.001))
    assert value.read_text() == "1\n"


def test_reset_fifo_without_reader_is_a_named_error(tmp_path: Path) -> None:
    fifo = tmp_path / "reset"
    os.mkfifo(fifo)
    with pytest.raises(ResetLineError, match="reset line"):
        asyncio.run(FileResetLine(fifo).pulse(0.001))


def test_reset_line_errors_are_os_errors_for_the_glue(tmp_path: Path) -> None:
    """The glue turns an OSError of the line into core.on_reset_failed (issue 9)."""
    with pytest.raises(OSError, match="reset line"):
        asyncio.run(FileResetLine(tmp_path / "absent").pulse(0.001))


@pytest.mark.parametrize(
    ("link_up", "safe", "estop", "charging", "expected"),
    [
        (False, False, False, False, (LedState.LINK_DOWN, LedState.FAULT, LedState.OFF)),
        (True, False, False, False, (LedState.RUNNING, LedState.OFF, LedState.OFF)),
        (True, True, False, False, (LedState.RUNNING, LedState.FAULT, LedState.OFF)),
        (True, False, True, False, (LedState.RUNNING, LedState.FAULT, LedState.OFF)),
        (True, False, False, True, (LedState.RUNNING, LedState.OFF, LedState.ON)),
    ],
)
def test_led_patterns_follow_link_and_safety_state(
    link_up: bool,
    safe: bool,
    estop: bool,
    charging: bool,
    expected: tuple[LedState, LedState, LedState],
) -> None:
    p = patterns_for(link_up, safe, estop, charging)
    assert (p["status"], p["error"], p["charging"]) == expected


def test_board_leds_drive_each_named_led(tmp_path: Path) -> None:
    d = led_dir(tmp_path)
    leds = BoardLeds({"status": d, "error": None}, logging.getLogger("t"))
    leds.show(patterns_for(True, False, False, False))
    assert (d / "delay_on").read_text().strip() == "500"
    assert leds.leds["error"].state is None  # no path configured: nothing driven
