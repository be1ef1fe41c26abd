"""The `deliver_reports` flow: after a version is published, e-mail the province and every
upper-level unit its draft report and its workbook (an upper level's of its own subtree), once
per version and address. No mail server configured means nothing is sent and the run still
succeeds; a message that fails after its retries fails the run, once every result is
recorded."""

from __future__ import annotations

from prefect import flow

from tonghop.context import RunContext
from tonghop.delivery import REPORT
from tonghop.layout import find_reports
from tonghop.outbox import OutboxSummary
from tonghop.publishing import published_files
from tonghop_flows.failures import explained
from tonghop_flows.mailing import send_planned
from tonghop_flows.parameters import (
    HOME,
    JUST_ENDED,
    PeriodParameter,
    ResendParameter,
    VersionParameter,
    WorkspaceParameter,
    run_name,
)
from tonghop_flows.run import started_run, with_database_retries
from tonghop_tasks.outbox import latest_published_version, plan_report_letters


def deliver_version(
    context: RunContext, version: int | None = None, resend_unconfirmed: bool = False
) -> OutboxSummary:
    """Send the published `version` (by default the newest) to every unit with a drafted report
    that has not received it yet, in the run of `context` (which holds the run lock: two runs
    at once would both send what neither recorded); raise MailNotSent, after recording every
    outcome, when any of them did not reach its unit."""
    settings, period, url = context.settings, context.period, context.database_url
    if version is None:
        version = with_database_retries(latest_published_version, settings)(url, period)
    out_dir = context.workspace.published_folder(period)
    files = published_files(out_dir, period, version)
    reports = find_reports(out_dir, period, version)
    workbooks = {code: files.workbook_for(code) for code in reports}
    planned = with_database_retries(plan_report_letters, settings)(
        url, period, version, reports, workbooks, resend_unconfirmed
    )
    return send_planned(context, REPORT, planned, version, optional=True, on_outermost_run=True)


@flow(name="deliver_reports", flow_run_name=run_name("gửi báo cáo"), log_prints=True)
@explained
def deliver_reports(
    period: PeriodParameter = JUST_ENDED,
    workspace: WorkspaceParameter = HOME,
    version: VersionParameter = 0,
    resend_unconfirmed: ResendParameter = False,
) -> OutboxSummary:
    """Send the published `version` (by default the newest) to every unit with a drafted report
    that has not received it yet."""
    with started_run(workspace, period) as context:
        return deliver_version(context, version or None, resend_unconfirmed)


# The same sending as a step of a larger run, which hands over its context.
deliver_step = flow(
    name="deliver_reports",
    flow_run_name=run_name("gửi báo cáo"),
    log_prints=True,
    validate_parameters=False,
)(explained(deliver_version))
