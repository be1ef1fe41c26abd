"""The `remind` flow: a few days before the deadline, e-mail every parent unit the list of its
units whose report is still missing or rejected; a reminder that cannot be sent fails the run."""

from __future__ import annotations

from prefect import flow

from flows.guards import exclusive_run
from flows.parameters import resolve
from tasks.reminders import (
    create_reminder_artifact,
    mail_server,
    plan_reminders,
    record_reminders,
    send_reminders,
)
from tonghop.reminders import RemindersNotSent, RemindSummary, not_sent_message

__all__ = ["RemindSummary", "RemindersNotSent", "remind"]


@flow(name="remind", log_prints=True)
def remind(period: str | None = None, workspace: str | None = None) -> RemindSummary:
    """Send the period's reminders not sent yet; raise RemindersNotSent, after recording every
    result, when any of them did not reach its recipient."""
    settings, chosen = resolve(workspace, period)
    # Before anything is planned: a run with nowhere to send must say so, not pretend it sent.
    server = mail_server(settings)
    url = settings.resolved_database_url
    results = []
    # Held from planning to recording: two runs at once would both send what neither recorded.
    with exclusive_run(settings):
        plan = plan_reminders(url, chosen, settings.deadline_days, settings.timezone)
        if plan.pending:
            results = send_reminders(
                plan.pending,
                server,
                settings.mail_from,
                settings.send_attempts,
                settings.send_retry_seconds,
                settings.timezone,
            )
            record_reminders(url, results)
    create_reminder_artifact(chosen, results, len(plan.already_sent))
    summary = RemindSummary(
        period=str(chosen), results=tuple(results), already_sent=len(plan.already_sent)
    )
    if summary.failed:
        raise RemindersNotSent(not_sent_message(chosen, summary.failed), summary)
    return summary
