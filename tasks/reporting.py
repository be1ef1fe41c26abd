"""Prefect task that drafts the narrative report (Word and HTML, with its charts) for the
province and every upper-level unit after a consolidation."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tonghop.carry_over import NOTHING_CARRIED, CarryOver, carry_report
from tonghop.consolidating import previous_quarter
from tonghop.consolidation import Consolidation
from tonghop.drafting import ReportInputs, draft_reports_side_by_side
from tonghop.formatting import format_count
from tonghop.layout import (
    CHART_NAMES,
    PublicationFolders,
    disk_full_explained,
    report_paths,
)
from tonghop.quarter_figures import load_quarter_figures
from tonghop.report import compares_with_previous
from tonghop.storage import transaction
from tonghop_tasks.names import unmarked
from tonghop_tasks.retrying import worth_retrying

# Who gets a narrative report: the levels that sign one and send it up.
REPORTING_KINDS = ("province", "upper")


@task(
    name="draft-reports",
    task_run_name=unmarked("Soạn dự thảo báo cáo và biểu đồ"),
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=worth_retrying,
    cache_policy=NO_CACHE,
)
def draft_reports(
    database_url: str,
    consolidation: Consolidation,
    folders: PublicationFolders,
    deadline_days: int,
    attendance_threshold: float,
    rewrite: bool,
    settings_folder: Path | None = None,
    carry: CarryOver = NOTHING_CARRIED,
    pool: Executor | None = None,
) -> dict[str, Path]:
    """Write each report (and its charts) not published yet, or every one with `rewrite`, into
    the version's staging folder, each issuer's settings and template from `settings_folder`;
    a unit `carry` carries gets the version before's files instead. Returns where each unit's
    Word file is published, by unit code. The period the reports compare with (the previous
    quarter, or the same period last year) and, for a longer period, each of its quarters'
    figures (one load per quarter) are read only when there is a report to draw. Given a
    process `pool`, a share of many reports is drafted there at the same time."""
    units = consolidation.units.sort_values("position", kind="stable")
    codes = [row.code for row in units.itertuples() if row.kind in REPORTING_KINDS]
    paths = {
        code: report_paths(folders.final, consolidation.period, code, consolidation.version)
        for code in codes
    }
    due = [code for code in codes if rewrite or not all(path.exists() for path in paths[code])]
    settings_files = sorted(Path(settings_folder).rglob("*")) if settings_folder else []
    with disk_full_explained(folders, consolidation.period, consolidation.version):
        carried = {
            code
            for code in due
            if carry_report(
                folders,
                consolidation.period,
                code,
                carry,
                consolidation.version,
                CHART_NAMES,
                settings_files,
            )
        }
    due = [code for code in due if code not in carried]
    if due:
        period = consolidation.period
        previous = quarters = None
        with transaction(database_url) as connection:
            if compares_with_previous(period):
                previous = previous_quarter(connection, period, deadline_days)
            if not period.is_quarter:
                quarters = load_quarter_figures(connection, period, deadline_days, due)
        with disk_full_explained(folders, period, consolidation.version):
            draft_reports_side_by_side(
                consolidation,
                due,
                folders.stage,
                ReportInputs(previous, quarters, attendance_threshold, settings_folder),
                pool,
            )
    logger = get_run_logger()
    if due or not carried:
        logger.info("Đã soạn báo cáo cho %s đơn vị.", format_count(len(due) or len(paths)))
    if carried:
        logger.info(
            "Giữ nguyên %s báo cáo (cả biểu đồ) của phiên bản %d: số liệu của các đơn vị ấy và "
            "cấp dưới không đổi.",
            format_count(len(carried)),
            carry.previous,
        )
    return {code: docx for code, (docx, _) in paths.items()}
