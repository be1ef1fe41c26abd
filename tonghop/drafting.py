"""Drafting units' narrative reports with their charts: the charts drawn, then each report written
as Word and HTML around them — in this process, or, for many reports, a share of them in a pool's
process at the same time."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from tonghop.consolidation import Consolidation
from tonghop.layout import CHARTS_DIR
from tonghop.quarter_figures import QuarterFigures
from tonghop.report import write_reports
from tonghop.subtree import subtrees_only

# From this many reports, a share goes to a pool's process: each costs about a second to draw at
# a province's scale, sending the consolidation there about as much.
PARALLEL_FROM_REPORTS = 8
# The share: every third report, since the pool's process writes the workbooks first.
POOL_SHARE = 3


@dataclass(frozen=True)
class ReportInputs:
    """What every report of a publication reads besides its consolidation: the period it
    compares with, a longer period's quarters, the attendance threshold and the folder of the
    issuers' settings and templates."""

    previous: Consolidation | None = None
    quarters: QuarterFigures | None = None
    attendance_threshold: float = 0.9
    settings_folder: Path | None = None


def draft_unit_reports(
    consolidation: Consolidation, codes: Sequence[str], out_dir: Path, inputs: ReportInputs
) -> None:
    """Draw the charts of the units `codes` into `out_dir`'s chart folder, then write their
    reports into `out_dir` (tonghop.report.write_reports)."""
    # matplotlib is imported only by a run that draws: its import costs every command.
    from tonghop.charts import render_unit_charts

    charts = render_unit_charts(
        consolidation,
        codes,
        out_dir / CHARTS_DIR,
        threshold=inputs.attendance_threshold,
        quarters=inputs.quarters,
    )
    write_reports(
        consolidation,
        codes,
        out_dir,
        charts=charts,
        previous=inputs.previous,
        quarters=inputs.quarters,
        attendance_threshold=inputs.attendance_threshold,
        settings_folder=inputs.settings_folder,
    )


def draft_reports_side_by_side(
    consolidation: Consolidation,
    codes: Sequence[str],
    out_dir: Path,
    inputs: ReportInputs,
    pool: Executor | None = None,
) -> None:
    """`draft_unit_reports` of every unit of `codes`; given a `pool` and at least
    PARALLEL_FROM_REPORTS units, every POOL_SHARE-th one is drafted there while this process
    drafts the rest (the hierarchy order mixes large and small subtrees in both shares)."""
    if pool is None or len(codes) < PARALLEL_FROM_REPORTS:
        draft_unit_reports(consolidation, codes, out_dir, inputs)
        return
    there = list(codes[POOL_SHARE - 1 :: POOL_SHARE])
    chosen = set(there)
    here = [code for code in codes if code not in chosen]
    # Sent only what their reports read: their subtrees' figures, this period's and the one
    # compared with, with every unit's name and place.
    previous = None if inputs.previous is None else subtrees_only(inputs.previous, there)
    drafted = pool.submit(
        draft_unit_reports,
        subtrees_only(consolidation, there),
        there,
        out_dir,
        replace(inputs, previous=previous),
    )
    try:
        draft_unit_reports(consolidation, here, out_dir, inputs)
    finally:
        drafted.result()  # its failure is the drafting's, as in this process
