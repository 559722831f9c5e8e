# SPDX-License-Identifier: Apache-2.0
"""``ccyctl evse``: the charging session (org.ccy.Evse1) and its records, for operators.

    ccyctl evse status                      every property and the active errors
    ccyctl evse enable | disable            Enable(true|false): the connector in/out of service
    ccyctl evse stop [--reason R]           StopTransaction(R): Local (default), MasterPass,
                                            Remote or Other
    ccyctl evse pause | resume              Pause() / Resume(): an EVSE pause
    ccyctl evse limits                      the connector, effective and external limits
    ccyctl evse limits --power W --current A --valid-for S
                                            SetExternalLimits (either or both; --clear ends it)
    ccyctl evse transactions [--limit N]    ListTransactions: newest first
    ccyctl evse errors [--since T] [--limit N]
                                            ListErrors: the error history of every unit, newest
                                            first; T is a time (2025-12-02T13:00, UTC unless it
                                            says otherwise) or an age (90s, 15m, 2h, 7d)
    ccyctl evse sessions [--limit N]        the session logs, newest first
    ccyctl evse session show ID             one session's log: duration, transactions and
                                            stops first, then every event (time and offset
                                            from the start), V2G messages, timing

Everything but ``sessions`` and ``session show`` goes over the bus (the records database is
ccy-evse's alone, /var/lib/ccy/evse 0700). Those two read /var/log/ccy/sessions directly and
read-only (2750 ccy-evse:ccy: operators of group ccy read it; files 0640). Failures are one
line naming cause and fix (ccy.ctl.main).
"""

import argparse
import asyncio
import json
import math
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbus_fast import Variant

from ccy.ctl.failure import CtlError, ExitCode
from ccy.ctl.system_bus import answer_within, system_bus
from ccy.evse.contract import (
    BUS_NAME,
    IFACE,
    OBJECT_PATH,
    UNIT,
    Method,
    Prop,
    StopRequest,
)
from ccy.evse.records.model import ErrorRecord, TransactionRecord
from ccy.evse.session_log import (
    FolderContents,
    find_folder,
    list_folders,
    read_folder,
    sessions_dir,
)
from ccy.runtime.client import PROPERTIES, contract_node
from ccy.runtime.contract import ERRORS_IFACE
from ccy.runtime.paths import Paths

LIST_LIMIT_MAX = 10_000
"""The largest limit ListTransactions/ListErrors accept (dbus/org.ccy.Evse1.xml)."""
VALID_FOR_MAX_S = 86_400.0
AGE_RE = re.compile(r"(?P<n>\d+(?:\.\d+)?)(?P<unit>[smhd])")
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
LIMITS_FIELDS = ("max voltage", "min voltage", "max current", "min current", "max power")
LIMITS_UNITS = ("V", "V", "A", "A", "W")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------------- formatting


def utc(us: int | None, millis: bool = False) -> str:
    """A time for a table: ``2025-12-02T13:51:29Z`` (with milliseconds if asked), "-" for None."""
    if us is None:
        return "-"
    moment = datetime.fromtimestamp(us / 1e6, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def energy(wh: float | None) -> str:
    return "unknown" if wh is None else f"{wh:.1f} Wh"


def _number(value: float, unit: str) -> str:
    return "none" if math.isnan(value) else f"{value:g} {unit}"


def format_limits(name: str, value: Sequence[float]) -> str:
    parts = [
        f"{field} {_number(v, u)}"
        for field, v, u in zip(LIMITS_FIELDS, value, LIMITS_UNITS, strict=False)
    ]
    return f"{name}: " + ", ".join(parts)


def format_external(value: Sequence[float]) -> str:
    power, current, until = value
    if not until:
        return f"{Prop.EXTERNAL_LIMITS}: none"
    end = utc(round(until * 1e6))
    return (
        f"{Prop.EXTERNAL_LIMITS}: max power {_number(power, 'W')}, "
        f"max current {_number(current, 'A')}, until {end}"
    )


def format_status(props: dict[str, Any], errors: list[list[Any]]) -> str:
    """Plain-text status: one ``Key: value`` line per property, then the active errors."""
    lines = []
    for key in sorted(props):
        value = props[key]
        if key in (Prop.CONNECTOR_LIMITS, Prop.EFFECTIVE_LIMITS):
            lines.append(format_limits(key, value))
        elif key == Prop.EXTERNAL_LIMITS:
            lines.append(format_external(value))
        elif key == Prop.TIMING:
            shown = ", ".join(f"{k}={v:.3f} s" for k, v in value.items()) or "-"
            lines.append(f"{key}: {shown}")
        elif key == Prop.WAITING_FOR:
            lines.append(f"{key}: {', '.join(value) or '-'}")
        elif isinstance(value, float):
            lines.append(f"{key}: {'unknown' if math.isnan(value) else f'{value:g}'}")
        else:
            lines.append(f"{key}: {value if value != '' else '-'}")
    lines.append(f"Active errors: {len(errors)}")
    lines += [f"  {sev:<6} {typ}/{sub or '-'}: {msg}" for typ, sub, sev, msg, _ in errors]
    return "\n".join(lines)


def format_transactions(rows: list[TransactionRecord]) -> str:
    if not rows:
        return "no transactions"
    head = f"{'STARTED':<20}  {'STOPPED':<20}  {'ENERGY':>12}  {'REASON':<14}  TRANSACTION"
    lines = [head]
    for t in rows:
        reason = t.stop_reason or "(open)"
        lines.append(
            f"{utc(t.start_us):<20}  {utc(t.stop_us):<20}  {energy(t.energy_Wh):>12}  "
            f"{reason:<14}  {t.transaction_id}  session {t.session_id}  token {t.token_hash}"
        )
    return "\n".join(lines)


def format_errors(rows: list[ErrorRecord]) -> str:
    if not rows:
        return "no errors"
    lines = [f"{'RAISED':<20}  {'CLEARED':<20}  {'UNIT':<12}  {'SEVERITY':<8}  ERROR"]
    for e in rows:
        cleared = utc(e.cleared_us) if e.cleared_us is not None else "(active)"
        lines.append(
            f"{utc(e.raised_us):<20}  {cleared:<20}  {e.unit:<12}  {e.severity:<8}  "
            f"{e.type}/{e.subtype or '-'}: {e.message}"
        )
    return "\n".join(lines)


def _session_of(folder: Path) -> dict[str, Any]:
    contents = read_folder(folder)
    return contents.session or {}


def format_sessions(base: Path, limit: int) -> str:
    folders = list_folders(base)[::-1][:limit]
    if not folders:
        return f"no session logs in {base}"
    lines = [f"{'STARTED':<20}  {'ENDED':<20}  {'REASON':<16}  SESSION"]
    for folder in folders:
        info = _session_of(folder.path)
        end = info.get("end_us")
        reason = info.get("reason") or ("(running)" if end is None else "-")
        started = info.get("start_us")
        start_text = utc(started) if isinstance(started, int) else folder.started.isoformat()
        lines.append(
            f"{start_text:<20}  {utc(end if isinstance(end, int) else None):<20}  "
            f"{reason:<16}  {folder.session_id}"
        )
    return "\n".join(lines)


def _fields(record: dict[str, Any], skip: tuple[str, ...]) -> str:
    return "  ".join(f"{k}={_short(v)}" for k, v in record.items() if k not in skip)


def _short(value: object) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.0f}" if value.is_integer() else f"{value:.6g}"
    return str(value) if not isinstance(value, dict | list) else _compact(value)


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _when(record: dict[str, Any]) -> str:
    us = record.get("us")
    return utc(us, millis=True) if isinstance(us, int) else "?"


def _kind(record: dict[str, Any]) -> str:
    """The event's kind in one spelling: ``TransactionStarted`` and ``transaction_started``
    are both ``transaction_started``."""
    name = str(record.get("event", "?"))
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


STOP_KINDS = ("stop", "rejected")
"""Events that say why power was withdrawn or a session refused (beside ``error_*``)."""
_HIDDEN = ("us", "t", "event")


def _offset(record: dict[str, Any], start: object) -> str:
    us = record.get("us")
    if not isinstance(us, int) or not isinstance(start, int):
        return ""
    return f"+{(us - start) / 1e6:.3f} s"


def _event_line(record: dict[str, Any], start: object) -> str:
    """``  time  +offset  kind  fields`` (a state change reads ``old → new``)."""
    kind = str(record.get("event", "?"))
    if _kind(record) in ("state", "state_changed") and "old" in record and "new" in record:
        rest = f"{record['old']} → {record['new']}"
        extra = _fields(record, (*_HIDDEN, "old", "new"))
        detail = f"{rest}  {extra}" if extra else rest
    else:
        detail = _fields(record, _HIDDEN)
    offset = _offset(record, start)
    head = f"  {_when(record)}  {offset:>10}  " if offset else f"  {_when(record)}  "
    return f"{head}{kind}  {detail}".rstrip()


def _energy_of(finished: dict[str, Any]) -> str:
    value = finished.get("energy_wh", finished.get("energy_Wh"))
    return energy(float(value)) if isinstance(value, int | float) else "unknown"


def _overview(info: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    """Duration, each transaction's outcome and the stops, before the details."""
    lines = []
    start, end = info.get("start_us"), info.get("end_us")
    if isinstance(start, int) and isinstance(end, int):
        lines.append(f"Duration: {(end - start) / 1e6:.3f} s")
    finished = {
        str(e.get("transaction_id", "")): e for e in events if _kind(e) == "transaction_finished"
    }
    for e in events:
        if _kind(e) != "transaction_started":
            continue
        tx = str(e.get("transaction_id", "?"))
        token = e.get("token")
        end_of = finished.get(tx)
        if end_of is None and len(finished) == 1 and "" in finished:
            end_of = finished[""]  # a finish that does not repeat the id
        outcome = (
            f"finished {end_of.get('reason', '-')} at {_when(end_of)}, energy {_energy_of(end_of)}"
            if end_of is not None
            else "open"
        )
        by = f", token {token}" if token else ""
        lines.append(f"Transaction {tx}{by}: {outcome}")
    for e in events:
        if _kind(e) == "stop":
            why = e.get("why")
            lines.append(
                f"Stop at {_when(e)}: {e.get('stop', '-')} ({e.get('reason', '-')})"
                + (f": {why}" if why else "")
            )
    return lines


def format_session(folder: Path, contents: FolderContents) -> str:
    """One session's log, readable: header and overview (duration, transactions, stops), then
    transactions, errors and stops, every event (time, offset from the start), V2G messages
    and the timing statistics."""
    info = contents.session or {}
    events = contents.events
    lines = [f"Session {info.get('session', folder.name)}", f"Folder: {folder}"]
    start, end = info.get("start_us"), info.get("end_us")
    lines.append(f"Started: {utc(start) if isinstance(start, int) else '-'}")
    if isinstance(end, int):
        lines.append(f"Ended: {utc(end)} ({info.get('reason') or '-'})")
    else:
        lines.append("Ended: - (running, or ccy-evse stopped before the end)")
    lines += _overview(info, events)
    transactions = [e for e in events if _kind(e).startswith("transaction_")]
    errors = [e for e in events if _kind(e).startswith("error_") or _kind(e) in STOP_KINDS]
    lines.append("")
    lines.append(f"Transactions: {len(transactions)}")
    lines += [_event_line(e, start) for e in transactions]
    lines.append(f"Errors and stops: {len(errors)}")
    lines += [_event_line(e, start) for e in errors]
    lines.append("")
    lines.append(f"Events: {len(events)}")
    lines += [_event_line(e, start) for e in events]
    lines.append("")
    lines.append(f"V2G messages: {len(contents.v2g)}")
    for m in contents.v2g:
        arrow = {"rx": "EV → ", "tx": "EV ← "}.get(str(m.get("dir")), f"{m.get('dir')} ")
        offset = _offset(m, start)
        lines.append(f"  {_when(m)}  {offset:>10}  {arrow}{m.get('name', '?')}")
        if m.get("body") is not None:
            lines.append(f"      {_compact(m['body'])}")
        if m.get("exi"):
            lines.append(f"      EXI {m['exi']}")
    lines.append("")
    if contents.timing:
        lines.append("Timing:")
        lines += [f"  {line}" for line in contents.timing.rstrip("\n").splitlines()]
    else:
        lines.append("Timing: - (no charging cycle reached)")
    if contents.unreadable_lines:
        lines.append("")
        lines.append(
            f"({contents.unreadable_lines} unreadable line(s) skipped: cut by a power loss "
            "or a full disk)"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- arguments


def parse_since(text: str, now_s: float | None = None) -> float:
    """``--since``: an ISO 8601 time (UTC unless it names an offset) or an age such as 15m;
    seconds since the epoch. CtlError (exit 65) for anything else."""
    now = time.time() if now_s is None else now_s
    age = AGE_RE.fullmatch(text.strip())
    if age:
        return max(0.0, now - float(age["n"]) * AGE_UNITS[age["unit"]])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CtlError(
            f"--since {text!r} is neither a time nor an age",
            "give e.g. 2025-12-02T13:00Z, 2025-12-02, 90s, 15m, 2h or 7d",
            ExitCode.DATA,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp())


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= LIST_LIMIT_MAX:
        raise argparse.ArgumentTypeError(f"{value} is outside 1..{LIST_LIMIT_MAX}")
    return value


def _positive(unit: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{text} {unit} must be a number greater than 0")
        return value

    return parse


def _valid_for(text: str) -> float:
    value = _positive("s")(text)
    if value < 1 or value > VALID_FOR_MAX_S:
        raise argparse.ArgumentTypeError(f"{text} s is outside 1..{VALID_FOR_MAX_S:g} s")
    return float(value)


def external_limits_call(args: argparse.Namespace) -> tuple[float, float, float] | None:
    """The SetExternalLimits arguments the ``limits`` options ask for; None: only show."""
    if args.clear:
        if args.power is not None or args.current is not None or args.valid_for is not None:
            raise CtlError("--clear takes no other option", "use one or the other", ExitCode.USAGE)
        return (math.nan, math.nan, 0.0)
    if args.power is None and args.current is None:
        if args.valid_for is not None:
            raise CtlError(
                "--valid-for needs --power and/or --current", "add the limit", ExitCode.USAGE
            )
        return None
    if args.valid_for is None:
        raise CtlError(
            "an external limit needs --valid-for S (1..86400)",
            "say how long it holds",
            ExitCode.USAGE,
        )
    power = args.power if args.power is not None else math.nan
    current = args.current if args.current is not None else math.nan
    return (power, current, args.valid_for)


# ---------------------------------------------------------------------------- bus


class EvseProxy:
    """org.ccy.Evse1 + Errors1 + Properties of ccy-evse, built from the committed XML."""

    def __init__(self, bus: Any) -> None:
        node = contract_node(IFACE, ERRORS_IFACE, PROPERTIES)
        obj = bus.get_proxy_object(BUS_NAME, OBJECT_PATH, node)
        self.evse: Any = obj.get_interface(IFACE)
        self.errors: Any = obj.get_interface(ERRORS_IFACE)
        self.props: Any = obj.get_interface(PROPERTIES)

    async def call(self, method: Method, *args: object) -> Any:
        return await getattr(self.evse, "call_" + _snake(method))(*args)

    async def get_all(self) -> dict[str, Any]:
        values: dict[str, Variant] = await self.props.call_get_all(IFACE)
        return {k: v.value for k, v in values.items()}

    async def active_errors(self) -> list[list[Any]]:
        errors: list[list[Any]] = await self.errors.get_active_errors()
        return errors


async def _on_bus(timeout_s: float, action: str, args: argparse.Namespace) -> str | None:
    async with system_bus(timeout_s) as bus:
        evse = EvseProxy(bus)

        async def ask(request: Any) -> Any:
            return await answer_within(request, UNIT, timeout_s)

        if action == "status":
            props = await ask(evse.get_all())
            return format_status(props, await ask(evse.active_errors()))
        if action in ("enable", "disable"):
            await ask(evse.call(Method.ENABLE, action == "enable"))
        elif action == "stop":
            await ask(evse.call(Method.STOP_TRANSACTION, args.reason))
        elif action == "pause":
            await ask(evse.call(Method.PAUSE))
        elif action == "resume":
            await ask(evse.call(Method.RESUME))
        elif action == "limits":
            wanted = args.external
            if wanted is not None:
                await ask(evse.call(Method.SET_EXTERNAL_LIMITS, *wanted))
            props = await ask(evse.get_all())
            return "\n".join(
                [
                    format_limits(Prop.CONNECTOR_LIMITS, props[Prop.CONNECTOR_LIMITS]),
                    format_limits(Prop.EFFECTIVE_LIMITS, props[Prop.EFFECTIVE_LIMITS]),
                    format_external(props[Prop.EXTERNAL_LIMITS]),
                ]
            )
        elif action == "transactions":
            rows = await ask(evse.call(Method.LIST_TRANSACTIONS, args.limit))
            return format_transactions([TransactionRecord.from_struct(r) for r in rows])
        elif action == "errors":
            rows = await ask(evse.call(Method.LIST_ERRORS, args.since_s, args.limit))
            return format_errors([ErrorRecord.from_struct(r) for r in rows])
        return None


# ---------------------------------------------------------------------------- session logs


def show_sessions(args: argparse.Namespace) -> str:
    base = sessions_dir(Paths.from_root(args.root))
    if not base.is_dir():
        raise CtlError(
            f"{base}: no session-log folder",
            "ccy-evse makes it at its first session; is this the right --root?",
            ExitCode.NO_INPUT,
        )
    return format_sessions(base, args.limit)


def show_session(args: argparse.Namespace) -> str:
    base = sessions_dir(Paths.from_root(args.root))
    if not base.is_dir():
        raise CtlError(
            f"{base}: no session-log folder", "is this the right --root?", ExitCode.NO_INPUT
        )
    wanted = args.id.strip()
    folder = find_folder(base, wanted)
    if folder is None:  # the folder's name given instead of the id
        folder = next((f for f in list_folders(base) if f.name == wanted), None)
    if folder is None:
        raise CtlError(
            f"no session log of {wanted!r} in {base}",
            "list them with 'ccyctl evse sessions'; retention may have removed it",
            ExitCode.NO_INPUT,
        )
    path = folder.path
    return format_session(path, read_folder(path))


# ---------------------------------------------------------------------------- commands

BUS_ACTIONS = ("status", "enable", "disable", "stop", "pause", "resume", "limits")


def _run(args: argparse.Namespace) -> int:
    """Failures (no bus, ccy-evse not running, refusals, files) go up to ccy.ctl.main."""
    action = args.action
    if action == "sessions":
        out: str | None = show_sessions(args)
    elif action == "session":
        out = show_session(args)
    else:  # the arguments are checked before the bus is asked
        if action == "limits":
            args.external = external_limits_call(args)
        elif action == "errors":
            args.since_s = parse_since(args.since) if args.since else 0.0
        out = asyncio.run(_on_bus(args.timeout, action, args))
    if out is not None:
        print(out)
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("evse", help="the charging session and its records (ccy-evse)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="every property and the active errors")
    actions.add_parser("enable", help="Enable(true): put the connector in service")
    actions.add_parser("disable", help="Enable(false): take the connector out of service")
    stop = actions.add_parser("stop", help="StopTransaction: stop charging safely")
    stop.add_argument(
        "--reason",
        choices=[r.value for r in StopRequest],
        default=StopRequest.LOCAL.value,
        help="recorded as the transaction's stop reason (default Local)",
    )
    actions.add_parser("pause", help="Pause(): an EVSE pause (current 0 A)")
    actions.add_parser("resume", help="Resume(): end an EVSE pause")
    limits = actions.add_parser("limits", help="show limits; set or clear an external limit")
    limits.add_argument("--power", type=_positive("W"), metavar="W", help="max power, W")
    limits.add_argument("--current", type=_positive("A"), metavar="A", help="max current, A")
    limits.add_argument(
        "--valid-for", type=_valid_for, metavar="S", help="seconds it holds, 1..86400"
    )
    limits.add_argument("--clear", action="store_true", help="end the external limit now")
    transactions = actions.add_parser("transactions", help="the transactions, newest first")
    transactions.add_argument("--limit", type=_limit, default=20, metavar="N", help="default 20")
    errors = actions.add_parser("errors", help="the error history of every unit, newest first")
    errors.add_argument("--since", metavar="T", help="a UTC time (2025-12-02T13:00) or an age (2h)")
    errors.add_argument("--limit", type=_limit, default=100, metavar="N", help="default 100")
    sessions = actions.add_parser("sessions", help="the session logs, newest first")
    sessions.add_argument("--limit", type=_limit, default=50, metavar="N", help="default 50")
    session = actions.add_parser("session", help="one session's log")
    which = session.add_subparsers(dest="session_action", required=True, metavar="ACTION")
    which.add_parser("show", help="print one session's log readably").add_argument(
        "id", metavar="ID", help="the session id (or its folder's name)"
    )
    parser.set_defaults(func=_run)
