# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's records (transactions, error history, sessions, key-value store) in SQLite.

Pure Python and sqlite3, no bus: ccy-evse's glue calls :class:`RecordStore`, ``ccyctl evse``
reads with :meth:`RecordReader.open_readonly`. The rules (durability, migrations, PowerLoss
cleanup, the full-disk queue) are in :mod:`ccy.evse.records.store`'s docstring.
"""

from ccy.evse.records.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseOutdated,
    DatabaseTooNew,
    DatabaseUnavailable,
    DuplicateTransaction,
    RecordsError,
    UnknownTransaction,
)
from ccy.evse.records.model import (
    POWER_LOSS_REASON,
    ErrorRecord,
    RecordsHealth,
    RecordsState,
    SessionRecord,
    TransactionRecord,
)
from ccy.evse.records.schema import SCHEMA_VERSION
from ccy.evse.records.store import (
    DATABASE_NAME,
    RETRY_INTERVAL_S,
    RecordReader,
    RecordStore,
    database_path,
)

__all__ = [
    "DATABASE_NAME",
    "POWER_LOSS_REASON",
    "RETRY_INTERVAL_S",
    "SCHEMA_VERSION",
    "DatabaseCorrupt",
    "DatabaseLocked",
    "DatabaseOutdated",
    "DatabaseTooNew",
    "DatabaseUnavailable",
    "DuplicateTransaction",
    "ErrorRecord",
    "RecordReader",
    "RecordStore",
    "RecordsError",
    "RecordsHealth",
    "RecordsState",
    "SessionRecord",
    "TransactionRecord",
    "UnknownTransaction",
    "database_path",
]
