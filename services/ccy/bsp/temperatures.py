# SPDX-License-Identifier: Apache-2.0
"""PT1000 readings on the host side: status per channel, host warning, derating.

safety-link.md, PT1000State: the MCU itself stops charging at a per-channel limit (85.0 °C by
factory default); the host reports, warns early (temperature_warning_degC) and derates linearly
from temperature_derating_start_degC (factor 1) to temperature_derating_end_degC (factor 0).
An implausible channel (below absolute zero) is ignored alone; the others still count.
"""

from dataclasses import dataclass

from ccy.bsp.contract import TemperatureStatus
from ccy.bsp.protocol.messages import Pt1000State
from ccy.bsp.settings import BspSettings
from ccy.bsp.state import TemperatureReading

TEMPERATURE_HYSTERESIS_DEGC = 1.0
"""A warning clears only this far below its threshold, so a reading at the threshold does not
raise and clear the warning on every frame."""


@dataclass
class Channel:
    name: str
    degC: float | None = None
    stopped: bool = False
    selftest_failed: bool = False
    implausible: bool = False


class TemperatureMonitor:
    def __init__(self, settings: BspSettings) -> None:
        self.settings = settings
        self.channels = [Channel(name) for name in settings.temperature_channel_names]

    def update(self, p: Pt1000State) -> list[str]:
        """Take a frame; return the names of channels that just became implausible."""
        newly_implausible = []
        for channel, reading in zip(self.channels, p.channels, strict=False):
            if reading.implausible and not channel.implausible:
                newly_implausible.append(channel.name)
            channel.degC = reading.temperature_degC
            channel.stopped = reading.charging_stopped
            channel.selftest_failed = reading.selftest_failed
            channel.implausible = reading.implausible
        return newly_implausible

    def clear(self) -> None:
        """Forget every reading (the link is lost: what we had is stale)."""
        self.channels = [Channel(c.name) for c in self.channels]

    def stopping(self) -> list[str]:
        """Why the PT1000 readings forbid power, one line per flag (empty: they allow it)."""
        reasons = []
        for c in self.channels:
            if c.stopped:
                reasons.append(f"the safety controller stopped charging: sensor {c.name}")
            if c.selftest_failed:
                reasons.append(f"PT1000 self-test failed: sensor {c.name}")
        return reasons

    def status(self, c: Channel) -> TemperatureStatus:
        s = self.settings
        if c.selftest_failed:
            return TemperatureStatus.SELF_TEST_FAILED
        if c.stopped:
            return TemperatureStatus.STOPPED
        if c.implausible:
            return TemperatureStatus.IMPLAUSIBLE
        if c.degC is None:
            return TemperatureStatus.UNUSED
        if c.degC >= s.temperature_derating_start_degC:
            return TemperatureStatus.DERATING
        if c.degC >= s.temperature_warning_degC:
            return TemperatureStatus.WARNING
        return TemperatureStatus.OK

    def readings(self) -> tuple[TemperatureReading, ...]:
        return tuple(TemperatureReading(c.name, c.degC, self.status(c)) for c in self.channels)

    def warning_wanted(self, c: Channel, active: bool) -> bool:
        """Whether the TemperatureWarning of ``c`` should be active, given whether it is."""
        if c.degC is None:
            return False
        limit = self.settings.temperature_warning_degC
        return c.degC >= (limit - TEMPERATURE_HYSTERESIS_DEGC if active else limit)

    def derating_factor(self) -> float:
        temps = [c.degC for c in self.channels if c.degC is not None]
        if not temps:
            return 1.0
        start = self.settings.temperature_derating_start_degC
        end = self.settings.temperature_derating_end_degC
        hottest = max(temps)
        if hottest <= start:
            return 1.0
        if hottest >= end:
            return 0.0
        return round(1.0 - (hottest - start) / (end - start), 3)
