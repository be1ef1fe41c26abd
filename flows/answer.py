"""Answering the units after a collection: every received version gets its acknowledgement and
every e-mail that could not be taken its answer, through the outbox. A step of the collection
(`answer_submissions`, called once what was received is stored) and a flow of its own
(`answer`) to send what an earlier run could not. An answer that does not go never fails the
collection: the summaries say what went and what did not."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from tonghop.answers import ACKNOWLEDGEMENT, MAIL_REFUSAL
from tonghop.context import RunContext
from tonghop.outbox import MailNotSent, OutboxSummary
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop_flows.failures import explained
from tonghop_flows.mailing import send_planned
from tonghop_flows.parameters import (
    HOME,
    JUST_ENDED,
    PeriodParameter,
    ResendParameter,
    WorkspaceParameter,
    run_name,
)
from tonghop_flows.run import started_run, with_database_retries
from tonghop_tasks.answers import plan_answers


def answer_submissions(
    context: RunContext,
    periods: Sequence[str | Period],
    resend_unconfirmed: bool = False,
    units: list[Unit] | None = None,
) -> tuple[OutboxSummary, ...]:
    """Send, for each of `periods` (the run's, and those corrections were received for), the
    acknowledgements and answers to refused e-mails not sent yet; with no mail server they are
    written as `.eml` files instead. Returns one summary per period and kind (acknowledgements
    first); a letter that did not go is recorded and shown in its summary, never raised.
    `units`: the latest registry, when the run has read it already.

    Call it in the run that holds the run lock, after the submissions are stored."""
    settings = context.settings
    logger = get_run_logger()
    summaries = []
    for period in sorted({Period.parse(period) for period in periods}):
        scoped = context.for_period(period)
        planned = with_database_retries(plan_answers, settings)(
            context.database_url,
            context.workspace.outbox,
            period,
            settings,
            resend_unconfirmed,
            quote(units),
        )
        for kind, letters in zip((ACKNOWLEDGEMENT, MAIL_REFUSAL), planned, strict=True):
            try:
                summaries.append(send_planned(scoped, kind, letters, optional=True))
            except MailNotSent as error:
                # Recorded, and sent by the next run: the collection stands without it.
                logger.warning(str(error))
                summaries.append(error.summary)
    return tuple(summaries)


@flow(name="answer", flow_run_name=run_name("trả lời đơn vị"), log_prints=True)
@explained
def answer(
    period: PeriodParameter = JUST_ENDED,
    workspace: WorkspaceParameter = HOME,
    resend_unconfirmed: ResendParameter = False,
) -> tuple[OutboxSummary, ...]:
    """Send the period's answers not sent yet (with `resend_unconfirmed`, also those an
    interrupted run may have sent)."""
    # The run lock, held from planning to recording: two runs at once would both send what
    # neither recorded.
    with started_run(workspace, period) as context:
        return answer_submissions(context, [context.period], resend_unconfirmed)
