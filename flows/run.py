"""Where a run starts, and what it runs on: its context resolved once and the run lock held
around all of it (a nested flow is handed the context and neither resolves nor locks again),
database work retried as the settings say, and the task runner the settings choose — chosen
when the run starts, never when a module is imported."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task, get_run_logger
from prefect.runtime import flow_run
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from tonghop.config import Settings
from tonghop.context import RunContext, resolve_run
from tonghop.locking import run_lock
from tonghop.parallel import limit_malloc_arenas
from tonghop.periods import Period
from tonghop_flows.logs import keep_operator_level
from tonghop_flows.parameters import period_of, workspace_of
from tonghop_tasks.database import check_database
from tonghop_tasks.retrying import worth_retrying

T = TypeVar("T", bound=Task[Any, Any])

# Every flow module imports this one: its runs' logs keep to the operator's level from the first
# record on, in whichever process runs them (the command line, `tonghop serve`, a worker's).
keep_operator_level()
# Its runs' processes, and the processes they start, keep to two allocator arenas: set here,
# before any thread of theirs allocates (tonghop/parallel.py says why).
limit_malloc_arenas()


@contextmanager
def started_run(
    workspace: str | Path | None,
    period: str | Period | None,
    *,
    upcoming: bool = False,
    exclusive: bool = True,
    length: int = 1,
) -> Iterator[RunContext]:
    """The context of a run that starts here (`workspace` and `period` as its parameters name
    them, flows/parameters.py), its workspace in place; with `exclusive` (every run that
    writes), the database is reached and the run lock held for the whole body. The period by
    default: `resolve_run`'s (with `length` 2 or 4, the half-year or year that just ended)."""
    if not isinstance(period, Period):
        period, upcoming = period_of(period, upcoming=upcoming)
    if not isinstance(workspace, Path):
        workspace = workspace_of(workspace)
    # The run that starts here tells its story: steps leave their summaries on it too.
    context = replace(
        resolve_run(workspace, period, upcoming=upcoming, length=length),
        outermost_run_id=flow_run.id,
    )
    context.workspace.ensure()
    # The steps run in this process, inside this run, whose heartbeats say that all of it is
    # alive; a step's own would cost it up to a second when it ends (Prefect waits for its
    # heartbeat thread, which sleeps a second at a time) — seconds of a run with nothing new.
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        if not exclusive:
            yield context
            return
        with exclusive_run(context):
            yield context


@contextmanager
def exclusive_run(context: RunContext) -> Iterator[None]:
    """Reach the database (retrying as the settings say, so that an unreachable database fails
    the run with its message before anything starts), then hold its run lock for the body."""
    settings = context.settings
    with_database_retries(check_database, settings)(context.database_url)
    logger = get_run_logger()

    def waiting() -> None:
        logger.warning(
            "Một lần chạy khác đang xử lý dữ liệu; chờ tối đa %.0f giây…",
            settings.lock_wait_seconds,
        )

    # Given the run's logger, a lock that cannot be released (its database failed too) is a
    # warning in the run's log, never the run's error.
    with run_lock(context.database_url, settings.lock_wait_seconds, on_wait=waiting, logger=logger):
        yield


def tell(lines: list[str]) -> None:
    """Log the lines of a run's story at the operator's level, in the current run's log."""
    logger = get_run_logger()
    for line in lines:
        logger.info(line)


def with_database_retries(task: T, settings: Settings) -> T:
    """`task` retried as the settings say for the database (TONGHOP_DATABASE_RETRIES), except
    when a disk is full: that does not pass by waiting."""
    return task.with_options(
        retries=settings.database_retries,
        retry_delay_seconds=settings.database_retry_seconds,
        retry_condition_fn=worth_retrying,
    )


def task_runner_for(settings: Settings) -> TaskRunner:
    """The task runner the settings choose (`TONGHOP_TASK_RUNNER`)."""
    workers = parallel_workers(settings)
    if settings.task_runner == "dask":
        # Imported only here: Dask is heavy, and most runs never need it.
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    if settings.task_runner == "process":
        return ProcessPoolTaskRunner(max_workers=workers)
    return ThreadPoolTaskRunner()


def reading_plan(settings: Settings) -> tuple[int, int]:
    """How a batch is read: (chunks, processes per chunk). In threads, one task reads with a
    local process pool; on a process pool or Dask cluster, many chunk tasks read one file at a
    time each, and the runner spreads them over its workers."""
    if settings.task_runner == "thread":
        return 1, settings.read_workers
    return parallel_workers(settings) * 4, 1


def parallel_workers(settings: Settings) -> int:
    """Processes working in parallel: a local Dask cluster's, else the reading processes'
    (0 in either setting means one per core)."""
    dask = settings.dask_workers if settings.task_runner == "dask" else 0
    return dask or settings.read_workers or os.cpu_count() or 1
