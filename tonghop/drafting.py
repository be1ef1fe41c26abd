"""Drafting units' narrative reports with their charts: the charts drawn, then each report written
as Word and HTML around them — in this process, or, for many reports, a share of them in a pool's
process at the same time."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

from tonghop.consolidation import Consolidation
from tonghop.layout import CHARTS_DIR
from tonghop.quarter_figures import QuarterFigures
from tonghop.report import write_reports

# From this many reports, a share goes to a pool's process: each costs about a second to draw at
# a province's scale, sending the consolidation there about as much.
PARALLEL_FROM_REPORTS = 8
# The share: every third report, since the pool's process writes the workbooks first.
POOL_SHARE = 3


def draft_unit_reports(
    consolidation: Consolidation,
    codes: Sequence[str],
    out_dir: Path,
    *,
    previous: Consolidation | None,
    quarters: QuarterFigures | None,
    attendance_threshold: float,
    settings_folder: Path | None,
) -> None:
    """Draw the charts of the units `codes` into `out_dir`'s chart folder, then write their
    reports into `out_dir` (tonghop.report.write_reports)."""
    # matplotlib is imported only by a run that draws: its import costs every command.
    from tonghop.charts import render_unit_charts

    charts = render_unit_charts(
        consolidation,
        codes,
        out_dir / CHARTS_DIR,
        threshold=attendance_threshold,
        quarters=quarters,
    )
    write_reports(
        consolidation,
        codes,
        out_dir,
        charts=charts,
        previous=previous,
        quarters=quarters,
        attendance_threshold=attendance_threshold,
        settings_folder=settings_folder,
    )


def draft_reports_side_by_side(
    consolidation: Consolidation,
    codes: Sequence[str],
    out_dir: Path,
    *,
    previous: Consolidation | None,
    quarters: QuarterFigures | None,
    attendance_threshold: float,
    settings_folder: Path | None,
    pool: Executor | None = None,
) -> None:
    """`draft_unit_reports` of every unit of `codes`; given a `pool` and at least
    PARALLEL_FROM_REPORTS units, every POOL_SHARE-th one is drafted there while this process
    drafts the rest (the hierarchy order mixes large and small subtrees in both shares)."""
    options = {
        "previous": previous,
        "quarters": quarters,
        "attendance_threshold": attendance_threshold,
        "settings_folder": settings_folder,
    }
    if pool is None or len(codes) < PARALLEL_FROM_REPORTS:
        draft_unit_reports(consolidation, codes, out_dir, **options)
        return
    there = list(codes[POOL_SHARE - 1 :: POOL_SHARE])
    chosen = set(there)
    here = [code for code in codes if code not in chosen]
    drafted = pool.submit(draft_unit_reports, consolidation, there, out_dir, **options)
    try:
        draft_unit_reports(consolidation, here, out_dir, **options)
    finally:
        drafted.result()  # its failure is the drafting's, as in this process
