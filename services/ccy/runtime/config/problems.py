# SPDX-License-Identifier: Apache-2.0
"""Named configuration problems: one per thing wrong, each pointing at a file and a line.

The format is the one ARCHITECTURE.md ("Configuration") promises the operator::

    /etc/ccy/config.yaml:7: bsp.serial_baud_Bd: 20 is below the minimum 9600 Bd

Line 0 means "the whole file" (it cannot be read, is empty, is not UTF-8 …) and is left out
of the text; an empty key path (a problem of the file, not of a key) is left out as well.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ConfigProblem:
    """One thing wrong with a config or manifest file."""

    file: str
    line: int
    key_path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.key_path:
            return f"{where}: {self.key_path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A config file is invalid; ``problems`` holds every problem found, in file order."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        if not problems:
            raise ValueError("ConfigError needs at least one problem")
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


class ManifestError(ConfigError):
    """A manifest (config/manifests/<section>.yaml) is broken: a packaging bug, not the operator's.

    A subclass of ConfigError so that a unit still exits with EX_CONFIG naming the manifest.
    """


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or "" when nothing is close."""
    # Imported here: only a config file with a mistake needs it, while loading the config
    # (start or reload, never a session's or the safety link's path); every unit saves the
    # module's 0.2 MiB.
    import difflib

    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""
