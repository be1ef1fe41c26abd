"""Prefect tasks that plan, send and record a period's reminder e-mails, and leave the operator
a list of who was reminded and what failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect_email import EmailServerCredentials
from sqlalchemy import text

from tasks.mail import Outgoing, mail_server, send_messages
from tonghop.aggregation import period_parameters
from tonghop.periods import Period
from tonghop.registry_store import load_units
from tonghop.reminders import (
    FAILED,
    Reminder,
    ReminderPlan,
    SendResult,
    build_reminders,
    reminder_message,
    split_sent,
    undeliverable_reason,
)
from tonghop.storage import execute_many, load_sql, select_frame, transaction

# flows/remind.py takes the mail server from here; it lives with the sending in tasks/mail.py.
__all__ = [
    "create_reminder_artifact",
    "mail_server",
    "plan_reminders",
    "record_reminders",
    "send_reminders",
]


@task(name="plan-reminders", cache_policy=NO_CACHE)
def plan_reminders(
    database_url: str, period: Period, deadline_days: int, timezone: str
) -> ReminderPlan:
    """The period's reminders from the registry and the reporting status, less those a previous
    run already delivered."""
    with transaction(database_url) as connection:
        units = load_units(connection)
        status = select_frame(
            connection,
            "select_status",
            parse_dates=["received_at"],
            **period_parameters(period, deadline_days),
        )
        sent = connection.execute(
            text(load_sql("select_sent_reminders")), {"period": str(period)}
        ).scalars()
        sent_fingerprints = set(sent)
    today = datetime.now(ZoneInfo(timezone)).date()
    plan = split_sent(
        build_reminders(period, units, status, deadline_days, today), sent_fingerprints
    )
    get_run_logger().info(
        "%d thư đôn đốc cần gửi; %d thư đã gửi ở lần chạy trước, không gửi lại.",
        len(plan.pending),
        len(plan.already_sent),
    )
    return plan


def _result(
    reminder: Reminder, attempts: int, outcome: str, error: str | None, ended: datetime
) -> SendResult:
    recipient = reminder.recipient
    return SendResult(
        period=reminder.period,
        parent_code=reminder.parent.code,
        parent_name=reminder.parent.name,
        recipient_name=recipient.name if recipient else None,
        recipient=recipient.email if recipient else None,
        fingerprint=reminder.fingerprint,
        unit_count=len(reminder.units),
        attempts=attempts,
        outcome=outcome,
        error=error,
        sent_at=ended.replace(tzinfo=None),
    )


# No task retries: a retried batch would send again what already went; each message is retried
# on its own inside instead.
@task(name="send-reminders", cache_policy=NO_CACHE)
def send_reminders(
    reminders: Sequence[Reminder],
    server: EmailServerCredentials,
    mail_from: str,
    attempts: int,
    retry_seconds: float,
    timezone: str,
) -> list[SendResult]:
    """Send every reminder over one SMTP session, each tried up to `attempts` times; return how
    each ended. A reminder with no address, or left when the server cannot be reached at all,
    ends failed with the reason: none is dropped."""
    zone = ZoneInfo(timezone)
    outgoing = [
        Outgoing(
            reminder_message(reminder, mail_from),
            f"thư đôn đốc về {len(reminder.units)} đơn vị trực thuộc {reminder.parent.name} "
            f"đến {reminder.recipient.name} <{reminder.recipient.email}>",
        )
        for reminder in reminders
        if reminder.recipient is not None
    ]
    attempted = iter(send_messages(outgoing, server, attempts, retry_seconds, get_run_logger()))
    results = []
    for reminder in reminders:
        if reminder.recipient is None:
            ended = datetime.now(zone)
            results.append(_result(reminder, 0, FAILED, undeliverable_reason(reminder), ended))
            continue
        sent = next(attempted)
        results.append(
            _result(
                reminder, sent.attempts, sent.outcome, sent.error, sent.finished_at.astimezone(zone)
            )
        )
    return results


@task(name="record-reminders", cache_policy=NO_CACHE)
def record_reminders(database_url: str, results: Sequence[SendResult]) -> int:
    """Store how every reminder of the run ended, in one transaction."""
    with transaction(database_url) as connection:
        execute_many(connection, "insert_reminder", [result.as_row() for result in results])
    return len(results)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


@task(name="create-reminder-artifact", cache_policy=NO_CACHE)
def create_reminder_artifact(
    period: Period, results: Sequence[SendResult], already_sent: int
) -> None:
    """Who was reminded, and every reminder that failed with its reason."""
    lines = [f"# Thư đôn đốc báo cáo — {period.label_vi}", ""]
    if results:
        headers = ("Đơn vị cấp trên", "Gửi đến", "Số đơn vị chưa hoàn thành", "Kết quả")
        headers += ("Số lần gửi", "Lý do")
        lines += ["| " + " | ".join(headers) + " |", "| --- | --- | ---: | --- | ---: | --- |"]
        for result in results:
            to = f"{result.recipient_name} <{result.recipient}>" if result.recipient else "—"
            outcome = "Đã gửi" if result.sent else "**Chưa gửi được**"
            cells = (
                result.parent_name,
                to,
                result.unit_count,
                outcome,
                result.attempts,
                result.error or "",
            )
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    else:
        lines.append("Không có thư đôn đốc nào cần gửi trong lần chạy này.")
    if already_sent:
        lines += ["", f"{already_sent} thư đã gửi ở lần chạy trước, không gửi lại."]
    create_markdown_artifact(
        key=f"nhac-nho-{str(period).lower()}",
        markdown="\n".join(lines),
        description=f"Thư đôn đốc báo cáo {period.label_vi}",
    )
