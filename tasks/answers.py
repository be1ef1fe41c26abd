"""Prefect task planning a period's answers after a collection: an acknowledgement for every
received version and an answer to every e-mail that could not be taken, against the outbox,
with the feedback workbook of each acknowledgement about to go written beside it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tonghop.answers import (
    ACKNOWLEDGEMENT,
    MAIL_REFUSAL,
    build_acknowledgements,
    build_refusal_answers,
    received_versions,
    refused_messages,
    versions_to_acknowledge,
    write_acknowledgement_feedback,
)
from tonghop.config import Settings
from tonghop.context import local_now
from tonghop.formatting import format_count
from tonghop.outbox import OutboxPlan, outbox_states, plan
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.registry_store import load_units
from tonghop.storage import transaction
from tonghop_tasks.names import unmarked


@task(
    name="plan-answers",
    task_run_name=unmarked("Lập danh sách thư trả lời đơn vị"),
    cache_policy=NO_CACHE,
)
def plan_answers(
    database_url: str,
    outbox: Path,
    period: Period,
    settings: Settings,
    resend_unconfirmed: bool = False,
    units: list[Unit] | None = None,
) -> tuple[OutboxPlan, OutboxPlan]:
    """The period's acknowledgements and answers to refused e-mails, against the outbox: the
    registry (unless the run has read it: `units`), the versions received, the refused
    messages and what earlier runs sent, read in one transaction. The feedback workbooks of
    the acknowledgements to send are written into `outbox/<P>/phan-hoi/` (again, for one an
    earlier run could not send: the same file)."""
    with transaction(database_url) as connection:
        if units is None:
            units = load_units(connection)
        versions = received_versions(connection, period)
        refused = refused_messages(connection, period)
        acknowledged = outbox_states(connection, ACKNOWLEDGEMENT, period, None)
        answered = outbox_states(connection, MAIL_REFUSAL, period, None)
    today = local_now(settings.timezone).date()
    reply_to = settings.mail_from
    # A province's acknowledgements are sent once each: only the others are composed again.
    unsent, sent = versions_to_acknowledge(versions, acknowledged)
    acknowledgements = plan(
        build_acknowledgements(unsent, units, settings.deadline_days, today, outbox, reply_to),
        acknowledged,
        resend_unconfirmed,
    )
    acknowledgements = replace(acknowledgements, already_sent=sent)
    written = write_acknowledgement_feedback(
        acknowledgements.to_send, versions, units, settings.deadline_days, today, reply_to
    )
    refusals = plan(
        build_refusal_answers(refused, units, reply_to, settings.contact),
        answered,
        resend_unconfirmed,
    )
    logger = get_run_logger()
    for kind, planned in ((ACKNOWLEDGEMENT, acknowledgements), (MAIL_REFUSAL, refusals)):
        logger.info(
            "%s %s: %s thư cần gửi; %s thư đã gửi ở lần chạy trước, không gửi lại; %s thư chưa "
            "xác nhận.",
            kind.title,
            period.label_vi,
            format_count(len(planned.to_send)),
            format_count(planned.already_sent),
            format_count(len(planned.unconfirmed)),
        )
    if written:
        logger.info("Đã ghi %s tệp phản hồi gửi kèm thư báo kết quả.", format_count(len(written)))
    return acknowledgements, refusals
