# SPDX-License-Identifier: Apache-2.0
"""Redaction as one function for every unit (issue 10; contracts.md: identities only hashed).

At start a unit builds its :class:`Redactor` once and passes everything that may hold an
identity through it: log records (:func:`install_log_redaction`, :class:`Identity`), bus
properties and signal arguments (:meth:`Redactor.redact`, :meth:`Redactor.redact_fields`) and
session-log records (:meth:`Redactor.redact_fields`, :meth:`Redactor.redact_json`)::

    redactor = Redactor.for_paths(paths)        # /var/lib/ccy/redaction/key, made at first start
    install_log_redaction(redactor)
    log.info("Got validation request for token: %s", Identity(token_id))
    view = redactor.redact_fields(message_json_view)

The identity fields are listed in :mod:`.fields`, the key's life in :mod:`.key`.
"""

from ccy.runtime.redact.fields import CERTIFICATE_FIELDS, IDENTITY_FIELDS, is_identity_field
from ccy.runtime.redact.key import KEY_BYTES, RedactionKeyError, key_file, load_or_create_key
from ccy.runtime.redact.logfilter import Identity, RedactionFilter, install_log_redaction
from ccy.runtime.redact.redactor import HASH_DIGITS, PREFIX, Redactor, is_redacted

__all__ = [
    "CERTIFICATE_FIELDS",
    "HASH_DIGITS",
    "IDENTITY_FIELDS",
    "KEY_BYTES",
    "PREFIX",
    "Identity",
    "RedactionFilter",
    "RedactionKeyError",
    "Redactor",
    "install_log_redaction",
    "is_identity_field",
    "is_redacted",
    "key_file",
    "load_or_create_key",
]
