# SPDX-License-Identifier: Apache-2.0
"""The named failures of the records database, each with the file, the reason and the exit code
the unit (or ccyctl) ends with when it cannot go on without the database.

``str(exc)`` is one line naming the file and the reason, fit for the journal. Exit codes follow
sysexits.h as every ccy unit does (README "Units and the bus"): a corrupt or too new database
is EX_CONFIG (78: ``RestartPreventExitStatus=78`` stops a restart loop that cannot help, the
operator must move the file away), a locked or unopenable one EX_UNAVAILABLE (69: a restart
may help once the other process is gone).
"""

from pathlib import Path

EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_IOERR = 74
EX_CONFIG = 78


class RecordsError(Exception):
    """A records-database failure: ``path`` (the database file), ``reason``, ``exit_code``."""

    exit_code = EX_IOERR
    what = "records database failed"

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.what}: {self.path}: {self.reason}")


class DatabaseCorrupt(RecordsError):
    """The file is not an SQLite database, fails ``PRAGMA quick_check`` or lacks our schema."""

    exit_code = EX_CONFIG
    what = "records database is corrupt"


class DatabaseTooNew(RecordsError):
    """The schema version is newer than this code knows (a downgrade): never written to."""

    exit_code = EX_CONFIG
    what = "records database is newer than this ccy-evse"


class DatabaseOutdated(RecordsError):
    """Read-only open of a database ccy-evse has not migrated yet (ccyctl: start ccy-evse)."""

    exit_code = EX_UNAVAILABLE
    what = "records database has an older schema"


class DatabaseLocked(RecordsError):
    """Another process holds the write lock longer than the busy timeout."""

    exit_code = EX_UNAVAILABLE
    what = "records database is locked"


class DatabaseUnavailable(RecordsError):
    """The file cannot be created or opened (permission, missing folder, read-only file system,
    no space for the first write)."""

    exit_code = EX_UNAVAILABLE
    what = "records database cannot be opened"


class UnknownTransaction(RecordsError):
    """A note or stop for a transaction id the database does not hold open (a caller bug)."""

    exit_code = EX_SOFTWARE
    what = "no such open transaction"


class DuplicateTransaction(RecordsError):
    """A start for a transaction id that already exists (a caller bug)."""

    exit_code = EX_SOFTWARE
    what = "transaction exists already"
