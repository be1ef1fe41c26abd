"""Prefect task that writes the period's blank forms, in parallel processes."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tonghop.formatting import format_count
from tonghop.forms import write_form_in_place
from tonghop.layout import blank_form_name, period_folder
from tonghop.parallel import process_pool, worker_count
from tonghop.periods import Period
from tonghop.registry import Unit, active_units, codes_with_active_children
from tonghop_tasks.names import unmarked


@task(
    name="write-blank-forms",
    task_run_name=unmarked("Tạo mẫu biểu trống"),
    retries=2,
    retry_delay_seconds=5,
    cache_policy=NO_CACHE,
)
def write_blank_forms(
    units: list[Unit],
    period: Period,
    outbox: Path,
    workers: int,
    only: frozenset[str] | None = None,
) -> dict[str, Path]:
    """One blank form per unit active in the period (or of those in `only`), in
    `outbox/<P>/<unit>.xlsx`; each unit's form by its code."""
    folder = period_folder(outbox, period)
    folder.mkdir(parents=True, exist_ok=True)
    parents = codes_with_active_children(units, period.last_day)
    jobs = [
        (folder / blank_form_name(unit.code, period), unit, period, unit.code in parents)
        for unit in active_units(units, period.last_day)
        if only is None or unit.code in only
    ]
    if not jobs:
        return {}
    chunk = max(1, len(jobs) // (worker_count(workers) * 4))
    with process_pool(workers) as pool:
        written = list(pool.map(write_form_in_place, jobs, chunksize=chunk))
    get_run_logger().info("Đã tạo %s mẫu biểu trống cho kỳ %s.", format_count(len(written)), period)
    return {unit.code: path for (_, unit, _, _), path in zip(jobs, written, strict=True)}
