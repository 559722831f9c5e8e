# SPDX-License-Identifier: Apache-2.0
"""Give the C heap's free pages back to the kernel once start-up is done.

Start-up allocates and frees a lot that never comes back: parsing the YAML config and
manifests, building bus introspection, loading certificates, compiling modules that have no
bytecode cache. glibc's allocator keeps the freed pages resident (it returns only the top of
the heap, and only above ``M_TRIM_THRESHOLD``), so each unit would carry them as RSS for
its whole life. ``malloc_trim(0)`` (glibc 2.8+) releases every whole free page, also in the
middle of the heap; it takes well under a millisecond. :func:`release_free_heap` is called
once before READY=1 (``ccy.runtime.service``); with a C library without ``malloc_trim``
(musl) it does nothing. Units whose sessions leave the heap fragmented (ccy-evse after a
session, ccy-v2g after a vehicle's connection) call :func:`release_free_heap_soon`.
"""

import asyncio
import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_heap() -> bool:
    """``malloc_trim(0)``; True when the C library released memory."""
    trim = _malloc_trim()
    return trim is not None and bool(trim(0))


def release_free_heap_soon() -> None:
    """:func:`release_free_heap` on the running loop with ``call_soon``: what the current input
    sends (its peer calls, its signals) goes out first."""
    asyncio.get_running_loop().call_soon(release_free_heap)
