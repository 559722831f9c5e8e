# SPDX-License-Identifier: Apache-2.0
"""``ccyctl exi``: the ISO 15118-20 EXI codec (ccy.v2g.exi) on the command line.

    ccyctl exi decode --ns sap|cm|dc|ac HEX     prints the JSON view (design/v2g.md)
    ccyctl exi encode --ns sap|cm|dc|ac JSON    prints the EXI stream as hex
    ccyctl exi decode --batch < lines           one ``NS HEX`` per line → one JSON line each
    ccyctl exi encode --batch < lines           one ``NS JSON`` per line → one hex line each

Failures print ``ERROR <name>: <message>``: the codec's error class (``TruncatedStream``,
``SecondLevelEvent``, ``FacetViolation``…) or ``BadInput`` for text that is not hex/JSON or
an unknown namespace. In batch mode they take the failing line's place on stdout, blank
lines are skipped, and the exit status is 1 if any line failed.
"""

import argparse
import json
import sys
from typing import Any, TextIO

from ccy.v2g.exi import ExiError, Namespace, decode, encode


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
        return json.dumps(decode(ns, data), separators=(",", ":"), ensure_ascii=False)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"input is not JSON: {exc}") from None
    return encode(ns, doc).hex()


def _error(exc: Exception) -> str:
    message = exc.args[0] if exc.args else str(exc)
    return f"ERROR {type(exc).__name__}: {message}"


def run_batch(direction: str, lines: TextIO, out: TextIO) -> int:
    """Convert ``NS TEXT`` lines; one output line per non-blank input line."""
    status = 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        ns_key, _, text = line.partition(" ")
        try:
            out.write(convert(direction, ns_key, text.strip()) + "\n")
        except (ExiError, BadInput) as exc:
            out.write(_error(exc) + "\n")
            status = 1
    return status


def _run(args: argparse.Namespace) -> int:
    if args.batch:
        return run_batch(args.direction, sys.stdin, sys.stdout)
    if args.ns is None or args.text is None:
        print("ERROR BadInput: give --ns and the input, or --batch", file=sys.stderr)
        return 2
    try:
        print(convert(args.direction, args.ns, args.text))
    except (ExiError, BadInput) as exc:
        print(_error(exc), file=sys.stderr)
        return 1
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
