"""Giving back to the system the memory a finished stage of a run freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_freed_memory() -> None:
    """Collect garbage, then ask the C library's allocator to return its free pages to the
    system (glibc's `malloc_trim`; nothing elsewhere). A stage's millions of small objects leave
    the heap in pieces that the allocator otherwise keeps: without this a run holds the peak of
    every stage it went through, and the processes it starts next add to it."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)
