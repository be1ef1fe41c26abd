"""Writing the demo workspace: the registry CSV and every planned form in the inbox, each file
dated with its receipt time."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from tonghop.demo.plan import DemoPlan, DemoSubmission, plan_demo
from tonghop.layout import DEMO_REGISTRY
from tonghop.parallel import process_pool
from tonghop.periods import Period
from tonghop.registry import Unit, codes_with_active_children, write_registry_csv


@dataclass(frozen=True)
class _Job:
    path: Path
    unit: Unit
    period: Period
    has_children: bool
    submission: DemoSubmission
    corrupt_bytes: bytes | None
    timezone: str


def _write_job(job: _Job) -> None:
    # Imported here: the forms module pulls in openpyxl, which only the writers need.
    from tonghop.forms import SHEET_NAME, write_form

    submission = job.submission
    job.path.parent.mkdir(parents=True, exist_ok=True)
    if job.corrupt_bytes is not None:
        job.path.write_bytes(job.corrupt_bytes)
    else:
        write_form(
            job.path,
            job.unit,
            job.period,
            job.has_children,
            values=submission.values,
            preparer=submission.preparer,
            prepared_on=submission.prepared_on,
        )
        if submission.fault == "F2_no_sheet":
            from openpyxl import load_workbook

            # The unit renamed the sheet: the table is intact, but not where the reader looks.
            workbook = load_workbook(job.path)
            workbook[SHEET_NAME].title = "Báo cáo quý"
            workbook.save(job.path)
    # Receipt times are the operators' local times, whatever the machine's own zone is.
    stamp = submission.received_at.replace(tzinfo=ZoneInfo(job.timezone)).timestamp()
    os.utime(job.path, (stamp, stamp))


def _write_jobs(jobs: list[_Job]) -> int:
    for job in jobs:
        _write_job(job)
    return len(jobs)


def write_demo_workspace(
    root: Path,
    period: Period,
    deadline_days: int = 10,
    seed: int = 2025,
    *,
    units: Sequence[Unit] | None = None,
    workers: int | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> DemoPlan:
    """Write `root/registry.csv` and the forms into `root/inbox/<unit>/`; return the plan.

    File times are set to each submission's receipt time in `timezone`."""
    plan = plan_demo(period, deadline_days, seed, units)
    root.mkdir(parents=True, exist_ok=True)
    write_registry_csv(root / DEMO_REGISTRY, plan.units)

    by_code = {unit.code: unit for unit in plan.units}
    with_children = codes_with_active_children(plan.units, period.last_day)
    jobs = []
    for submission in plan.submissions:
        form_unit = by_code[submission.form_unit_code]
        corrupt = None
        if submission.fault == "F1_corrupt":
            corrupt = random.Random(f"corrupt:{seed}:{submission.unit_code}").randbytes(6144)
        jobs.append(
            _Job(
                path=root.joinpath(*submission.path_parts),
                unit=form_unit,
                period=Period.parse(submission.form_period),
                has_children=form_unit.code in with_children,
                submission=submission,
                corrupt_bytes=corrupt,
                timezone=timezone,
            )
        )
    workers = workers if workers is not None else (os.cpu_count() or 1)
    # A form takes ~15–20 ms (~20 s for the whole demo on one core); below a few hundred forms,
    # starting processes costs more than it saves.
    if workers <= 1 or len(jobs) < 200:
        _write_jobs(jobs)
    else:
        chunks = [jobs[index :: workers * 4] for index in range(workers * 4)]
        with process_pool(workers) as pool:
            written = sum(pool.map(_write_jobs, chunks))
        if written != len(jobs):
            raise RuntimeError(f"wrote {written} of {len(jobs)} demo forms")
    return plan
