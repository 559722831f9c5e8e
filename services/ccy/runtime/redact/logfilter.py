# SPDX-License-Identifier: Apache-2.0
"""Logging through the redaction function: identities never reach the journal in clear.

Three ways an identity reaches a log record, and what the filter does with each:

* an argument wrapped in :class:`Identity` (``log.info("Got validation request for token:
  %s", Identity(token))``): replaced by its hash. Without the filter an Identity prints
  ``[redacted]`` (fail closed), never the value;
* a mapping or list argument (a token object, a message's JSON view): identity fields redacted
  as :meth:`Redactor.redact_fields` does; likewise journal fields named like an identity
  field (``fields(evccid=…)`` → ``CCY_EVCCID``);
* a clear value that slipped into the message text (an f-string): replaced by its hash if the
  redactor has hashed it before (:meth:`Redactor.scrub`).

:func:`install_log_redaction` puts the filter on every handler of the root logger, so records
of every logger pass through it (logger filters would only see their own logger's records).
"""

import logging
from collections.abc import Mapping
from typing import Any

from ccy.runtime.redact.fields import is_identity_field
from ccy.runtime.redact.redactor import Redactor

JOURNAL_FIELD_PREFIX = "CCY_"
"""Prefix of structured journal fields (ccy.runtime.journal.fields)."""


class Identity:
    """A clear identity handed to a log call; printed only as its hash (through the filter)."""

    __slots__ = ("certificate", "value")

    def __init__(self, value: object, *, certificate: bool = False) -> None:
        self.value = value
        self.certificate = certificate

    def __str__(self) -> str:
        return "[redacted]"

    __repr__ = __str__


class RedactionFilter(logging.Filter):
    """Redacts identities in every record it sees (never drops a record)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        r = self.redactor
        if isinstance(record.args, Mapping):
            record.args = r.redact_fields(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(self._arg(a) for a in record.args)
        if isinstance(record.msg, Identity | Mapping | list):
            record.msg = self._arg(record.msg)
        for name, value in list(vars(record).items()):
            if name.startswith(JOURNAL_FIELD_PREFIX) and is_identity_field(
                name[len(JOURNAL_FIELD_PREFIX) :]
            ):
                setattr(record, name, r.redact(value))
        text = record.getMessage()
        scrubbed = r.scrub(text)
        if scrubbed != text:
            record.msg, record.args = scrubbed, None
        return True

    def _arg(self, arg: Any) -> Any:
        if isinstance(arg, Identity):
            if arg.certificate:
                return self.redactor.redact_certificate(arg.value)
            return self.redactor.redact(arg.value)
        if isinstance(arg, Mapping | list):
            return self.redactor.redact_fields(arg)
        return arg


def install_log_redaction(
    redactor: Redactor, logger: logging.Logger | None = None
) -> RedactionFilter:
    """Add one :class:`RedactionFilter` to every handler of ``logger`` (default: the root).

    Call it right after ``setup_logging``; handlers added later need it too.
    """
    target = logger or logging.getLogger()
    flt = RedactionFilter(redactor)
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactionFilter)]:
            handler.removeFilter(old)
        handler.addFilter(flt)
    return flt
