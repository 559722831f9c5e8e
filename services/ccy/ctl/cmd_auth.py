# SPDX-License-Identifier: Apache-2.0
"""``ccyctl auth``: tokens and reservations of ccy-auth (org.ccy.Auth1) for operators.

    ccyctl auth token ID [--type T] [--parent ID] [--connector N]
                                      ProvideToken: authorize the next (or present) session
    ccyctl auth tokens                ListTokens: the tokens ccy-auth holds now
    ccyctl auth reserve ID --minutes M [--connector N] [--parent ID]
                                      Reserve: only ID (or its parent id) may charge there
    ccyctl auth cancel RESERVATION    CancelReservation
    ccyctl auth reservations          the Reservations property

``token`` waits for the token's ValidationResult and TokenFinished (up to ``--timeout``) and
prints them; a refused token exits 1, a malformed one 65. Token ids are printed only as
their hashes (``[redacted] hash: …``), as everywhere. Failures (no bus, ccy-auth not running,
access denied, a refusal) are one line from ccy.ctl.main.
"""

import argparse
import asyncio
import time
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError

from ccy.auth.contract import (
    BUS_NAME,
    IFACE,
    OBJECT_PATH,
    UNIT,
    Method,
    Outcome,
    ProvideStatus,
    Signal,
    TokenType,
)
from ccy.ctl.failure import CtlError, ExitCode
from ccy.ctl.system_bus import answer_within, system_bus

PROPERTIES = "org.freedesktop.DBus.Properties"
MAX_RESERVATION_MINUTES = 7 * 24 * 60


def _message(member: str, signature: str = "", *body: Any) -> Message:
    return Message(
        destination=BUS_NAME,
        path=OBJECT_PATH,
        interface=IFACE,
        member=member,
        signature=signature,
        body=list(body),
    )


async def _call(bus: MessageBus, timeout_s: float, msg: Message) -> list[Any]:
    async def request() -> list[Any]:
        reply = await bus.call(msg)
        if reply is None:
            raise DBusError("org.freedesktop.DBus.Error.NoReply", "no reply")
        if reply.message_type is MessageType.ERROR:
            raise DBusError(str(reply.error_name), str(reply.body[0]) if reply.body else "")
        return list(reply.body)

    return await answer_within(request(), UNIT, timeout_s)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


async def _token(args: argparse.Namespace) -> int:
    timeout_s = args.timeout
    async with system_bus(timeout_s) as bus:
        seen: dict[str, list[Any]] = {}
        wanted: list[str] = []
        done = asyncio.Event()

        def on_signal(msg: Message) -> None:
            if msg.message_type is not MessageType.SIGNAL or msg.interface != IFACE:
                return
            if msg.body and wanted and msg.body[0] == wanted[0]:
                seen[str(msg.member)] = list(msg.body)
                if msg.member == Signal.TOKEN_FINISHED:
                    done.set()

        bus.add_message_handler(on_signal)
        await _call(
            bus,
            timeout_s,
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[f"type='signal',sender='{BUS_NAME}',interface='{IFACE}'"],
            ),
        )
        connectors = [args.connector] if args.connector else []
        token_hash, status, reason = await _call(
            bus,
            timeout_s,
            _message(
                str(Method.PROVIDE_TOKEN), "sssais", args.id, args.type, args.parent, connectors, ""
            ),
        )
        wanted.append(token_hash)
        print(f"Token: {token_hash or '(empty)'} ({args.type}): {status}")
        if status == ProvideStatus.INVALID:
            raise CtlError(f"ccy-auth refused the token: {reason}", "check the id", ExitCode.DATA)
        if status != ProvideStatus.PENDING:
            raise CtlError(f"ccy-auth refused the token: {reason}", "see 'ccyctl auth tokens'")
        try:
            await asyncio.wait_for(done.wait(), timeout_s)
        except TimeoutError:
            result = seen.get(Signal.VALIDATION_RESULT)
            if result is not None:
                print(f"Validation: {result[2]} ({result[3]})")
            print(f"Still held by ccy-auth after {timeout_s:g} s: see 'ccyctl auth tokens'")
            return 0
        result = seen.get(Signal.VALIDATION_RESULT)
        if result is not None:
            print(f"Validation: {result[2]}" + (f" ({result[3]})" if result[3] else ""))
        _hash, outcome, connector = seen[Signal.TOKEN_FINISHED]
        print(f"Outcome: {outcome}" + (f" on evse#{connector}" if connector else ""))
        return 0 if outcome in (Outcome.AUTHORIZED, Outcome.MASTER_PASS) else 1


async def _tokens(args: argparse.Namespace) -> int:
    async with system_bus(args.timeout) as bus:
        (tokens,) = await _call(bus, args.timeout, _message(str(Method.LIST_TOKENS)))
    if not tokens:
        print("No tokens held")
    for token_hash, kind, stage, connector, received in tokens:
        where = f" evse#{connector}" if connector else ""
        print(f"{token_hash}  {kind:<10} {stage}{where}  since {_when(received)}")
    return 0


async def _reserve(args: argparse.Namespace) -> int:
    if not 0 < args.minutes <= MAX_RESERVATION_MINUTES:
        raise CtlError(
            f"--minutes {args.minutes:g} is out of range",
            f"give 0 < minutes <= {MAX_RESERVATION_MINUTES} (7 days)",
            ExitCode.DATA,
        )
    expires = time.time() + args.minutes * 60
    async with system_bus(args.timeout) as bus:
        (rid,) = await _call(
            bus,
            args.timeout,
            _message(str(Method.RESERVE), "ssid", args.id, args.parent, args.connector, expires),
        )
    print(f"Reservation {rid} on evse#{args.connector} until {_when(expires)}")
    return 0


async def _cancel(args: argparse.Namespace) -> int:
    async with system_bus(args.timeout) as bus:
        await _call(bus, args.timeout, _message(str(Method.CANCEL_RESERVATION), "s", args.id))
    print(f"Reservation {args.id} cancelled")
    return 0


async def _reservations(args: argparse.Namespace) -> int:
    async with system_bus(args.timeout) as bus:
        (value,) = await _call(
            bus,
            args.timeout,
            Message(
                destination=BUS_NAME,
                path=OBJECT_PATH,
                interface=PROPERTIES,
                member="Get",
                signature="ss",
                body=[IFACE, "Reservations"],
            ),
        )
    rows = value.value
    if not rows:
        print("No reservations")
    for rid, token_hash, parent_hash, connector, expires in rows:
        parent = f" (or parent {parent_hash})" if parent_hash else ""
        print(f"{rid}  evse#{connector}  {token_hash}{parent}  until {_when(expires)}")
    return 0


ACTIONS = {
    "token": _token,
    "tokens": _tokens,
    "reserve": _reserve,
    "cancel": _cancel,
    "reservations": _reservations,
}


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(ACTIONS[args.action](args))


def register(sub: Any) -> None:
    parser = sub.add_parser("auth", help="tokens and reservations (ccy-auth)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    token = actions.add_parser("token", help="ProvideToken: authorize with a token id")
    token.add_argument("id", metavar="ID", help="the token id (an RFID UID in hex, an EIM id …)")
    token.add_argument(
        "--type",
        default=TokenType.OPERATOR.value,
        choices=[TokenType.RFID.value, TokenType.EIM.value, TokenType.OPERATOR.value],
        help="token type (default Operator)",
    )
    token.add_argument("--parent", default="", metavar="ID", help="its parent (group) id")
    token.add_argument("--connector", type=int, default=0, metavar="N", help="only evse#N")
    actions.add_parser("tokens", help="ListTokens: the tokens ccy-auth holds")
    reserve = actions.add_parser("reserve", help="Reserve a connector for a token id")
    reserve.add_argument("id", metavar="ID", help="the token id (clear, or its [redacted] hash)")
    reserve.add_argument(
        "--minutes", type=float, required=True, metavar="M", help="how long (at most 7 days)"
    )
    reserve.add_argument("--connector", type=int, default=1, metavar="N", help="default 1")
    reserve.add_argument("--parent", default="", metavar="ID", help="its tokens may use it too")
    actions.add_parser("cancel", help="CancelReservation").add_argument(
        "id", metavar="RESERVATION", help="reservation id"
    )
    actions.add_parser("reservations", help="the reservations in force")
    parser.set_defaults(func=_run)
