"""The scanning process's heap: freed blocks kept for reuse (glibc).

A scan allocates and frees a few blocks the size of a data file for every file it parses (the
file's bytes, its fingerprint lines). glibc hands a freed block of over 128 KiB straight back
to the kernel (an ``mmap`` of its own, or a trim of the heap's top), so the next one is fresh
memory that faults in page by page: on this project's 2-core benchmark machine (a virtual
machine, where a page fault costs more) that was a quarter to a third of a first scan's CPU
time. Raising the two thresholds once per scanning process keeps such blocks in the heap for
the next file; at most `TRIM_THRESHOLD` of free memory at the heap's top stays mapped.
"""

from __future__ import annotations

import functools
import os

#: Blocks up to this size come from the heap (a data file is read in blocks of at most 256 KiB).
MMAP_THRESHOLD = 1 << 20
#: Free memory at the heap's top kept mapped rather than given back.
TRIM_THRESHOLD = 8 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


@functools.cache
def keep_freed_blocks() -> bool:
    """Tune this process's heap as the module docstring says (once); False where the C
    library is not glibc, which has its own heuristics and is left alone."""
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
        import ctypes  # here: only a process that scans pays for it (a few milliseconds)

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):  # no such confstr name, no C library
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
