# SPDX-License-Identifier: Apache-2.0
"""How ccyctl fails: one line ``ccyctl: <cause> (<fix>)`` and a distinct exit status.

Every expected failure of a command (no bus, a unit not running, access denied, a unit's
``org.ccy.Error.*`` refusal, no answer in time, a file problem, Ctrl-C) becomes a
:class:`CtlError` through :func:`describe`; ``ccy.ctl.main`` prints its line and exits with its
code. Anything else is a bug and still prints one line, with the hint to rerun with
``--debug`` for the traceback (contracts.md "Operator commands": every error is one line that
names the cause and the fix). Exit codes follow sysexits.h where one fits.
"""

import re
from enum import IntEnum

from dbus_fast import DBusError
from dbus_fast.errors import AuthError, InvalidAddressError

from ccy.runtime.contract import unit_contracts

PROG = "ccyctl"
GROUP = "ccy"
"""The operators' group (contracts.md "The policy is least privilege")."""


class ExitCode(IntEnum):
    OK = 0
    OTHER = 1
    USAGE = 64  # EX_USAGE: the command line is wrong
    DATA = 65  # EX_DATAERR: the input or an argument value is wrong
    NO_INPUT = 66  # EX_NOINPUT: a named file does not exist
    UNAVAILABLE = 69  # EX_UNAVAILABLE: no bus, or the unit is not running
    IO = 74  # EX_IOERR: another file-system error
    TEMPORARY = 75  # EX_TEMPFAIL: no answer in time, or not ready yet: retry
    NO_PERMISSION = 77  # EX_NOPERM: the bus or the file system refused access
    INTERRUPTED = 130  # 128 + SIGINT, as shells report it
    BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away


class CtlError(Exception):
    """An expected failure of a command: its cause, the operator's fix, the exit code."""

    def __init__(self, cause: str, fix: str = "", code: ExitCode = ExitCode.OTHER) -> None:
        super().__init__(cause)
        self.cause = cause
        self.fix = fix
        self.code = code

    def line(self) -> str:
        """The one line printed on stderr (no newline inside)."""
        text = f"{PROG}: {self.cause}" + (f" ({self.fix})" if self.fix else "")
        return " ".join(text.split())


NOT_RUNNING = frozenset(
    {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"}
)
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
NO_ANSWER = frozenset(
    {
        "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Timeout",
        "org.freedesktop.DBus.Error.TimedOut",
    }
)
VERSION_SKEW = frozenset(
    {
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownObject",
        "org.freedesktop.DBus.Error.UnknownInterface",
        "org.freedesktop.DBus.Error.UnknownProperty",
        "org.freedesktop.DBus.Error.InvalidArgs",
        "org.freedesktop.DBus.Error.InvalidSignature",
    }
)
BUS_FIX: tuple[str, ExitCode] = (
    "is dbus running? For the simulator export DBUS_SYSTEM_BUS_ADDRESS as 'ccy-sim up' prints it",
    ExitCode.UNAVAILABLE,
)
"""The fix of every failure to reach the system bus, and its exit code."""

CCY_ERROR_PREFIX = "org.ccy.Error."
CCY_ERRORS: dict[str, tuple[str, ExitCode]] = {
    "InvalidArgument": ("check the value: see the command's --help", ExitCode.DATA),
    "NotReady": ("retry once the unit reports it ready: see its status", ExitCode.TEMPORARY),
    "NotPermitted": ("not allowed in the present state: see its status", ExitCode.OTHER),
    "NotSupported": ("not possible with this configuration: ccyctl config show", ExitCode.OTHER),
}
"""org.ccy.Errors1.xml's error names → the operator's next step and the exit code."""


def unit_named_in(text: str) -> tuple[str, str]:
    """(unit, bus name) of the first ccy unit whose bus name ``text`` mentions, else ("", "")."""
    for contract in unit_contracts():
        if re.search(rf"(?<![\w.]){re.escape(contract.bus_name)}(?![\w])", text):
            return contract.unit, contract.bus_name
    return "", ""


def from_dbus(exc: DBusError, unit: str = "") -> CtlError:
    """The failure for a D-Bus error reply to a call to ``unit`` (else the unit the text names)."""
    text = exc.text or ""
    unit = unit or unit_named_in(text)[0]
    who = unit or "the service"
    if exc.type in NOT_RUNNING:
        if unit:
            return CtlError(
                f"{unit} is not running", f"systemctl start {unit}", ExitCode.UNAVAILABLE
            )
        return CtlError(f"the service is not on the bus: {text}", "start it", ExitCode.UNAVAILABLE)
    if exc.type == ACCESS_DENIED:
        target = f" to call {who}" if unit else ""
        return CtlError(
            f"you are not in group {GROUP}: the bus denied access{target}",
            f"ask an administrator: usermod -aG {GROUP} YOUR_USER, then log in again",
            ExitCode.NO_PERMISSION,
        )
    if exc.type in NO_ANSWER:
        return _no_answer(unit)
    if exc.type in VERSION_SKEW:
        return CtlError(
            f"{who} does not know this request ({exc.type}: {text})",
            "ccyctl and the unit are of different versions: update both",
        )
    if exc.type.startswith(CCY_ERROR_PREFIX):
        kind = exc.type.removeprefix(CCY_ERROR_PREFIX)
        fix, code = CCY_ERRORS.get(kind, (f"journalctl -u {unit or 'ccy.target'}", ExitCode.OTHER))
        return CtlError(f"{who} refused: {text}", f"{kind}: {fix}", code)
    journal = f"journalctl -u {unit}" if unit else "see the journal"
    return CtlError(f"{who} failed: {exc.type}: {text}", journal)


def _no_answer(unit: str, timeout_s: float | None = None) -> CtlError:
    who = unit or "the service"
    within = f" within {timeout_s:g} s" if timeout_s is not None else " in time"
    journal = f"journalctl -u {unit}; " if unit else ""
    return CtlError(
        f"{who} did not answer{within}",
        f"is it stuck? {journal}retry with a longer --timeout",
        ExitCode.TEMPORARY,
    )


def no_answer(unit: str, timeout_s: float) -> CtlError:
    """The failure of a call to ``unit`` that got no reply within ``timeout_s``."""
    return _no_answer(unit, timeout_s)


def _from_os(exc: OSError) -> CtlError:
    name = exc.filename if exc.filename is not None else ""
    where = f"{name}: " if name else ""
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        return CtlError(f"{where}no such file or folder", "check the path", ExitCode.NO_INPUT)
    if isinstance(exc, PermissionError):
        return CtlError(
            f"{where}permission denied",
            f"run as root or as a member of group {GROUP}",
            ExitCode.NO_PERMISSION,
        )
    return CtlError(f"{where}{reason}", "check the path and the free space", ExitCode.IO)


def describe(exc: BaseException) -> CtlError | None:
    """The one-line failure for ``exc``; None for a broken pipe (nobody reads any more)."""
    if isinstance(exc, CtlError):
        return exc
    if isinstance(exc, BrokenPipeError):
        return None
    if isinstance(exc, KeyboardInterrupt):
        return CtlError("interrupted", "", ExitCode.INTERRUPTED)
    if isinstance(exc, DBusError):
        return from_dbus(exc)
    if isinstance(exc, InvalidAddressError | AuthError):
        return CtlError(f"cannot use the system bus: {exc}", *BUS_FIX)
    if isinstance(exc, TimeoutError):
        return _no_answer("")
    if isinstance(exc, OSError):
        return _from_os(exc)
    return CtlError(
        f"unexpected {type(exc).__name__}: {exc}",
        f"a bug in {PROG}: rerun with --debug for the traceback and report it",
    )
