"""The `deliver_reports` flow: after a version is published, e-mail the province and every
upper-level unit its draft report and the version's workbook, once per version and address. No
mail server configured means nothing is sent and the run still succeeds; a message that fails
after its retries fails the run, once every result is recorded."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.guards import exclusive_run
from flows.parameters import resolve
from tasks.delivery import (
    create_delivery_artifact,
    failed_unsent,
    latest_published_version,
    plan_deliveries,
    record_deliveries,
    send_deliveries,
)
from tasks.mail import mail_configured, mail_server
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


@flow(name="deliver_reports", log_prints=True)
def deliver_reports(
    period: str | None = None, workspace: str | None = None, version: int | None = None
) -> DeliverySummary:
    """Send the published `version` (by default the newest) to every unit with a drafted report
    that has not received it yet; raise ReportsNotDelivered, after recording every result, when
    any of them did not reach its unit."""
    settings, chosen = resolve(workspace, period)
    url = settings.resolved_database_url
    results = []
    not_configured: str | None = None
    # Held from planning to recording: two runs at once would both send what neither recorded.
    with exclusive_run(settings):
        if version is None:
            version = latest_published_version(url, chosen)
        out_dir = settings.published / str(chosen)
        workbook = published_files(out_dir, chosen, version).workbook
        reports = find_reports(out_dir, chosen, version)
        plan = plan_deliveries(url, chosen, version, reports, workbook)
        label = version_label(chosen, version)
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
            record_deliveries(url, results)
    create_delivery_artifact(chosen, version, results, len(plan.already_sent), not_configured)
    summary = DeliverySummary(
        period=str(chosen),
        version=version,
        results=tuple(results),
        already_sent=len(plan.already_sent),
        not_configured=not_configured,
    )
    if summary.failed:
        raise ReportsNotDelivered(not_delivered_message(chosen, version, summary.failed), summary)
    return summary
