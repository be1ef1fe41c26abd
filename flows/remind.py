"""The `remind` flow: a few days before the deadline, e-mail every parent unit the list of its
units whose report is still missing or rejected; a reminder that cannot be sent fails the run."""

from __future__ import annotations

from prefect import flow

from tonghop.outbox import OutboxSummary
from tonghop.reminders import REMINDER
from tonghop_flows.mailing import send_planned
from tonghop_flows.run import exclusive_run, started_run, with_database_retries
from tonghop_tasks.outbox import plan_reminders


@flow(name="remind", log_prints=True)
def remind(
    period: str | None = None, workspace: str | None = None, resend_unconfirmed: bool = False
) -> OutboxSummary:
    """Send the period's reminders not sent yet (with `resend_unconfirmed`, also those an
    interrupted run may have sent); raise MailNotSent, after recording every outcome, when any
    of them did not reach its recipient."""
    with started_run(workspace, period, exclusive=False) as context:
        settings = context.settings
        # Held from planning to recording: two runs at once would both send what neither
        # recorded.
        with exclusive_run(context):
            planned = with_database_retries(plan_reminders, settings)(
                context.database_url,
                context.period,
                settings.deadline_days,
                settings.timezone,
                resend_unconfirmed,
            )
            return send_planned(context, REMINDER, planned)
