# SPDX-License-Identifier: Apache-2.0
"""Give the C heap's free pages back to the kernel once start-up is done.

Start-up allocates and frees a lot that never comes back: parsing the YAML config and
manifests, building bus introspection, loading certificates, compiling modules that have no
bytecode cache. glibc's allocator keeps the freed pages resident (it returns only the top of
the heap, and only above ``M_TRIM_THRESHOLD``), so each unit would carry them as RSS for
its whole life. ``malloc_trim(0)`` (glibc 2.8+) releases every whole free page, also in the
middle of the heap; it takes well under a millisecond. :func:`release_free_heap` is called
once before READY=1 (``ccy.runtime.service``); with a C library without ``malloc_trim``
(musl) it does nothing.
"""

import ctypes


def release_free_heap() -> bool:
    """``malloc_trim(0)``; True when the C library released memory."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
