# SPDX-License-Identifier: Apache-2.0
"""The journal-like stderr line used when there is no journald."""

import logging
import re

import pytest

from ccy.runtime.journal import JournalLineFormatter, fields, setup_logging

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000 \S+ ccy-bsp\[\d+\]: \[WARN\] hot: 72\.5$"
)


def test_line_has_journal_shape() -> None:
    record = logging.LogRecord("ccy-bsp", logging.WARNING, __file__, 1, "hot: %.1f", (72.5,), None)
    assert LINE.match(JournalLineFormatter("ccy-bsp").format(record))


def test_stderr_fallback_without_journal(capsys: pytest.CaptureFixture[str]) -> None:
    log = setup_logging("ccy-bsp", force_stderr=True)
    log.warning("hot: %.1f", 72.5, extra=fields(sensor="dc_plus"))
    assert LINE.match(capsys.readouterr().err.strip())


def test_structured_fields_are_prefixed_and_upper_case() -> None:
    assert fields(sensor="dc_plus", degc=72.5) == {"CCY_SENSOR": "dc_plus", "CCY_DEGC": "72.5"}
