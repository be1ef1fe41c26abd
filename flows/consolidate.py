"""The `consolidate` flow: aggregate a period up the hierarchy and publish its current version,
or a new version when something changed since the last publication."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace

from prefect import flow
from prefect.utilities.annotations import quote

from tonghop.context import RunContext
from tonghop.layout import PublicationFolders, clear_stages
from tonghop.parallel import process_pool, start_process_server
from tonghop.portal.addresses import OutputAddresses
from tonghop.publishing import PublishedFiles, publishes_in_parallel
from tonghop_flows.failures import explained
from tonghop_flows.parameters import HOME, JUST_ENDED, PeriodParameter, WorkspaceParameter, run_name
from tonghop_flows.run import started_run, with_database_retries
from tonghop_tasks.consolidating import (
    consolidate_period,
    find_carry_over,
    gather_consolidation,
    mark_version_published,
)
from tonghop_tasks.publishing import (
    commit_publication,
    create_run_artifacts,
    find_published,
    publish_outputs,
)
from tonghop_tasks.reporting import draft_reports


def consolidate_and_publish(context: RunContext) -> PublishedFiles:
    """Aggregate what counts for the period and publish the workbook, CSVs, feedback and
    reports, in the run of `context` (which holds the run lock)."""
    settings, period, url = context.settings, context.period, context.database_url
    done = with_database_retries(consolidate_period, settings)(
        url, period, settings.deadline_days, settings.timezone
    )
    version, fresh = done.version, done.fresh
    out_dir = context.workspace.published_folder(period)
    # What a run that failed or died while writing left is never shown: it goes first.
    clear_stages(out_dir)
    if not fresh:
        # Nothing came in since this version was published: its files stand as they are,
        # unless one went missing, which is then written again below.
        files = find_published(out_dir, period, version.number)
        if files.complete:
            return replace(files, published_at=version.published_at)
    in_parallel = publishes_in_parallel(done.units)
    if in_parallel:
        # The process that will write the workbooks comes from the fork server: its imports
        # pass while the version is read.
        start_process_server()
    consolidation = with_database_retries(gather_consolidation, settings)(
        url, version, settings.deadline_days, done.moved
    )
    # A version already published is never written again; one a killed run left
    # unfinished is written whole.
    unfinished = version.published_at is None
    # Every file of the version is written aside, then appears at once (tonghop/layout.py).
    folders = PublicationFolders.of(out_dir, version.number)
    # Only what moved is drawn again: the upper levels whose subtree did not change keep the
    # version before's reports, charts and own workbooks.
    carry = with_database_retries(find_carry_over, settings)(url, quote(consolidation))
    # The tables and the reports are written side by side. At a province's scale one process
    # beside this one writes the workbooks, then a share of the reports, while this one writes
    # the CSVs and the other reports: both cores busy, one more copy of the consolidation.
    with process_pool(1) if in_parallel else nullcontext() as pool:
        tables = publish_outputs.submit(
            quote(consolidation), folders, unfinished, carry, quote(pool)
        )
        try:
            reports = draft_reports(
                url,
                quote(consolidation),
                folders,
                settings.deadline_days,
                settings.attendance_threshold,
                unfinished,
                context.workspace.report_settings,
                carry,
                quote(pool),
            )
        finally:
            tables.wait()  # never leave the tables half-written behind a failed report
        files = tables.result()
    commit_publication(folders)
    with_database_retries(mark_version_published, settings)(url, version, settings.timezone)
    addresses = OutputAddresses(context.workspace, settings.web_public_url)
    create_run_artifacts(
        quote(consolidation),
        replace(files, reports=reports),
        addresses,
        context.outermost_run_id,
    )
    return replace(
        files,
        newly_published=unfinished,
        reports=reports,
        published_at=None if unfinished else version.published_at,
    )


@flow(name="consolidate", flow_run_name=run_name("công bố"), log_prints=True)
@explained
def consolidate(
    period: PeriodParameter = JUST_ENDED, workspace: WorkspaceParameter = HOME
) -> PublishedFiles:
    """Aggregate what counts for the period and publish the workbook, CSVs and feedback."""
    with started_run(workspace, period) as context:
        return consolidate_and_publish(context)


# The same consolidation as a step of a larger run, which hands over its context.
consolidate_step = flow(
    name="consolidate",
    flow_run_name=run_name("công bố"),
    log_prints=True,
    validate_parameters=False,
)(explained(consolidate_and_publish))
