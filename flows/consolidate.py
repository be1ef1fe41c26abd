"""The `consolidate` flow: aggregate a period up the hierarchy and publish its outputs."""

from __future__ import annotations

from prefect import flow

from flows.parameters import resolve
from tasks.consolidating import consolidate_period, gather_consolidation
from tasks.publishing import create_run_artifacts, publish_outputs
from tonghop.publishing import PublishedFiles


@flow(name="consolidate", log_prints=True)
def consolidate(period: str | None = None, workspace: str | None = None) -> PublishedFiles:
    """Aggregate what counts for the period and publish the workbook, CSVs and feedback."""
    settings, chosen = resolve(workspace, period)
    url = settings.resolved_database_url
    consolidate_period(url, chosen, settings.deadline_days)
    consolidation = gather_consolidation(url, chosen, settings.deadline_days, settings.timezone)
    files = publish_outputs(consolidation, settings.published / str(chosen))
    create_run_artifacts(consolidation, files)
    return files
