# SPDX-License-Identifier: Apache-2.0
"""Fuzz the local token list loader: any bytes give a list or file:line problems, nothing else.

When the first byte is even the rest is the file as is; when odd it builds a ``tokens:`` list
from fuzzed entries (known and unknown keys, fuzzed one-line values), so the entry checks are
reached. A loaded list must hold only entries whose ids are valid, and problems must each
start with the file name and a line number and never be empty.

    python tests/fuzz/fuzz_auth_list.py -atheris_runs=100000
"""

import re
import sys

import atheris

with atheris.instrument_imports():
    from ccy.auth.validators.local_list import parse_list

FILE = "/etc/ccy/auth/tokens.yaml"
KEYS = ("id", "type", "status", "group_id", "expires_at", "colour", "ID")
PROBLEM = re.compile(re.escape(FILE) + r":\d+: .+")


def structured(data: bytes) -> bytes:
    fdp = atheris.FuzzedDataProvider(data)
    lines = ["tokens:"]
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        first = True
        for _ in range(fdp.ConsumeIntInRange(1, 4)):
            key = KEYS[fdp.ConsumeIntInRange(0, len(KEYS) - 1)]
            value = fdp.ConsumeUnicodeNoSurrogates(20).replace("\n", " ").replace("\r", " ")
            lines.append(f"  {'- ' if first else '  '}{key}: {value}")
            first = False
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def test_one_input(data: bytes) -> None:
    content = structured(data[1:]) if data[:1] and data[0] & 1 else data[1:]
    loaded, problems = parse_list(content, FILE)
    if (loaded is None) == (not problems):
        raise AssertionError("a list and problems, or neither")
    for problem in problems:
        if not PROBLEM.fullmatch(problem) and not problem.startswith(f"{FILE}: … and"):
            raise AssertionError(f"malformed problem {problem!r}")
    if loaded is not None:
        for key in loaded.entries:
            if not key or key != key.upper():
                raise AssertionError(f"bad key {key!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
