# SPDX-License-Identifier: Apache-2.0
"""Status LEDs through the Linux LED class (/sys/class/leds/<name>/).

Patterns use the kernel's "timer" trigger (delay_on/delay_off in ms) or a fixed brightness,
so a LED keeps blinking even while ccy-bsp is busy or restarting. A missing or unwritable LED
is logged once and otherwise ignored: LEDs never stop the charger. In the simulator the LED
folders are plain files under the root folder and show the pattern a technician would see.
"""

import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    trigger: str
    brightness: int = 0
    delay_on_ms: int = 0
    delay_off_ms: int = 0


class LedState(Enum):
    """What the board shows; chosen by :func:`patterns_for` from link and safety state."""

    OFF = Pattern("none", 0)
    ON = Pattern("none", 1)
    LINK_DOWN = Pattern("timer", 1, 100, 100)  # fast blink: no safety MCU
    RUNNING = Pattern("timer", 1, 500, 1500)  # rhythmic blink: operating normally
    FAULT = Pattern("none", 1)  # steady: safe state, E-stop or link lost
    IDENTIFY = Pattern("timer", 1, 500, 500)  # 1 Hz: Bsp1.Identify (Profinet DCP Signal)


class Led:
    def __init__(self, name: str, path: Path | None, log: logging.Logger) -> None:
        self.name = name
        self.path = path
        self._log = log
        self._state: LedState | None = None
        self._warned = False

    @property
    def state(self) -> LedState | None:
        return self._state

    def show(self, state: LedState) -> None:
        if self.path is None or state is self._state:
            return
        p = state.value
        try:
            self._write("trigger", p.trigger)
            if p.trigger == "timer":
                self._write("delay_on", str(p.delay_on_ms))
                self._write("delay_off", str(p.delay_off_ms))
            else:
                self._write("brightness", str(p.brightness))
        except OSError as exc:
            if not self._warned:
                self._log.warning("LED %s at %s cannot be driven: %s", self.name, self.path, exc)
                self._warned = True
            return
        self._state = state

    def _write(self, attribute: str, value: str) -> None:
        assert self.path is not None
        (self.path / attribute).write_text(value + "\n", encoding="ascii")


def patterns_for(
    link_up: bool,
    safe_state_active: bool,
    estop_active: bool,
    charging: bool,
    identifying: bool = False,
) -> dict[str, LedState]:
    """What each board LED shows for this state (status, error, charging); ``identifying``
    (Bsp1.Identify) takes the status LED only, so faults stay visible on the error LED."""
    fault = not link_up or safe_state_active or estop_active
    status = LedState.RUNNING if link_up else LedState.LINK_DOWN
    return {
        "status": LedState.IDENTIFY if identifying else status,
        "error": LedState.FAULT if fault else LedState.OFF,
        "charging": LedState.ON if charging else LedState.OFF,
    }


class BoardLeds:
    """The three LEDs of the board, driven together."""

    def __init__(self, paths: dict[str, Path | None], log: logging.Logger) -> None:
        self.leds = {name: Led(name, path, log) for name, path in paths.items()}

    def show(self, patterns: dict[str, LedState]) -> None:
        for name, state in patterns.items():
            led = self.leds.get(name)
            if led is not None:
                led.show(state)
