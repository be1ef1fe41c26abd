"""Process pools for the batch work of a run (reading forms, writing forms and workbooks), started
without forking the running process."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

# Modules the pool workers need (reading and writing forms, writing the workbooks), imported
# once in the fork server rather than in every worker.
_PRELOAD = ["tonghop.reading", "tonghop.forms", "tonghop.publishing"]


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
