# SPDX-License-Identifier: Apache-2.0
"""The repository stands alone: no test, benchmark, fuzz target, service or CI script reaches
outside the clone (a user's clone has no ``shared/`` beside it). Data the tests need lives in
tests/data with its provenance (tests/data/vectors/README.md)."""

import io
import re
import tokenize
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[1]
# Code (not comments or docstrings) that climbs above the repository or names the folder
# beside it.
OUTSIDE = re.compile(r"\.\./shared|/\s*[\"']shared[\"']|TOP\.parent\b|parents\[(\d+)\]")
SCANNED = ("tests", "benchmarks", "services", ".ci")


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """Lines of Python code with comments and string-only statements (docstrings) removed."""
    text = path.read_text()
    keep: dict[int, list[str]] = {}
    previous = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            continue
        if tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT):
            previous = tok.type
            continue  # a docstring or a bare string statement
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            keep.setdefault(tok.start[0], []).append(tok.string)
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            previous = tok.type
    return [(n, "".join(parts)) for n, parts in sorted(keep.items())]


def _too_high(path: Path, line: str) -> bool:
    for match in OUTSIDE.finditer(line):
        if match.group(1) is None:
            return True
        # parents[N] of a file D folders below the top climbs out of the repository if N > D.
        depth = len(path.relative_to(TOP).parts) - 1
        if int(match.group(1)) > depth:
            return True
    return False


def offenders() -> list[str]:
    found = []
    for folder in SCANNED:
        for path in sorted((TOP / folder).rglob("*")):
            if path == Path(__file__).resolve() or not path.is_file():
                continue
            if path.suffix == ".py":
                lines = _code_lines(path)
            elif folder == ".ci" and path.suffix in (".sh", ""):
                lines = list(enumerate(path.read_text().splitlines(), 1))
            else:
                continue
            found += [
                f"{path.relative_to(TOP)}:{n}: {line.strip()}"
                for n, line in lines
                if _too_high(path, line)
            ]
    makefile = TOP / "Makefile"
    found += [
        f"Makefile:{n}: {line}"
        for n, line in enumerate(makefile.read_text().splitlines(), 1)
        if "../" in line and not line.lstrip().startswith("#")
    ]
    return found


def test_nothing_reaches_outside_the_repository() -> None:
    assert offenders() == []


# The folder beside the clone, spelt in two pieces so that a plain grep for it (as a reviewer
# runs over tests/) finds only real offenders, not these examples of what the check refuses.
SIBLING = "sha" + "red"


@pytest.mark.parametrize(
    "line",
    [
        f'VECTORS = Path(__file__).resolve().parents[3] / "{SIBLING}" / "vectors"',
        f'VECTORS = TOP.parent / "{SIBLING}" / "vectors"',
        f'open("../{SIBLING}/vectors/x.txt")',
    ],
)
def test_the_check_catches_a_path_outside(line: str) -> None:
    assert _too_high(TOP / "tests" / "v2g" / "x.py", line)


def test_the_check_lets_a_path_inside_pass() -> None:
    assert not _too_high(TOP / "tests" / "v2g" / "x.py", 'Path(__file__).parents[1] / "data"')


def test_the_vectors_are_in_the_repository() -> None:
    folder = TOP / "tests" / "data" / "vectors"
    assert (folder / "README.md").is_file()
    assert len((folder / "iso15118-20" / "libiso15118-tests.txt").read_text().splitlines()) == 43
