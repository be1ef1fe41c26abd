"""The `consolidate` flow: aggregate a period up the hierarchy and publish its current version,
or a new version when something changed since the last publication."""

from __future__ import annotations

from dataclasses import replace

from prefect import flow
from prefect.utilities.annotations import quote

from flows.guards import exclusive_run
from flows.parameters import resolve
from tasks.consolidating import (
    consolidate_period,
    gather_consolidation,
    mark_version_published,
)
from tasks.publishing import (
    commit_publication,
    create_run_artifacts,
    find_published,
    publish_outputs,
)
from tasks.reporting import draft_reports
from tonghop.layout import PublicationFolders, clear_stages
from tonghop.publishing import PublishedFiles


@flow(name="consolidate", log_prints=True)
def consolidate(period: str | None = None, workspace: str | None = None) -> PublishedFiles:
    """Aggregate what counts for the period and publish the workbook, CSVs and feedback."""
    settings, chosen = resolve(workspace, period)
    url = settings.resolved_database_url
    with exclusive_run(settings):
        version, fresh = consolidate_period(url, chosen, settings.deadline_days, settings.timezone)
        out_dir = settings.published / str(chosen)
        # What a run that failed or died while writing left is never shown: it goes first.
        clear_stages(out_dir)
        if not fresh:
            # Nothing came in since this version was published: its files stand as they are,
            # unless one went missing, which is then written again below.
            files = find_published(out_dir, chosen, version.number)
            if files.complete:
                return files
        consolidation = gather_consolidation(url, version, settings.deadline_days)
        # A version already published is never written again; one a killed run left
        # unfinished is written whole.
        unfinished = version.published_at is None
        # Every file of the version is written aside, then appears at once (tonghop/layout.py).
        folders = PublicationFolders.of(out_dir, version.number)
        files = publish_outputs(quote(consolidation), folders, unfinished)
        reports = draft_reports(
            url,
            quote(consolidation),
            folders,
            settings.deadline_days,
            settings.attendance_threshold,
            unfinished,
        )
        commit_publication(folders)
        mark_version_published(url, version, settings.timezone)
        create_run_artifacts(quote(consolidation), replace(files, reports=reports))
    return replace(files, newly_published=unfinished, reports=reports)
