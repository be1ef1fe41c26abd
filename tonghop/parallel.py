"""Process pools for the batch work of a run (reading forms, writing forms and workbooks), started
without forking the running process; and the memory allocator's arenas of a run's processes."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

# Modules the pool workers need (reading and writing forms, writing the workbooks), imported
# once in the fork server rather than in every worker.
_PRELOAD = ["tonghop.reading", "tonghop.forms", "tonghop.publishing"]


# glibc gives each thread that allocates an arena of its own, up to eight per core, and a
# freed block goes back to its arena only: a run's process (Prefect's threads, the task
# threads) kept some 130 MB more at its peak with them than with two (bench/results.md).
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Hold this process and the processes it starts to `arenas` allocator arenas (unless
    MALLOC_ARENA_MAX is set already, which then holds); False where the C library is not
    glibc, which has no such arenas to hold."""
    os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))  # read by each process at start
    try:
        held = int(os.environ["MALLOC_ARENA_MAX"])
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (ValueError, OSError, AttributeError):
        return False  # a setting glibc itself would ignore, or no glibc
    return bool(mallopt(_M_ARENA_MAX, held))


def worker_count(workers: int = 0) -> int:
    """The number of worker processes `workers` asks for: 0 means one per core."""
    return workers or os.cpu_count() or 1


def _forkserver_context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def start_process_server() -> None:
    """Start the fork server now, when a pool will soon be needed: its imports (a second or
    two) then pass on the other core while this process works, instead of delaying the pool's
    first process."""
    _forkserver_context()
    forkserver.ensure_running()


def process_pool(workers: int = 0) -> ProcessPoolExecutor:
    """A pool of `worker_count(workers)` processes forked from a fork server.

    A run's process has threads (Prefect's event loops and log and event workers); forking it
    copies them half-alive, and Prefect's own after-fork reset then races its services in the
    child ("assert self._done_event is not None" printed at exit, a hang at worst). The fork
    server is a fresh interpreter started once per process, with no thread to copy — the
    default start method from Python 3.14 for that reason.
    """
    return ProcessPoolExecutor(max_workers=worker_count(workers), mp_context=_forkserver_context())
