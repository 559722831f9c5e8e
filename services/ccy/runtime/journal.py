# SPDX-License-Identifier: Apache-2.0
"""Logging for ccy units: journald with structured fields, or a journal-like stderr line.

On the device every record goes to journald through systemd-python with
``SYSLOG_IDENTIFIER=<unit>`` (so ``journalctl -u ccy-bsp`` and ``journalctl -t ccy-bsp`` both
work) plus ``CCY_*`` fields given with :func:`fields`. Without a journal (a laptop, a test, the
simulator) the same record is one line on stderr shaped like ``journalctl -o short-iso-precise``:

    2026-11-23T20:50:07.123456+0000 host ccy-bsp[4711]: [INFO] Safety Controller Firmware: …

The simulator merges those lines from all units into one time-ordered journal.
"""

import logging
import os
import socket
import sys
import time
from typing import Any

JOURNAL_SOCKET = "/run/systemd/journal/socket"
FIELD_PREFIX = "CCY_"
_LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARN",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRIT",
}


def fields(**values: object) -> dict[str, Any]:
    """``extra=`` for a log call carrying structured journal fields: ``CCY_<NAME>=value``."""
    return {f"{FIELD_PREFIX}{k.upper()}": str(v) for k, v in values.items()}


class JournalLineFormatter(logging.Formatter):
    """Formats a record as one ``short-iso-precise`` journal line (UTC)."""

    def __init__(self, identifier: str) -> None:
        super().__init__()
        self._prefix = f"{socket.gethostname()} {identifier}[{os.getpid()}]"

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        micros = int((record.created % 1) * 1_000_000)
        level = _LEVEL_NAMES.get(record.levelno, record.levelname)
        text = record.getMessage()
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return f"{stamp}.{micros:06d}+0000 {self._prefix}: [{level}] {text}"


def _journal_handler(identifier: str) -> logging.Handler | None:
    if not os.path.exists(JOURNAL_SOCKET):
        return None
    try:
        from systemd.journal import JournalHandler
    except ImportError:
        return None
    handler: logging.Handler = JournalHandler(SYSLOG_IDENTIFIER=identifier)
    return handler


def setup_logging(
    identifier: str, level: int = logging.INFO, force_stderr: bool = False
) -> logging.Logger:
    """Route the root logger to journald (or stderr lines); returns the unit's logger."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = None if force_stderr else _journal_handler(identifier)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JournalLineFormatter(identifier))
    root.addHandler(handler)
    root.setLevel(level)
    return logging.getLogger(identifier)
