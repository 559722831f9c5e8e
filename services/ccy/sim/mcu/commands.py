# SPDX-License-Identifier: Apache-2.0
"""Scenario commands of the MCU simulator: one JSON object in, one JSON reply out.

Every command is ``{"cmd": NAME, ...arguments}``; the reply is ``{"ok": true, ...}`` or
``{"ok": false, "error": TEXT}``. Commands:

==============  ==============================================  ==============================
cmd             arguments                                       effect
==============  ==============================================  ==============================
plug            –                                               ID Connected, CE A → B0
unplug          –                                               ID NotConnected, CE A
set_ce          state: A|B0|B|C|E|EC|Invalid                    EV-side CE
estop           reason: an EstopReason value, NoStop clears     E-stop condition
temp            channel: 1..4, degC: number | null (unused)     PT1000 reading
selftest_fail   channel: 1..4, failed: bool                     PT1000 self-test flag
error           module: name|number, reason: int, active: bool  ErrorMessage on change
                (additional1, additional2: int, optional)
firmware        version: "M.m.b", git_hash: hex|int,            FwVersion / GitHash answers
                parameter_version: 0..65535 (any of them)
estop_confirm   delay_ms: number, or never: true                how the MCU confirms a host
                                                                CCSReady=EmergencyStop
host_timeout    ms: number (100..60000)                         the MCU's ComTimeout (assumed)
reset_min_pulse ms: number (0..1000)                            shorter reset pulses are no reset
silence         seconds: number (0 ends it)                     MCU sends nothing
corrupt         kind: garbage|bad_crc|truncated, count: int     next frames corrupted
raw_frame       com: int, data: int                             one arbitrary (valid-CRC)
                                                                frame, e.g. CE code 9
status          –                                               the model's state
==============  ==============================================  ==============================
"""

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from ccy.sim.mcu.messages import CeState, EstopReason
from ccy.sim.mcu.model import McuModel, ScenarioError, module_number
from ccy.sim.mcu.server import CorruptKind, McuSimulator
from ccy.sim.mcu.wire import RawFrame

Reply = dict[str, Any]
E = TypeVar("E", bound=Enum)


def _arg(command: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in command:
        raise ScenarioError(f"missing argument '{name}'")
    value = command[name]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ScenarioError(f"argument '{name}' must not be a boolean")
    if not isinstance(value, kind):
        raise ScenarioError(f"argument '{name}' has the wrong type ({type(value).__name__})")
    return value


def _choice(enum: type[E], value: str, what: str) -> E:
    for member in enum:
        if str(member.value).lower() == value.lower():
            return member
    choices = ", ".join(str(m.value) for m in enum)
    raise ScenarioError(f"unknown {what} '{value}' (one of {choices})")


def _git_hash(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.removeprefix("g").removeprefix("0x")
        try:
            return int(text, 16)
        except ValueError:
            pass
    raise ScenarioError(f"git_hash {value!r} is not a hexadecimal number")


class CommandHandler:
    """Apply scenario commands to a running :class:`McuSimulator`."""

    def __init__(self, sim: McuSimulator) -> None:
        self.sim = sim
        self._handlers: dict[str, Callable[[dict[str, Any]], Reply]] = {
            "plug": self._plug,
            "unplug": self._unplug,
            "set_ce": self._set_ce,
            "estop": self._estop,
            "temp": self._temp,
            "selftest_fail": self._selftest,
            "error": self._error,
            "firmware": self._firmware,
            "silence": self._silence,
            "corrupt": self._corrupt,
            "raw_frame": self._raw_frame,
            "estop_confirm": self._estop_confirm,
            "host_timeout": self._host_timeout,
            "reset_min_pulse": self._reset_min_pulse,
            "status": self._status,
        }

    def handle(self, command: object) -> Reply:
        """The reply to ``command``; never raises for bad input."""
        if not isinstance(command, dict):
            return {"ok": False, "error": "a command is a JSON object with a 'cmd' member"}
        name = command.get("cmd")
        handler = self._handlers.get(name) if isinstance(name, str) else None
        if handler is None:
            known = ", ".join(sorted(self._handlers))
            return {"ok": False, "error": f"unknown command {name!r} (one of {known})"}
        try:
            return {"ok": True, **handler(command)}
        except ScenarioError as exc:
            return {"ok": False, "error": f"{name}: {exc}"}

    @property
    def model(self) -> McuModel:
        return self.sim.model

    def _plug(self, _: dict[str, Any]) -> Reply:
        self.model.plug()
        return {}

    def _unplug(self, _: dict[str, Any]) -> Reply:
        self.model.unplug()
        return {}

    def _set_ce(self, c: dict[str, Any]) -> Reply:
        self.model.set_ce(_choice(CeState, _arg(c, "state", str), "CE state"))
        return {}

    def _estop(self, c: dict[str, Any]) -> Reply:
        reason = _arg(c, "reason", str)
        if reason.lower() == "clear":
            reason = EstopReason.NO_STOP.value
        self.model.set_estop(_choice(EstopReason, reason, "E-stop reason"))
        return {}

    def _temp(self, c: dict[str, Any]) -> Reply:
        degC = _arg(c, "degC", (int, float, type(None)))
        self.model.set_temperature(_arg(c, "channel", int), None if degC is None else float(degC))
        return {}

    def _selftest(self, c: dict[str, Any]) -> Reply:
        self.model.set_selftest_failed(_arg(c, "channel", int), _arg(c, "failed", bool))
        return {}

    def _error(self, c: dict[str, Any]) -> Reply:
        changed = self.model.set_error(
            module_number(_arg(c, "module", (str, int))),
            _arg(c, "reason", int),
            _arg(c, "active", bool),
            _arg(c, "additional1", int) if "additional1" in c else 0,
            _arg(c, "additional2", int) if "additional2" in c else 0,
        )
        return {"changed": changed}

    def _firmware(self, c: dict[str, Any]) -> Reply:
        version = _arg(c, "version", str) if "version" in c else None
        git_hash = _git_hash(c["git_hash"]) if "git_hash" in c else None
        parameter = _arg(c, "parameter_version", int) if "parameter_version" in c else None
        if version is None and git_hash is None and parameter is None:
            raise ScenarioError("give 'version', 'git_hash' and/or 'parameter_version'")
        self.model.set_firmware(version, git_hash, parameter)
        return {}

    def _estop_confirm(self, c: dict[str, Any]) -> Reply:
        never = _arg(c, "never", bool) if "never" in c else False
        if never == ("delay_ms" in c):
            raise ScenarioError("give either 'delay_ms' or 'never': true")
        delay_ms = None if never else float(_arg(c, "delay_ms", (int, float)))
        self.model.set_estop_confirmation(None if delay_ms is None else delay_ms / 1000)
        return {}

    def _host_timeout(self, c: dict[str, Any]) -> Reply:
        self.model.set_host_timeout(float(_arg(c, "ms", (int, float))) / 1000)
        return {}

    def _reset_min_pulse(self, c: dict[str, Any]) -> Reply:
        self.model.set_reset_min_pulse(float(_arg(c, "ms", (int, float))) / 1000)
        return {}

    def _silence(self, c: dict[str, Any]) -> Reply:
        self.sim.silence(float(_arg(c, "seconds", (int, float))))
        return {}

    def _corrupt(self, c: dict[str, Any]) -> Reply:
        kind = _choice(CorruptKind, _arg(c, "kind", str), "corruption kind")
        count = _arg(c, "count", int) if "count" in c else 1
        self.sim.corrupt(kind, count)
        return {"pending": self.sim.pending_corruptions}

    def _raw_frame(self, c: dict[str, Any]) -> Reply:
        com, data = _arg(c, "com", int), _arg(c, "data", int)
        try:
            frame = RawFrame(com, data)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
        self.sim.send_raw(frame.to_bytes())
        return {}

    def _status(self, _: dict[str, Any]) -> Reply:
        status: dict[str, Any] = self.model.status(self.sim.clock())
        status["silent"] = self.sim.silent()
        status["pending_corruptions"] = self.sim.pending_corruptions
        status["stats"] = dict(self.sim.stats)
        status["slave"] = str(self.sim.slave_path)
        return status
