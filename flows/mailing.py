"""The outbox as a step of a flow, the same for every kind of letter: send a plan's letters
through the configured server (or, for a kind the run can do without and no server configured,
write them as `.eml` files for the operator to read), leave the run's list as an artifact, and
fail once every outcome is recorded when any letter did not go."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.utilities.annotations import quote

from tonghop.context import RunContext
from tonghop.layout import unsent_letters_folder
from tonghop.outbox import (
    MailKind,
    MailNotConfigured,
    MailNotSent,
    OutboxPlan,
    OutboxSummary,
    discard_letter_files,
    not_configured_message,
    not_sent_message,
    unconfirmed_message,
)
from tonghop_flows.run import with_database_retries
from tonghop_tasks.mail import mail_configured, mail_server
from tonghop_tasks.outbox import (
    create_outbox_artifact,
    outcomes_of,
    record_unsent_letters,
    send_letters,
    write_unsent_letters,
)


def send_planned(
    context: RunContext,
    kind: MailKind,
    planned: OutboxPlan,
    version: int | None = None,
    *,
    optional: bool = False,
    on_outermost_run: bool = False,
) -> OutboxSummary:
    """Send the letters `planned` for the run's period (and `version`). Without a mail server an
    `optional` kind is left unsent (the publication is what counts): each letter is written as
    the `.eml` file it would have been, into the period's unsent-letters folder, and the run
    says how many and where; any other kind raises MailNotConfigured. A server named but
    unusable fails every letter with the reason. Raise MailNotSent, after recording every
    outcome, when any letter did not go. The run's list is left as an artifact, also on the
    outermost run `on_outermost_run` (what the operator reads first)."""
    settings, period, url = context.settings, context.period, context.database_url
    logger = get_run_logger()
    outcomes = []
    not_configured: str | None = None
    letter_files, unwritten = [], []
    unsent_folder = unsent_letters_folder(context.workspace.outbox, period)
    # A kind that needs mail says so even with nothing to send: a broken configuration is
    # found on a quiet day, not on the day a letter must go.
    server = None if optional else mail_server(settings)
    if planned.to_send and optional and not mail_configured(settings):
        # Not recorded in the outbox: they are sent for real once a server is configured.
        letter_files, unwritten = write_unsent_letters(
            quote(planned.to_send), unsent_folder, settings.mail_from, settings.timezone
        )
        not_configured = not_configured_message(
            kind, period, version, unsent_folder, letter_files, unwritten
        )
        logger.warning(not_configured)
    elif planned.to_send:
        try:
            server = server or mail_server(settings)
        except MailNotConfigured as error:
            # A server was named but cannot be used: the operator expects mail, so every
            # letter fails with the reason instead of passing unnoticed.
            record = with_database_retries(record_unsent_letters, settings)
            outcomes = outcomes_of(
                record(
                    url, quote(planned.to_send), str(error), settings.timezone, return_state=True
                )
            )
        else:
            sent = send_letters(
                url,
                quote(planned.to_send),
                server,
                settings.mail_from,
                settings.send_attempts,
                settings.send_retry_seconds,
                settings.timezone,
                return_state=True,
            )
            outcomes = outcomes_of(sent)
            # A letter an earlier run could only write as a file has now gone: its file would
            # tell the operator otherwise.
            discard_letter_files(
                unsent_folder, [outcome.letter for outcome in outcomes if outcome.sent]
            )
    summary = OutboxSummary(
        kind=kind,
        period=str(period),
        version=version,
        outcomes=tuple(outcomes),
        already_sent=planned.already_sent,
        unconfirmed=tuple(planned.unconfirmed),
        not_configured=not_configured,
        letter_files=tuple(letter_files),
        unwritten=tuple(unwritten),
        unsent_folder=unsent_folder if letter_files else None,
    )
    if summary.unconfirmed:
        logger.warning(unconfirmed_message(summary))
    # quote(): Prefect would otherwise walk every letter of the plan and the summary looking
    # for futures — seconds for a province's acknowledgements.
    create_outbox_artifact(quote(summary), context.outermost_run_id if on_outermost_run else None)
    if summary.failed:
        raise MailNotSent(not_sent_message(summary), summary)
    return summary
