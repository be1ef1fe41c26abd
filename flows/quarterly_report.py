"""The `quarterly_report` flow: collect, then consolidate and publish — the scheduled run."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from flows.collect import CollectSummary, collect
from flows.consolidate import consolidate
from flows.parameters import resolve
from tonghop.publishing import PublishedFiles


@dataclass(frozen=True)
class QuarterlyReport:
    """The outcome of one scheduled run."""

    collected: CollectSummary
    published: PublishedFiles


@flow(name="quarterly_report", log_prints=True)
def quarterly_report(period: str | None = None, workspace: str | None = None) -> QuarterlyReport:
    """Collect the period's new submissions, then consolidate and publish it."""
    settings, chosen = resolve(workspace, period)
    collected = collect(str(chosen), str(settings.home))
    published = consolidate(str(chosen), str(settings.home))
    return QuarterlyReport(collected, published)
