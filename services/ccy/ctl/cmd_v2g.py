# SPDX-License-Identifier: Apache-2.0
"""``ccyctl v2g``: the ISO 15118-20 SECC (ccy-v2g) for operators.

    ccyctl v2g status     the session (state, protocol, security, EVCCID redacted, selection,
                          the EV's limits and last targets), ports, the SECC leaf in use,
                          message and transport counters, last error, active errors
    ccyctl v2g certs      the certificate store (/etc/ccy/certs, or ROOT/etc/ccy/certs with
                          --root): each file's role, subject, expiry and state, and which SECC
                          chain is in use (read from the files; the bus only names the one
                          ccy-v2g loaded, when it runs)

The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS. Failures (no bus, ccy-v2g not
running, access denied, no answer within ``--timeout``) are one line from ccy.ctl.main.
"""

import argparse
import asyncio
import datetime
import math
from pathlib import Path
from typing import Any

from dbus_fast import DBusError, Message, MessageType
from dbus_fast.aio import MessageBus

from ccy.ctl.failure import CtlError, ExitCode
from ccy.ctl.system_bus import answer_within, system_bus
from ccy.pki.layout import CertsLayout
from ccy.runtime.contract import ERRORS_IFACE
from ccy.runtime.paths import Paths
from ccy.v2g import cert_store
from ccy.v2g.contract import BUS_NAME, IFACE, OBJECT_PATH, UNIT

PROPERTIES = "org.freedesktop.DBus.Properties"
ORDER = (
    "SessionState",
    "SecurityMode",
    "Protocol",
    "SessionId",
    "EvseSessionId",
    "EVCCID",
    "SelectedService",
    "SelectedParameters",
    "EvLimits",
    "EvTargets",
    "SdpPort",
    "TcpPort",
    "TlsPort",
    "Leaf",
    "WaitingFor",
    "LastError",
    "MessageCounters",
)


async def _call(bus: MessageBus, iface: str, member: str, signature: str, body: list[Any]) -> Any:
    reply = await bus.call(
        Message(
            destination=BUS_NAME,
            path=OBJECT_PATH,
            interface=iface,
            member=member,
            signature=signature,
            body=body,
        )
    )
    assert reply is not None
    if reply.message_type is MessageType.ERROR:
        raise DBusError(str(reply.error_name), str(reply.body[0]) if reply.body else "")
    return reply.body[0]


async def fetch(bus: MessageBus) -> tuple[dict[str, Any], list[list[Any]]]:
    props = await _call(bus, PROPERTIES, "GetAll", "s", [IFACE])
    errors = await _call(bus, PROPERTIES, "Get", "ss", [ERRORS_IFACE, "ActiveErrors"])
    return {k: v.value for k, v in props.items()}, list(errors.value)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:g}"
    return str(value)


def _value(key: str, value: Any) -> str:
    if key == "Protocol":
        return f"{value[0]} (schema {value[1]})" if value[0] else "-"
    if key == "SelectedService":
        names = {2: "DC", 6: "DC_BPT", 8: "MCS", 9: "MCS_BPT"}
        sid, pset = value
        return f"{names.get(sid, sid)} ({sid}), parameter set {pset}" if sid else "-"
    if key == "Leaf":
        path, not_after = value
        if not path:
            return "none"
        when = datetime.datetime.fromtimestamp(not_after, datetime.UTC)
        return f"{path} (valid until {when:%Y-%m-%d %H:%M} UTC)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_number(v)}" for k, v in sorted(value.items())) or "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return str(value) if value != "" else "-"


def format_status(props: dict[str, Any], errors: list[list[Any]]) -> str:
    lines = [f"{key}: {_value(key, props[key])}" for key in ORDER if key in props]
    lines += [f"{key}: {_value(key, props[key])}" for key in sorted(props) if key not in ORDER]
    lines.append(f"Active errors: {len(errors)}")
    lines += [f"  {sev:<6} {typ}/{sub or '-'}: {msg}" for typ, sub, sev, msg, _ in errors]
    return "\n".join(lines)


def format_certs(entries: list[cert_store.CertEntry], base: Path) -> str:
    lines = [f"Certificate store: {base}"]
    for e in entries:
        until = f"{e.not_after:%Y-%m-%d}" if e.not_after is not None else "-"
        mark = "  (in use)" if e.in_use else ""
        lines.append(f"  {e.role:<13} {e.status:<16} until {until}  {e.subject or '-'}{mark}")
        lines.append(f"    {e.path}")
    return "\n".join(lines)


async def _status(timeout_s: float) -> str:
    async with system_bus(timeout_s) as bus:
        props, errors = await answer_within(fetch(bus), UNIT, timeout_s)
        return format_status(props, errors)


async def _in_use(timeout_s: float) -> Path | None:
    """The chain ccy-v2g loaded (None when it does not run or uses none)."""
    try:
        async with system_bus(timeout_s) as bus:
            props, _ = await answer_within(fetch(bus), UNIT, timeout_s)
    except CtlError:
        return None
    path = props.get("Leaf", ("", 0.0))[0]
    return Path(path) if path else None


def _certs(args: argparse.Namespace) -> str:
    layout = CertsLayout.for_paths(Paths.from_root(args.root))
    base = layout.base
    if not base.is_dir():
        raise CtlError(
            f"v2g certs: {base}: no certificate store",
            "create one: ccyctl pki dev --out " + str(base),
            ExitCode.NO_INPUT,
        )
    in_use = asyncio.run(_in_use(min(args.timeout, 2.0)))
    if in_use is None:  # ccy-v2g not running: say which one it would pick
        try:
            in_use = cert_store.find_valid_leaf(layout).chain_file
        except cert_store.CertStoreError:
            in_use = None
    return format_certs(cert_store.describe(layout, in_use=in_use), base)


def _run(args: argparse.Namespace) -> int:
    if args.action == "status":
        print(asyncio.run(_status(args.timeout)))
    else:
        print(_certs(args))
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("v2g", help="the ISO 15118-20 SECC (ccy-v2g)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="session, ports, counters and active errors")
    actions.add_parser("certs", help="the certificate store, validity, the leaf in use")
    parser.set_defaults(func=_run)
