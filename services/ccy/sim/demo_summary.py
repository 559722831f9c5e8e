# SPDX-License-Identifier: Apache-2.0
"""What the demo reports at the end: the facts it gathered, as a short summary.

Numbers come from what the run itself shows: the units' journal lines (the timing block
ccy-evse logs at the first charge loop, the energy of "Transaction Finished"), the time
stamps of the journal records (fault injected → power withdrawn), the vehicle's own round
trips, and the session's log folder as ccy-evse wrote it.
"""

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ccy.evse.session_log import find_folder, read_folder, sessions_dir
from ccy.runtime.paths import Paths

ENERGY = re.compile(r"Transaction Finished: (?P<reason>\w+) \((?P<energy>[^)]*)\)")


@dataclass
class Facts:
    directory: Path
    address: str = ""
    ready_s: float = 0.0
    """From starting the stack until every unit sent READY=1."""
    versions: list[str] = field(default_factory=list)
    firmware: str = ""
    session_id: str = ""
    transaction_id: str = ""
    v2g_session: str = ""
    tls: str = ""
    transaction_line: str = ""
    timing: list[str] = field(default_factory=list)
    loop_ms: list[float] = field(default_factory=list)
    fault_to_stop_ms: float | None = None
    """Supply fault injected → ccy-evse's stop (power stage Off asked)."""
    fault_to_open_ms: float | None = None
    """Supply fault injected → ccy-bsp withdraws power-on (the contactor opens)."""
    estop_to_stop_ms: float | None = None
    duration_s: float = 0.0

    def session_folder(self) -> Path | None:
        if not self.session_id:
            return None
        found = find_folder(sessions_dir(Paths.from_root(self.directory)), self.session_id)
        return found.path if found is not None else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def summary(f: Facts) -> list[str]:
    lines = ["", "Summary", "-------"]
    lines.append(f"Stack: {len(f.versions)} units READY in {f.ready_s:.2f} s on {f.address or '-'}")
    lines += [f"  {v}" for v in f.versions]
    lines.append(f"Safety controller: {f.firmware or '-'}")
    tls = f", {f.tls}" if f.tls else ""
    lines.append(f"Session: {f.session_id or '-'} (V2G session {f.v2g_session or '-'}{tls})")
    m = ENERGY.search(f.transaction_line)
    if m:
        lines.append(
            f"Transaction: {f.transaction_id or '-'}, finished {m['reason']}, energy {m['energy']}"
        )
    else:
        lines.append(f"Transaction: {f.transaction_id or '-'} (not finished)")
    lines.append("Timing (plug-in → charging, as ccy-evse logged it):")
    lines += [f"  {t}" for t in f.timing] or ["  -"]
    if f.loop_ms:
        lines.append(
            f"Charge loops: {len(f.loop_ms)}, request → response over TLS median "
            f"{statistics.median(f.loop_ms):.1f} ms, max {max(f.loop_ms):.1f} ms"
        )
    lines.append(
        f"Supply fault → stop asked {_ms(f.fault_to_stop_ms)}, "
        f"→ contactor open {_ms(f.fault_to_open_ms)}"
    )
    if f.estop_to_stop_ms is not None:
        lines.append(f"Emergency input → ccy-evse's emergency stop {_ms(f.estop_to_stop_ms)}")
    folder = f.session_folder()
    if folder is not None:
        contents = read_folder(folder)
        lines.append(f"Session log: {folder} ({len(contents.events)} events)")
        lines.append(f"  ccyctl --root {f.directory} evse session show {f.session_id}")
    else:
        lines.append("Session log: - (no folder for this session)")
    lines.append(f"Journal files: {f.directory / 'log'}")
    lines.append(f"Demo: {f.duration_s:.1f} s")
    return lines
