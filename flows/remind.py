"""The `remind` flow: a few days before the deadline, e-mail every parent unit the list of its
units whose report is still missing or rejected; a reminder that cannot be sent fails the run."""

from __future__ import annotations

from prefect import flow

from flows.run import exclusive_run, started_run, with_database_retries
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
    with started_run(workspace, period, exclusive=False) as context:
        settings, chosen, url = context.settings, context.period, context.database_url
        # Before anything is planned: a run with nowhere to send must say so, not pretend.
        server = mail_server(settings)
        results = []
        # Held from planning to recording: two runs at once would both send what neither
        # recorded.
        with exclusive_run(context):
            plan = with_database_retries(plan_reminders, settings)(
                url, chosen, settings.deadline_days, settings.timezone
            )
            if plan.pending:
                results = send_reminders(
                    plan.pending,
                    server,
                    settings.mail_from,
                    settings.send_attempts,
                    settings.send_retry_seconds,
                    settings.timezone,
                )
                with_database_retries(record_reminders, settings)(url, results)
    create_reminder_artifact(chosen, results, len(plan.already_sent))
    summary = RemindSummary(
        period=str(chosen), results=tuple(results), already_sent=len(plan.already_sent)
    )
    if summary.failed:
        raise RemindersNotSent(not_sent_message(chosen, summary.failed), summary)
    return summary
