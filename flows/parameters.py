"""Turning a flow run's parameters into settings and a period, and settings into the task runner:
the one place flows do it."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from tonghop.config import Settings
from tonghop.periods import Period


def resolve(
    workspace: str | None, period: str | None, *, upcoming: bool = False
) -> tuple[Settings, Period]:
    """Settings for the workspace (or TONGHOP_HOME) and the period: by default the quarter that
    just ended in the operators' time zone, or with `upcoming` the quarter in progress."""
    settings = Settings(home=Path(workspace)) if workspace else Settings()
    settings.ensure_workspace()
    if period:
        return settings, Period.parse(period)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    ended = Period.just_ended(today)
    return settings, ended.next() if upcoming else ended


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
