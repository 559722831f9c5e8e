# SPDX-License-Identifier: Apache-2.0
"""``python -m ccy.runtime.policy [--write | --check] [--dir DIR]``: policy files from the table
(``--check`` when neither is given).

``--write`` writes one file per row of :data:`~ccy.runtime.policy.table.POLICIES` into DIR
(default: the policy folder beside the project's D-Bus XML, dbus/policy); ``--check`` exits 1
when a file differs from the table, is missing, or names a bus without a row, and when a row
names a member the XML lacks. Each problem is one line naming the cause and the fix.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ccy.runtime.paths import dbus_dir
from ccy.runtime.policy.model import BusPolicy
from ccy.runtime.policy.render import render
from ccy.runtime.policy.table import POLICIES, UNIT_USERS

PROG = "python -m ccy.runtime.policy"
POLICY_GLOB = "org.ccy.*.conf"


def expected_files(
    policies: Sequence[BusPolicy] = POLICIES, unit_users: Sequence[str] = UNIT_USERS
) -> dict[str, str]:
    """File name → text, for every row of the table."""
    return {p.file_name: render(p, unit_users) for p in policies}


def table_problems(
    xml_dir: Path, policies: Sequence[BusPolicy] = POLICIES, unit_users: Sequence[str] = UNIT_USERS
) -> list[str]:
    return [line for p in policies for line in p.problems(unit_users, xml_dir)]


def file_problems(directory: Path, expected: dict[str, str]) -> list[str]:
    """One line per policy file in ``directory`` that is not exactly what the table gives."""
    fix = f"run `{PROG} --write`"
    found = []
    for file_name, text in sorted(expected.items()):
        path = directory / file_name
        if not path.is_file():
            found.append(f"{path}: missing; {fix}")
        elif path.read_text(encoding="utf-8") != text:
            found.append(f"{path}: differs from the policy table; {fix} (never edit it by hand)")
    for path in sorted(directory.glob(POLICY_GLOB)):
        if path.name not in expected:
            found.append(
                f"{path}: no row of ccy.runtime.policy.table for {path.stem}; "
                "add the row or delete the file"
            )
    return found


def write_files(directory: Path, expected: dict[str, str]) -> list[Path]:
    """Write every file whose text differs; returns the paths written."""
    written = []
    for file_name, text in sorted(expected.items()):
        path = directory / file_name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the policy files")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 when a file differs (the default)"
    )
    parser.add_argument(
        "--dir", type=Path, metavar="DIR", help="policy folder (default: dbus/policy)"
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir or dbus_dir() / "policy"
    if not directory.is_dir():
        print(f"{PROG}: {directory}: no such folder; pass --dir DIR", file=sys.stderr)
        return 2
    problems = table_problems(dbus_dir())
    if problems:
        for line in problems:
            print(f"{PROG}: {line}", file=sys.stderr)
        return 1
    expected = expected_files()
    if args.write:
        for path in write_files(directory, expected):
            print(f"wrote {path}")
        stale = [p for p in file_problems(directory, expected) if "no row" in p]
        for line in stale:
            print(f"{PROG}: {line}", file=sys.stderr)
        return 1 if stale else 0
    problems = file_problems(directory, expected)
    for line in problems:
        print(f"{PROG}: {line}", file=sys.stderr)
    return 1 if problems else 0
