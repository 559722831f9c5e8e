# SPDX-License-Identifier: Apache-2.0
"""Logging through the redaction function (ccy.runtime.redact.logfilter)."""

import io
import logging
from collections.abc import Iterator

import pytest

from ccy.runtime.journal import JournalLineFormatter, fields
from ccy.runtime.redact import Identity, Redactor, install_log_redaction

TOKEN = "04A1B2C3D4E5F6"
EVCCID = "WMIV1234567890ABCDEX"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(bytes(range(32)))


@pytest.fixture
def journal(redactor: Redactor) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A root handler writing journal lines to a buffer, with redaction installed."""
    root = logging.getLogger()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JournalLineFormatter("ccy-auth"))
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    install_log_redaction(redactor)
    try:
        yield logging.getLogger("ccy-auth.selection"), buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_identity_arguments_are_hashed(
    journal: tuple[logging.Logger, io.StringIO], redactor: Redactor
) -> None:
    log, buffer = journal
    log.info("Got validation request for token: %s", Identity(TOKEN))
    line = buffer.getvalue()
    assert TOKEN not in line
    assert f"Got validation request for token: {redactor.redact(TOKEN)}" in line


def test_mapping_arguments_and_messages_are_redacted_by_field(
    journal: tuple[logging.Logger, io.StringIO],
) -> None:
    log, buffer = journal
    token = {"authorization_type": "RFID", "id_token": {"type": "ISO14443", "value": TOKEN}}
    log.info("Received new token: %s", token)
    log.info({"SessionSetupReq": {"EVCCID": EVCCID}})
    text = buffer.getvalue()
    assert TOKEN not in text and EVCCID not in text
    assert "ISO14443" in text and "RFID" in text
    assert token["id_token"]["value"] == TOKEN  # the caller's object is not changed


def test_a_clear_value_in_an_fstring_is_scrubbed_once_seen(
    journal: tuple[logging.Logger, io.StringIO], redactor: Redactor
) -> None:
    log, buffer = journal
    hashed = redactor.redact(TOKEN)
    log.info(f"Result for token: {TOKEN}: ACCEPTED")
    assert f"Result for token: {hashed}: ACCEPTED" in buffer.getvalue()
    assert TOKEN not in buffer.getvalue()


def test_journal_fields_named_like_identities_are_hashed(
    journal: tuple[logging.Logger, io.StringIO], redactor: Redactor
) -> None:
    log, _ = journal
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        install_log_redaction(redactor)  # again: replaces the filter, does not stack it
        log.info("session", extra=fields(evccid=EVCCID, session="S1"))
    finally:
        logging.getLogger().removeHandler(keep)
    record = seen[0]
    assert vars(record)["CCY_EVCCID"] == redactor.redact(EVCCID)
    assert vars(record)["CCY_SESSION"] == "S1"
    assert all(
        sum(type(f).__name__ == "RedactionFilter" for f in h.filters) <= 1
        for h in logging.getLogger().handlers
    )


def test_an_identity_without_the_filter_prints_nothing_clear() -> None:
    assert str(Identity(TOKEN)) == "[redacted]"
    assert "%s" % Identity(TOKEN) == "[redacted]"  # noqa: UP031
    assert TOKEN not in repr(Identity(TOKEN))
