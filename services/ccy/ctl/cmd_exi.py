# SPDX-License-Identifier: Apache-2.0
"""``ccyctl exi``: the ISO 15118-20 EXI codec (ccy.v2g.exi) on the command line.

    ccyctl exi decode --ns sap|cm|dc|ac HEX     prints the JSON view (design/v2g.md)
    ccyctl exi encode --ns sap|cm|dc|ac JSON    prints the EXI stream as hex
    ccyctl exi decode --batch < lines           one ``NS HEX`` per line → one JSON line each
    ccyctl exi encode --batch < lines           one ``NS JSON`` per line → one hex line each

A single conversion that fails prints one line ``ccyctl: exi decode --ns NS: <name>: <message>
(<fix>)`` on stderr (exit 65); in batch mode a failure is ``ERROR <name>: <message>``. The name
is the codec's error class (``TruncatedStream``, ``SecondLevelEvent``, ``FacetViolation``…) or
``BadInput`` for text that is not hex/JSON or an unknown namespace. A stream that fails in its
namespace but decodes in another says so (``the namespace may be wrong: it decodes with --ns
dc``). In batch mode the ERROR line takes
the failing line's place on stdout, blank lines are skipped, and when any line failed one
line on stderr says how many and the exit status is 65 (EX_DATAERR).
"""

import argparse
import json
import sys
from typing import Any, TextIO

from ccy.ctl.failure import CtlError, ExitCode
from ccy.v2g.exi import ExiError, Namespace, decode, encode

SINGLE_FIX = {
    "decode": "give one whole EXI document, as hex, of the namespace named by --ns",
    "encode": "give one JSON document of the namespace's JSON view (design/v2g.md)",
}


class BadInput(Exception):
    """The command-line text is not hex / JSON, or names no namespace."""


def convert(direction: str, ns_key: str, text: str) -> str:
    """One decode (hex → JSON line) or encode (JSON → hex) in the given namespace."""
    try:
        ns = Namespace.from_key(ns_key)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if direction == "decode":
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise BadInput("input is not hexadecimal") from None
        try:
            view = decode(ns, data)
        except ExiError as exc:
            other = namespace_that_decodes(data, ns)
            if other is not None:
                exc.add_note(
                    f"the namespace may be wrong: it decodes with --ns {other.name.lower()}"
                )
            raise
        return json.dumps(view, separators=(",", ":"), ensure_ascii=False)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"input is not JSON: {exc}") from None
    return encode(ns, doc).hex()


def namespace_that_decodes(data: bytes, tried: Namespace) -> Namespace | None:
    """The first namespace other than ``tried`` in which ``data`` decodes, if any."""
    for ns in Namespace:
        if ns is tried:
            continue
        try:
            decode(ns, data)
        except ExiError:
            continue
        return ns
    return None


def _message(exc: Exception) -> str:
    """The error's message, with the notes added on the way (the namespace hint)."""
    message = str(exc.args[0]) if exc.args else str(exc)
    notes = getattr(exc, "__notes__", [])
    return message + "".join(f" ({note})" for note in notes)


def _error(exc: Exception) -> str:
    return f"ERROR {type(exc).__name__}: {_message(exc)}"


def run_batch(direction: str, lines: TextIO, out: TextIO) -> tuple[int, int]:
    """Convert ``NS TEXT`` lines; one output line per non-blank input line.

    Returns (lines converted or failed, lines failed).
    """
    done = failed = 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        ns_key, _, text = line.partition(" ")
        done += 1
        try:
            out.write(convert(direction, ns_key, text.strip()) + "\n")
        except (ExiError, BadInput) as exc:
            out.write(_error(exc) + "\n")
            failed += 1
    return done, failed


def _run(args: argparse.Namespace) -> int:
    if args.batch:
        done, failed = run_batch(args.direction, sys.stdin, sys.stdout)
        if failed:
            sys.stdout.flush()
            raise CtlError(
                f"exi {args.direction}: {failed} of {done} lines failed",
                "see the ERROR lines in their place on stdout",
                ExitCode.DATA,
            )
        return 0
    if args.ns is None or args.text is None:
        raise CtlError(
            f"exi {args.direction}: no input",
            f"give --ns NS and the input, or --batch: see 'ccyctl exi {args.direction} --help'",
            ExitCode.USAGE,
        )
    try:
        print(convert(args.direction, args.ns, args.text))
    except (ExiError, BadInput) as exc:
        notes = getattr(exc, "__notes__", [])
        message = str(exc.args[0]) if exc.args else str(exc)
        raise CtlError(
            f"exi {args.direction} --ns {args.ns}: {type(exc).__name__}: {message}",
            notes[0] if notes else SINGLE_FIX[args.direction],
            ExitCode.DATA,
        ) from None
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("exi", help="ISO 15118-20 EXI decode/encode (JSON view)")
    actions = parser.add_subparsers(dest="direction", required=True, metavar="ACTION")
    for direction, what in (("decode", "HEX"), ("encode", "JSON")):
        action = actions.add_parser(direction, help=f"{direction} {what} (or --batch from stdin)")
        action.add_argument("--ns", help="namespace: sap, cm, dc or ac")
        action.add_argument("--batch", action="store_true", help=f"read 'NS {what}' lines")
        action.add_argument("text", nargs="?", metavar=what)
    parser.set_defaults(func=_run)
