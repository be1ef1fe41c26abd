"""The `quarterly_report` flow: collect, then consolidate and publish — the scheduled run."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from flows.collect import CollectSummary, collect
from flows.consolidate import consolidate
from flows.guards import exclusive_run
from flows.parameters import resolve
from tonghop.publishing import PublishedFiles


@dataclass(frozen=True)
class QuarterlyReport:
    """The outcome of one scheduled run; `corrections` republished earlier periods."""

    collected: CollectSummary
    published: PublishedFiles
    corrections: tuple[PublishedFiles, ...] = ()


@flow(name="quarterly_report", log_prints=True)
def quarterly_report(period: str | None = None, workspace: str | None = None) -> QuarterlyReport:
    """Collect the period's new submissions, then consolidate and publish it, and any earlier
    period that received a correction."""
    settings, chosen = resolve(workspace, period)
    home = str(settings.home)
    # Held across both steps, so that no other run slips in between them.
    with exclusive_run(settings):
        collected = collect(str(chosen), home)
        published = consolidate(str(chosen), home)
        corrections = tuple(consolidate(other, home) for other in collected.other_periods)
    return QuarterlyReport(collected, published, corrections)
