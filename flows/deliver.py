"""The `deliver_reports` flow: after a version is published, e-mail the province and every
upper-level unit its draft report and the version's workbook, once per version and address. No
mail server configured means nothing is sent and the run still succeeds; a message that fails
after its retries fails the run, once every result is recorded."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.run import started_run, with_database_retries
from tasks.delivery import (
    create_delivery_artifact,
    failed_unsent,
    latest_published_version,
    plan_deliveries,
    record_deliveries,
    send_deliveries,
)
from tasks.mail import mail_configured, mail_server
from tonghop.context import RunContext
from tonghop.delivery import (
    DeliverySummary,
    ReportsNotDelivered,
    not_delivered_message,
    version_label,
)
from tonghop.layout import find_reports
from tonghop.publishing import published_files
from tonghop.reminders import MailNotConfigured

__all__ = ["DeliverySummary", "ReportsNotDelivered", "deliver_reports"]


def deliver_version(context: RunContext, version: int | None = None) -> DeliverySummary:
    """Send the published `version` (by default the newest) to every unit with a drafted report
    that has not received it yet, in the run of `context` (which holds the run lock: two runs
    at once would both send what neither recorded); raise ReportsNotDelivered, after recording
    every result, when any of them did not reach its unit."""
    settings, period, url = context.settings, context.period, context.database_url
    results = []
    not_configured: str | None = None
    if version is None:
        version = with_database_retries(latest_published_version, settings)(url, period)
    out_dir = context.workspace.published_folder(period)
    workbook = published_files(out_dir, period, version).workbook
    reports = find_reports(out_dir, period, version)
    plan = with_database_retries(plan_deliveries, settings)(url, period, version, reports, workbook)
    label = version_label(period, version)
    if plan.pending and not mail_configured(settings):
        # The demo and a new installation run without one: the publication is what counts.
        not_configured = (
            f"Chưa cấu hình máy chủ thư: chưa gửi báo cáo {label} đến "
            f"{len(plan.pending)} đơn vị (đặt TONGHOP_SMTP_HOST hoặc TONGHOP_EMAIL_BLOCK rồi "
            "chạy lại để gửi)."
        )
        get_run_logger().warning(not_configured)
    elif plan.pending:
        try:
            server = mail_server(settings)
        except MailNotConfigured as error:
            # A server was named but cannot be used: the operator expects mail, so every
            # delivery fails with the reason instead of passing unnoticed.
            results = failed_unsent(plan.pending, str(error), settings.timezone)
        else:
            results = send_deliveries(
                plan.pending,
                server,
                settings.mail_from,
                settings.send_attempts,
                settings.send_retry_seconds,
                settings.timezone,
            )
        with_database_retries(record_deliveries, settings)(url, results)
    create_delivery_artifact(period, version, results, len(plan.already_sent), not_configured)
    summary = DeliverySummary(
        period=str(period),
        version=version,
        results=tuple(results),
        already_sent=len(plan.already_sent),
        not_configured=not_configured,
    )
    if summary.failed:
        raise ReportsNotDelivered(not_delivered_message(period, version, summary.failed), summary)
    return summary


@flow(name="deliver_reports", log_prints=True)
def deliver_reports(
    period: str | None = None, workspace: str | None = None, version: int | None = None
) -> DeliverySummary:
    """Send the published `version` (by default the newest) to every unit with a drafted report
    that has not received it yet."""
    with started_run(workspace, period) as context:
        return deliver_version(context, version)


# The same sending as a step of a larger run, which hands over its context.
deliver_step = flow(name="deliver_reports", log_prints=True, validate_parameters=False)(
    deliver_version
)
