# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp started as a real process with a given configuration (the exit-78 tests)."""

import os
import subprocess
import sys
from pathlib import Path


def run_bsp_with_config(root: Path, config: Path) -> "subprocess.CompletedProcess[str]":
    """ccy-bsp as a real process under ``root`` with ``config``, as systemd would start it
    (no notify socket); it should stop at the configuration, so no UART is needed."""
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    return subprocess.run(
        [sys.executable, "-m", "ccy.bsp.main", "--root", str(root), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
