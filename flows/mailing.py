"""The outbox as a step of a flow, the same for every kind of letter: send a plan's letters
through the configured server, leave the run's list as an artifact, and fail once every outcome
is recorded when any letter did not go."""

from __future__ import annotations

from prefect import get_run_logger

from tonghop.context import RunContext
from tonghop.outbox import (
    MailKind,
    MailNotConfigured,
    MailNotSent,
    OutboxPlan,
    OutboxSummary,
    not_sent_message,
    scope_label,
    unconfirmed_message,
)
from tonghop_flows.run import with_database_retries
from tonghop_tasks.mail import mail_configured, mail_server
from tonghop_tasks.outbox import create_outbox_artifact, record_unsent_letters, send_letters


def send_planned(
    context: RunContext,
    kind: MailKind,
    planned: OutboxPlan,
    version: int | None = None,
    *,
    optional: bool = False,
) -> OutboxSummary:
    """Send the letters `planned` for the run's period (and `version`). Without a mail server an
    `optional` kind is left unsent and said so (the publication is what counts), any other
    raises MailNotConfigured; a server named but unusable fails every letter with the reason.
    Raise MailNotSent, after recording every outcome, when any letter did not go."""
    settings, period, url = context.settings, context.period, context.database_url
    logger = get_run_logger()
    outcomes = []
    not_configured: str | None = None
    # A kind that needs mail says so even with nothing to send: a broken configuration is
    # found on a quiet day, not on the day a letter must go.
    server = None if optional else mail_server(settings)
    if planned.to_send and optional and not mail_configured(settings):
        not_configured = (
            f"Chưa cấu hình máy chủ thư: chưa gửi {len(planned.to_send)} "
            f"{kind.title.lower()} {scope_label(period, version)} (đặt TONGHOP_SMTP_HOST hoặc "
            "TONGHOP_EMAIL_BLOCK rồi chạy lại để gửi)."
        )
        logger.warning(not_configured)
    elif planned.to_send:
        try:
            server = server or mail_server(settings)
        except MailNotConfigured as error:
            # A server was named but cannot be used: the operator expects mail, so every
            # letter fails with the reason instead of passing unnoticed.
            record = with_database_retries(record_unsent_letters, settings)
            outcomes = record(url, planned.to_send, str(error), settings.timezone)
        else:
            outcomes = send_letters(
                url,
                planned.to_send,
                server,
                settings.mail_from,
                settings.send_attempts,
                settings.send_retry_seconds,
                settings.timezone,
            )
    summary = OutboxSummary(
        kind=kind,
        period=str(period),
        version=version,
        outcomes=tuple(outcomes),
        already_sent=len(planned.already_sent),
        unconfirmed=tuple(planned.unconfirmed),
        not_configured=not_configured,
    )
    if summary.unconfirmed:
        logger.warning(unconfirmed_message(summary))
    create_outbox_artifact(summary)
    if summary.failed:
        raise MailNotSent(not_sent_message(summary), summary)
    return summary
