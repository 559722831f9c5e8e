# SPDX-License-Identifier: Apache-2.0
"""``ccyctl status``: the whole charger on one screen, for an operator.

    ccyctl status            each unit (ready, waiting for what, down, not answering), the
                             link, CE/ID, E-stop, the charging state and session, power, the
                             PLC, whether the clock is synchronized, and every active error
    ccyctl status --json     the same as one JSON document (NaN → null)

Everything comes from the bus, read-only, so members of ``ccy-ro`` may run it too: the owner of
each unit's bus name (``GetNameOwner``, never starting anything), its properties (``GetAll``)
and its ``org.ccy.Errors1.ActiveErrors``. A unit whose name has no owner is ``down``; one that
owns it but does not answer within ``--timeout`` is ``no answer``; one that lists peers in
``WaitingFor`` (or, for ccy-bsp, has no MCU link; for ccy-profinet, no PLC in ``plc`` mode) is
``waiting``; otherwise ``ready``. Names come from each unit's contract module
(``ccy.<unit>.contract``), imported when the command runs; a unit whose contract module does
not exist yet is shown as ``unknown`` and never fails the command. Exit status 0 whenever the
bus answered (the screen says what is wrong); no bus is one line, exit 69 (ccy.ctl.failure).

The clock line is local, not from the bus: ``ccy.runtime.clock.clock_synchronized()``, the
same answer ccy-evse records with each transaction (the kernel's, set by systemd-timesyncd).
"""

import argparse
import asyncio
import importlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Message, MessageFlag, MessageType, Variant
from dbus_fast.aio import MessageBus

from ccy.bsp.contract import EstopReason, SafeState
from ccy.ctl.system_bus import bus_address, system_bus
from ccy.profinet.contract import UnitMode
from ccy.runtime.clock import clock_synchronized
from ccy.runtime.contract import ERRORS_IFACE

DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
PROPERTIES = "org.freedesktop.DBus.Properties"
NO_OWNER = frozenset(
    {"org.freedesktop.DBus.Error.NameHasNoOwner", "org.freedesktop.DBus.Error.ServiceUnknown"}
)


class UnitState:
    READY = "ready"
    WAITING = "waiting"
    DOWN = "down"
    NO_ANSWER = "no answer"
    UNKNOWN = "unknown"
    """The unit's contract module is not installed: ccyctl does not know its names."""


# ------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class ObjectView:
    """One object of a unit: where it is (attribute names of the contract module) and which
    of its main interface's properties the screen shows."""

    path_attr: str
    iface_attr: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class UnitView:
    unit: str
    contract: str
    """The contract module, e.g. ``ccy.bsp.contract`` (imported when the command runs)."""
    objects: tuple[ObjectView, ...]


def props(names: str) -> tuple[str, ...]:
    return tuple(names.split())


UNITS: tuple[UnitView, ...] = (
    UnitView(
        "ccy-bsp",
        "ccy.bsp.contract",
        (
            ObjectView(
                "OBJECT_PATH",
                "IFACE",
                props(
                    "LinkUp Enabled CeState IdState EmergencyStop SafeState CcsReady"
                    " PowerOnAllowed DeratingFactor FirmwareVersion"
                ),
            ),
        ),
    ),
    UnitView(
        "ccy-evse",
        "ccy.evse.contract",
        (
            ObjectView(
                "OBJECT_PATH",
                "IFACE",
                props(
                    "State Enabled WaitingFor SessionId TransactionId Authorized EvseId"
                    " PresentVoltage PresentCurrent TargetVoltage TargetCurrent EnergyDelivered"
                    " Notification"
                ),
            ),
        ),
    ),
    UnitView(
        "ccy-v2g",
        "ccy.v2g.contract",
        (
            ObjectView(
                "OBJECT_PATH",
                "IFACE",
                props(
                    "SessionState SecurityMode Protocol WaitingFor LastError SdpPort TcpPort"
                    " TlsPort"
                ),
            ),
        ),
    ),
    UnitView(
        "ccy-auth",
        "ccy.auth.contract",
        (
            ObjectView(
                "OBJECT_PATH", "IFACE", props("WaitingFor Providers Validators Reservations")
            ),
        ),
    ),
    UnitView(
        "ccy-profinet",
        "ccy.profinet.contract",
        (
            ObjectView(
                "PROFINET_OBJECT_PATH",
                "PROFINET_IFACE",
                props("Mode ArState PlcConnected StationName IpAddress"),
            ),
            ObjectView(
                "OBJECT_PATH",
                "IFACE",
                props("Mode SupplyReady PresentVoltage PresentCurrent IsolationStatus"),
            ),
        ),
    ),
)
"""The five units in the order the screen shows them, and what it shows of each."""


# ------------------------------------------------------------------------------ reading


@dataclass
class ObjectStatus:
    path: str
    interface: str
    properties: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    failure: str = ""
    """Why the object could not be read ("" when it was)."""


@dataclass
class UnitStatus:
    unit: str
    bus_name: str = ""
    owner: str = ""
    state: str = UnitState.UNKNOWN
    waiting_for: list[str] = field(default_factory=list)
    objects: list[ObjectStatus] = field(default_factory=list)
    note: str = ""

    def properties(self, interface_suffix: str = "") -> dict[str, Any]:
        """The properties of the object whose interface ends with ``interface_suffix``."""
        for obj in self.objects:
            if obj.interface.endswith(interface_suffix):
                return obj.properties
        return {}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [error for obj in self.objects for error in obj.errors]


def plain(value: Any) -> Any:
    """A D-Bus value as plain Python (Variants unwrapped, structs as lists)."""
    if isinstance(value, Variant):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


async def _call(bus: MessageBus, message: Message, timeout_s: float) -> Message | None:
    """The reply (a method return or an error), or None when none came in time."""
    try:
        return await asyncio.wait_for(bus.call(message), timeout_s)
    except TimeoutError:
        return None


async def _owner(bus: MessageBus, bus_name: str, timeout_s: float) -> str | None:
    """The unique name owning ``bus_name``; "" when none; None when the bus did not answer."""
    dest, path, iface = DBUS
    reply = await _call(
        bus,
        Message(
            destination=dest,
            path=path,
            interface=iface,
            member="GetNameOwner",
            signature="s",
            body=[bus_name],
        ),
        timeout_s,
    )
    if reply is None:
        return None
    if reply.message_type == MessageType.ERROR:
        return ""
    return str(reply.body[0])


async def _get(
    bus: MessageBus, bus_name: str, path: str, member: str, body: list[str], timeout_s: float
) -> tuple[Any, str]:
    """(reply body, "") or (None, why not) for one Properties call (never starts a service)."""
    reply = await _call(
        bus,
        Message(
            destination=bus_name,
            path=path,
            interface=PROPERTIES,
            member=member,
            signature="s" * len(body),
            body=body,
            flags=MessageFlag.NO_AUTOSTART,
        ),
        timeout_s,
    )
    if reply is None:
        return None, f"no answer within {timeout_s:g} s"
    if reply.message_type == MessageType.ERROR:
        text = reply.body[0] if reply.body else ""
        return None, f"{reply.error_name}: {text}".rstrip(": ")
    return reply.body[0], ""


def _error_rows(raw: Any) -> list[dict[str, Any]]:
    rows = []
    for entry in plain(raw) or []:
        typ, subtype, severity, message, raised_us = entry
        rows.append(
            {
                "type": typ,
                "subtype": subtype,
                "severity": severity,
                "message": message,
                "raised_us": raised_us,
            }
        )
    return rows


async def _read_object(
    bus: MessageBus, bus_name: str, path: str, iface: str, view: ObjectView, timeout_s: float
) -> ObjectStatus:
    obj = ObjectStatus(path, iface)
    (props, why), (errors, why_errors) = await asyncio.gather(
        _get(bus, bus_name, path, "GetAll", [iface], timeout_s),
        _get(bus, bus_name, path, "Get", [ERRORS_IFACE, "ActiveErrors"], timeout_s),
    )
    if why:
        obj.failure = why
        return obj
    values = plain(props)
    obj.properties = {name: values[name] for name in view.properties if name in values}
    if why_errors:
        obj.failure = f"{ERRORS_IFACE}: {why_errors}"
    else:
        obj.errors = _error_rows(errors)
    return obj


def _contract(view: UnitView) -> tuple[Any | None, str]:
    """(the contract module, "") or (None, why it cannot be used)."""
    try:
        return importlib.import_module(view.contract), ""
    except ImportError:
        return None, f"{view.contract} is not installed: ccyctl does not know this unit"
    except Exception as exc:  # a broken contract module must not hide the other units
        return None, f"{view.contract} cannot be imported: {type(exc).__name__}: {exc}"


async def read_unit(bus: MessageBus, view: UnitView, timeout_s: float) -> UnitStatus:
    status = UnitStatus(view.unit)
    module, why = _contract(view)
    bus_name = getattr(module, "BUS_NAME", None)
    if not isinstance(bus_name, str):
        status.note = why or f"{view.contract} names no BUS_NAME"
        return status
    status.bus_name = bus_name
    owner = await _owner(bus, bus_name, timeout_s)
    if owner is None:
        status.state, status.note = UnitState.NO_ANSWER, "the bus did not answer"
        return status
    if not owner:
        status.state = UnitState.DOWN
        return status
    status.owner = owner
    objects = []
    for obj in view.objects:
        path, iface = getattr(module, obj.path_attr, None), getattr(module, obj.iface_attr, None)
        if isinstance(path, str) and isinstance(iface, str):
            objects.append(_read_object(bus, bus_name, path, iface, obj, timeout_s))
    status.objects = list(await asyncio.gather(*objects))
    status.state, status.waiting_for = _readiness(status)
    failures = [o.failure for o in status.objects if o.failure]
    if failures and not status.note:
        status.note = "; ".join(failures)
    return status


def _readiness(status: UnitStatus) -> tuple[str, list[str]]:
    """(state, what it waits for) of a unit that owns its name."""
    if any(o.failure.startswith("no answer") for o in status.objects):
        return UnitState.NO_ANSWER, []
    props = status.properties("")
    waiting = [str(name) for name in props.get("WaitingFor", [])]
    if status.unit == "ccy-bsp" and props.get("LinkUp") is False:
        waiting.append("the safety MCU (link down)")
    if status.unit == "ccy-profinet":
        pn = status.properties("Profinet1")
        if pn.get("Mode") == UnitMode.PLC and pn.get("PlcConnected") is False:
            waiting.append(f"the PLC (AR {pn.get('ArState', '?')})")
    return (UnitState.WAITING if waiting else UnitState.READY), waiting


async def read_all(
    timeout_s: float, units: Sequence[UnitView] = UNITS
) -> tuple[str, list[UnitStatus]]:
    async with system_bus(timeout_s) as bus:
        found = await asyncio.gather(*(read_unit(bus, view, timeout_s) for view in units))
    return bus_address(), list(found)


# ------------------------------------------------------------------------------ showing


def _num(value: Any, unit: str, digits: int = 1) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "-"
    return f"{value:.{digits}f} {unit}"


def _yes(value: Any, yes: str, no: str) -> str:
    return "-" if value is None else (yes if value else no)


def _bsp_summary(p: dict[str, Any]) -> str:
    estop = p.get("EmergencyStop", "-")
    parts = [
        _yes(p.get("LinkUp"), "link up", "link DOWN"),
        _yes(p.get("Enabled"), "port enabled", "port disabled"),
        f"CE {p.get('CeState', '-')}",
        f"ID {p.get('IdState', '-')}",
        "E-stop " + ("none" if estop == EstopReason.NO_STOP else str(estop)),
        _yes(p.get("PowerOnAllowed"), "power on allowed", "power off"),
    ]
    if p.get("SafeState") not in (None, SafeState.NORMAL):
        parts.append(f"safe state {p['SafeState']}")
    if p.get("FirmwareVersion"):
        parts.append(f"MCU fw {p['FirmwareVersion']}")
    return ", ".join(parts)


def _evse_summary(p: dict[str, Any]) -> str:
    parts = [str(p.get("State", "-"))]
    if p.get("Enabled") is False:
        parts.append("disabled")
    session = p.get("SessionId") or ""
    parts.append(f"session {session}" if session else "no session")
    if session:
        parts.append(_yes(p.get("Authorized"), "authorized", "not authorized"))
    parts.append(
        f"{_num(p.get('PresentVoltage'), 'V')} {_num(p.get('PresentCurrent'), 'A')}"
        f", energy {_num(p.get('EnergyDelivered'), 'Wh')}"
    )
    return ", ".join(parts)


def _v2g_summary(p: dict[str, Any]) -> str:
    parts = [str(p.get("SessionState", "-"))]
    protocol = p.get("Protocol") or ["", 0]
    if protocol and protocol[0]:
        parts.append(str(protocol[0]))
    if p.get("SecurityMode"):
        parts.append(str(p["SecurityMode"]))
    if p.get("LastError"):
        parts.append(f"last error {p['LastError']}")
    ports = [f"{name} {p[key]}" for name, key in PORTS if p.get(key)]
    if ports:
        parts.append("ports " + " ".join(ports))
    return ", ".join(parts)


PORTS = (("SDP", "SdpPort"), ("TCP", "TcpPort"), ("TLS", "TlsPort"))
"""ccy-v2g's listening ports as the screen names them (0 = not listening: not shown)."""


def _auth_summary(p: dict[str, Any]) -> str:
    providers = ",".join(p.get("Providers", [])) or "-"
    validators = ",".join(p.get("Validators", [])) or "-"
    return (
        f"providers {providers}, validators {validators}, "
        f"{len(p.get('Reservations', []))} reservation(s)"
    )


def _profinet_summary(status: UnitStatus) -> str:
    pn, stage = status.properties("Profinet1"), status.properties("PowerStage1")
    parts = [f"mode {pn.get('Mode', '-')}"]
    if pn.get("Mode") != UnitMode.SIMULATED:
        plc = _yes(pn.get("PlcConnected"), "connected", "not connected")
        parts.append(f"PLC {plc} (AR {pn.get('ArState', '-')})")
    if stage:
        parts.append(
            f"power stage {stage.get('Mode', '-')}"
            f", {_yes(stage.get('SupplyReady'), 'supply ready', 'supply NOT ready')}"
            f", {_num(stage.get('PresentVoltage'), 'V')} {_num(stage.get('PresentCurrent'), 'A')}"
            f", isolation {stage.get('IsolationStatus', '-')}"
        )
    return ", ".join(parts)


SUMMARIES: dict[str, Callable[[UnitStatus], str]] = {
    "ccy-bsp": lambda s: _bsp_summary(s.properties()),
    "ccy-evse": lambda s: _evse_summary(s.properties()),
    "ccy-v2g": lambda s: _v2g_summary(s.properties()),
    "ccy-auth": lambda s: _auth_summary(s.properties()),
    "ccy-profinet": _profinet_summary,
}


def summary(status: UnitStatus, units_by_bus_name: dict[str, str] | None = None) -> str:
    """The one line after the unit's state; a bus name waited for is shown with its unit."""
    if status.state in (UnitState.DOWN, UnitState.UNKNOWN) or not status.objects:
        return status.note or ("not running" if status.state == UnitState.DOWN else "")
    text = SUMMARIES[status.unit](status) if status.unit in SUMMARIES else ""
    if status.waiting_for:
        names = units_by_bus_name or {}
        waited = [f"{names[w]} ({w})" if w in names else w for w in status.waiting_for]
        text = f"waiting for {', '.join(waited)}; {text}"
    if status.note:
        text += f" ({status.note})"
    return text


CLOCK_SYNCHRONIZED = "Clock: synchronized"
CLOCK_NOT_SYNCHRONIZED = (
    "Clock: NOT synchronized (transaction timestamps come from the unsynchronized system clock)"
)


def format_status(
    address: str, units: Sequence[UnitStatus], clock_synced: bool | None = None
) -> str:
    """The screen; ``clock_synced`` None leaves the clock line out."""
    width = max(len(u.unit) for u in units)
    lines = [f"ccy status (bus {address})"]
    by_bus_name = {u.bus_name: u.unit for u in units if u.bus_name}
    for u in units:
        lines.append(f"{u.unit:<{width}}  {u.state:<9}  {summary(u, by_bus_name)}".rstrip())
    if clock_synced is not None:
        lines.append(CLOCK_SYNCHRONIZED if clock_synced else CLOCK_NOT_SYNCHRONIZED)
    errors = [(u.unit, e) for u in units for e in u.errors]
    lines.append(f"Active errors: {len(errors)}")
    for unit, e in errors:
        what = f"{e['type']}/{e['subtype'] or '-'}"
        lines.append(f"  {unit:<{width}}  {e['severity']:<6} {what}: {e['message']}")
    return "\n".join(lines)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def as_json(address: str, units: Sequence[UnitStatus], clock_synced: bool | None = None) -> str:
    doc: dict[str, Any] = {
        "bus": address,
        "units": {
            u.unit: {
                "state": u.state,
                "bus_name": u.bus_name,
                "owner": u.owner,
                "waiting_for": u.waiting_for,
                "note": u.note,
                "objects": {
                    o.path: {
                        "interface": o.interface,
                        "properties": o.properties,
                        "failure": o.failure,
                    }
                    for o in u.objects
                },
                "errors": u.errors,
            }
            for u in units
        },
    }
    if clock_synced is not None:
        doc["clock"] = {"synchronized": clock_synced}
    return json.dumps(_json_safe(doc), indent=2, allow_nan=False)


def _run(args: argparse.Namespace) -> int:
    address, units = asyncio.run(read_all(args.timeout))
    synced = clock_synchronized()
    print(as_json(address, units, synced) if args.json else format_status(address, units, synced))
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "status",
        help="every unit at a glance: ready/waiting/down, link, session, power, clock, errors",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document instead")
    parser.set_defaults(func=_run)
