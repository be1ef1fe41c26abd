"""Prefect task that drafts the narrative report (Word and HTML, with its charts) for the
province and every upper-level unit after a consolidation."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.consolidating import previous_quarter
from tonghop.charts import render_charts
from tonghop.publishing import Consolidation
from tonghop.report import report_paths, write_report

# Who gets a narrative report: the levels that sign one and send it up.
REPORTING_KINDS = ("province", "upper")
CHARTS_DIR = "bieu-do"


@task(name="draft-reports", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def draft_reports(
    database_url: str,
    consolidation: Consolidation,
    out_dir: Path,
    deadline_days: int,
    attendance_threshold: float,
    rewrite: bool,
) -> dict[str, Path]:
    """Write each report (and its charts) not written yet, or every one with `rewrite`;
    returns the Word file of each unit, by unit code. The previous quarter, which the reports
    compare with, is read only when there is a report to write."""
    units = consolidation.units.sort_values("position", kind="stable")
    codes = [row.code for row in units.itertuples() if row.kind in REPORTING_KINDS]
    reports: dict[str, Path] = {}
    previous: Consolidation | None = None
    needs_previous = True
    for code in codes:
        docx, html = report_paths(consolidation, code, out_dir)
        if rewrite or not (docx.exists() and html.exists()):
            if needs_previous:
                previous = previous_quarter(database_url, consolidation.period, deadline_days)
                needs_previous = False
            charts = render_charts(
                consolidation, code, out_dir / CHARTS_DIR, threshold=attendance_threshold
            )
            docx, html = write_report(
                consolidation,
                code,
                out_dir,
                charts=charts,
                previous=previous,
                attendance_threshold=attendance_threshold,
            )
        reports[code] = docx
    get_run_logger().info("Đã soạn báo cáo cho %d đơn vị.", len(reports))
    return reports
