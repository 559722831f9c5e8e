# SPDX-License-Identifier: Apache-2.0
"""Is the system clock synchronized? The kernel's answer, read with adjtimex(2).

Transaction timestamps are only as good as the clock. ``clock_synchronized()`` tells whether
the clock is disciplined by a time source (systemd-timesyncd on the image), locally, without
D-Bus: one ``adjtimex`` call with ``modes = 0`` (read only, no privilege needed) through
libc and ctypes.

The rule is systemd's own (``ntp_synced()`` in its time-util.c, which timedated publishes as
``NTPSynchronized`` and ``timedatectl`` shows as "System clock synchronized"): synchronized
while the kernel's maximum error estimate is below 16 s. A time daemon sets ``maxerror`` on
each adjustment; the kernel adds 500 ppm to it every second nobody adjusts the clock and, at
the 16 s cap (NTP_PHASE_LIMIT), sets ``STA_UNSYNC`` and reports ``TIME_ERROR``. systemd does
not use ``STA_UNSYNC`` itself because timesyncd keeps that bit set on purpose when the RTC
runs in local time (so the kernel never writes UTC into it); ``ClockState`` carries the bits
and the kernel's clock state anyway, for whoever wants to show them.
"""

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

# Return values of adjtimex(2) (the kernel's clock state) and the status bit we report.
TIME_OK = 0
TIME_ERROR = 5
STA_UNSYNC = 0x0040
MAXERROR_UNSYNC_US = 16_000_000
"""NTP_PHASE_LIMIT of the kernel in µs: ``maxerror`` at or above it means unsynchronized."""


class ClockError(OSError):
    """adjtimex(2) could not be called (no libc symbol, or the call failed)."""


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


class Timex(ctypes.Structure):
    """``struct timex`` of <sys/timex.h> as libc's ``adjtimex`` symbol takes it (native
    ``long`` fields; ctypes adds the same alignment padding as the C compiler)."""

    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    )


@dataclass(frozen=True)
class ClockState:
    """One reading of the kernel's clock discipline."""

    state: int
    """adjtimex's return value: TIME_OK (0) … TIME_ERROR (5)."""
    status: int
    """The STA_* bits."""
    maxerror_us: int
    esterror_us: int

    @property
    def synchronized(self) -> bool:
        """systemd's rule (``NTPSynchronized``): maximum error below 16 s."""
        return self.maxerror_us < MAXERROR_UNSYNC_US

    @property
    def unsync_bit(self) -> bool:
        """``STA_UNSYNC`` is set (the kernel's own flag; see the module text)."""
        return bool(self.status & STA_UNSYNC)


@functools.cache
def _function() -> Callable[..., int]:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    try:
        function = libc.adjtimex
    except AttributeError as exc:
        raise ClockError(0, "libc has no adjtimex (not Linux?)") from exc
    function.argtypes = (ctypes.POINTER(Timex),)
    function.restype = ctypes.c_int
    return function


def read_clock() -> ClockState:
    """The kernel's clock state now (ClockError when adjtimex fails)."""
    buf = Timex()  # modes = 0: read only
    result = _function()(ctypes.byref(buf))
    if result < 0:
        errno = ctypes.get_errno()
        raise ClockError(errno, f"adjtimex: {os.strerror(errno)}")
    return ClockState(int(result), int(buf.status), int(buf.maxerror), int(buf.esterror))


def clock_synchronized() -> bool:
    """True while a time source keeps the system clock within 16 s (systemd's rule);
    False when it is not, or when the kernel cannot be asked."""
    try:
        return read_clock().synchronized
    except ClockError:
        return False
