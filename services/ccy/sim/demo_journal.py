# SPDX-License-Identifier: Apache-2.0
"""The demo's eyes: the units' journal files under DIR/log, read as they grow.

Every process of the simulated stack writes ``short-iso-precise`` journal lines to
DIR/log/<name>.log (ccy.sim.supervisor). :class:`Journal` reads each file incrementally,
keeps its records (a line with a time stamp, plus the continuation lines that follow it, as a
multi-line JSON token), and lets the story wait for a unit's line: :meth:`Journal.expect`
looks only after the last line it matched in that unit's file, so the lines of one unit must
appear in the story's order. A line that does not come in time is a :class:`StepMissing`
naming the step, the unit and the wording it waited for.
"""

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

LINE = re.compile(
    r"^(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d{4}) \S+ "
    r"(?P<ident>[\w.-]+)\[\d+\]: (?:\[(?P<level>\w+)\] )?(?P<text>.*)$"
)
POLL_S = 0.02


class StepMissing(RuntimeError):
    """A step of the story did not show in the journal in time."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail


@dataclass
class Record:
    stamp: str
    ident: str
    level: str
    text: str
    """The message; continuation lines follow after newlines."""

    @property
    def seconds(self) -> float:
        """Seconds since the epoch (for intervals between records)."""
        return datetime.strptime(self.stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


@dataclass
class UnitLog:
    """One process's journal file, read incrementally."""

    path: Path
    offset: int = 0
    partial: bytes = b""
    records: list[Record] = field(default_factory=list)

    def poll(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        if not data:
            return
        self.offset += len(data)
        data = self.partial + data
        *lines, self.partial = data.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            m = LINE.match(line)
            if m:
                self.records.append(Record(m["stamp"], m["ident"], m["level"] or "", m["text"]))
            elif self.records:
                self.records[-1].text += "\n" + line


Matcher = Callable[[str], bool]


def matcher(wanted: "str | re.Pattern[str]") -> Matcher:
    """A substring, or a regular expression searched in the message."""
    if isinstance(wanted, str):
        return lambda text: wanted in text
    return lambda text: wanted.search(text) is not None


def describe(wanted: "str | re.Pattern[str]") -> str:
    return repr(wanted) if isinstance(wanted, str) else f"/{wanted.pattern}/"


class Journal:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.logs: dict[str, UnitLog] = {}
        self.cursor: dict[str, int] = {}
        self.seen: list[tuple[str, Record]] = []
        """(step, record) of every step matched, in story order."""
        self.fault_source: Callable[[], str | None] = lambda: None
        """Says why waiting is pointless (the vehicle failed, a unit died), or None."""

    def log(self, unit: str) -> UnitLog:
        if unit not in self.logs:
            self.logs[unit] = UnitLog(self.log_dir / f"{unit}.log")
        self.logs[unit].poll()
        return self.logs[unit]

    def find(self, unit: str, wanted: "str | re.Pattern[str]", start: int = 0) -> int | None:
        test = matcher(wanted)
        records = self.log(unit).records
        for i in range(start, len(records)):
            if test(records[i].text):
                return i
        return None

    def count(self, unit: str, wanted: "str | re.Pattern[str]") -> int:
        """How many lines of ``unit`` after its cursor match."""
        test = matcher(wanted)
        records = self.log(unit).records
        return sum(1 for r in records[self.cursor.get(unit, 0) :] if test(r.text))

    async def expect(
        self, step: str, unit: str, wanted: "str | re.Pattern[str]", timeout_s: float
    ) -> Record:
        """Wait for ``unit``'s next line matching ``wanted`` (after its previous match)."""
        deadline = time.monotonic() + timeout_s
        while True:
            start = self.cursor.get(unit, 0)
            index = self.find(unit, wanted, start)
            if index is not None:
                record = self.log(unit).records[index]
                self.cursor[unit] = index + 1
                self.seen.append((step, record))
                return record
            why = self.fault_source()
            if why is not None or time.monotonic() > deadline:
                detail = f"{unit} did not log {describe(wanted)} within {timeout_s:g} s"
                if why is not None:
                    # the vehicle may still be writing its last lines: one more look first
                    await asyncio.sleep(0.2)
                    if self.find(unit, wanted, start) is not None:
                        continue
                    detail = f"{unit} did not log {describe(wanted)} ({why})"
                raise StepMissing(step, detail)
            await asyncio.sleep(POLL_S)
