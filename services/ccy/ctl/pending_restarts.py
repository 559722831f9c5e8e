# SPDX-License-Identifier: Apache-2.0
"""Units that still run an older configuration, remembered until they are restarted.

``ccyctl config apply`` that does not restart (a session is active, ``--no-restart``) writes
the units here, so the next apply restarts them even when its own file changes nothing more
(comparing files alone would miss them). The file lives under /run/ccy: a reboot restarts
every unit, and forgets the list with them. A list that cannot be read or written is treated
as empty: it only ever adds restarts.
"""

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

FILE_NAME = "config-restart-pending"


class PendingRestarts:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / FILE_NAME

    def units(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return []
        return sorted({line.strip() for line in text.splitlines() if line.strip()})

    def add(self, units: Iterable[str]) -> None:
        wanted = sorted({*self.units(), *units})
        temp = self.path.with_name(f".{FILE_NAME}.tmp-{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text("".join(f"{unit}\n" for unit in wanted), encoding="utf-8")
            os.replace(temp, self.path)
        except OSError:
            temp.unlink(missing_ok=True)

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
