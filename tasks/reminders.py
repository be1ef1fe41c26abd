"""Prefect tasks that plan, send and record a period's reminder e-mails, and leave the operator
a list of who was reminded and what failed."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect_email import EmailServerCredentials
from pydantic import SecretStr
from sqlalchemy import text

from tonghop.aggregation import period_parameters
from tonghop.config import Settings
from tonghop.periods import Period
from tonghop.reminders import (
    FAILED,
    SENT,
    MailNotConfigured,
    Reminder,
    ReminderPlan,
    SendResult,
    build_reminders,
    reminder_message,
    split_sent,
    undeliverable_reason,
)
from tonghop.storage import execute_many, load_sql, load_units, select_frame, transaction

# A server that accepts the connection and then stalls must not hold the run forever.
SMTP_TIMEOUT_SECONDS = 60


def mail_server(settings: Settings) -> EmailServerCredentials:
    """The SMTP server to send through: the saved block named by `email_block`, else one made
    from the smtp_* settings; MailNotConfigured when neither is set."""
    if settings.email_block:
        try:
            return EmailServerCredentials.load(settings.email_block)
        except ValueError as error:
            raise MailNotConfigured(
                f"Không tải được khối cấu hình máy chủ thư «{settings.email_block}» "
                f"(Email Server Credentials) từ Prefect: {error}"
            ) from error
    if not settings.smtp_host:
        raise MailNotConfigured(
            "Chưa cấu hình máy chủ thư: đặt TONGHOP_SMTP_HOST (và TONGHOP_SMTP_PORT, "
            "TONGHOP_SMTP_SECURITY, TONGHOP_SMTP_USERNAME, TONGHOP_SMTP_PASSWORD khi cần) hoặc "
            "TONGHOP_EMAIL_BLOCK là tên khối Email Server Credentials đã lưu trong Prefect; "
            "chưa thư nào được gửi."
        )
    return EmailServerCredentials(
        smtp_server=settings.smtp_host,
        smtp_type=settings.smtp_security,
        smtp_port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password or SecretStr(""),
    )


@task(name="plan-reminders", retries=3, retry_delay_seconds=5, cache_policy=NO_CACHE)
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


class _Connection:
    """One SMTP session reused for the whole batch, opened again after any failure."""

    def __init__(self, server: EmailServerCredentials) -> None:
        self._server = server
        self._smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                smtp = self._server.get_server()
            except (smtplib.SMTPException, OSError) as error:
                raise _Unreachable(error) from error
            if smtp.sock is not None:
                smtp.sock.settimeout(SMTP_TIMEOUT_SECONDS)
            self._smtp = smtp
        return self._smtp

    def discard(self) -> None:
        """Drop the session: after a failure its state is unknown, a fresh one is cheaper."""
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class _Unreachable(Exception):
    """The server could not be connected or logged in to."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _describe(error: BaseException, server: EmailServerCredentials) -> str:
    """The reason a send failed, for the operator."""
    if isinstance(error, _Unreachable):
        host = getattr(server.smtp_server, "value", server.smtp_server)
        return f"không kết nối được máy chủ thư {host}: {_describe(error.cause, server)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(
            f"{code} {_text(message)}" for code, message in error.recipients.values()
        )
        return f"máy chủ thư từ chối người nhận ({answers})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"máy chủ thư trả lời {error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _result(
    reminder: Reminder, attempts: int, outcome: str, error: str | None, zone: ZoneInfo
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
        sent_at=datetime.now(zone).replace(tzinfo=None),
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
    logger = get_run_logger()
    zone = ZoneInfo(timezone)
    attempts = max(1, attempts)
    connection = _Connection(server)
    unreachable: str | None = None
    results = []
    try:
        for reminder in reminders:
            if reminder.recipient is None:
                results.append(_result(reminder, 0, FAILED, undeliverable_reason(reminder), zone))
                continue
            if unreachable is not None:
                # Every attempt of the previous message failed to connect: trying each of the
                # rest as many times would only make the operator wait for the same answer.
                results.append(_result(reminder, 0, FAILED, unreachable, zone))
                continue
            message = reminder_message(reminder, mail_from)
            error: BaseException | None = None
            for attempt in range(1, attempts + 1):
                try:
                    connection.get().send_message(message)
                except (_Unreachable, smtplib.SMTPException, OSError) as failure:
                    error = failure
                    connection.discard()
                    logger.warning(
                        "Lần gửi %d/%d thư đôn đốc đến %s không thành công: %s",
                        attempt,
                        attempts,
                        reminder.recipient.email,
                        _describe(failure, server),
                    )
                    if attempt < attempts:
                        time.sleep(retry_seconds)
                    continue
                results.append(_result(reminder, attempt, SENT, None, zone))
                logger.info(
                    "Đã gửi thư đôn đốc đến %s <%s> về %d đơn vị trực thuộc %s.",
                    reminder.recipient.name,
                    reminder.recipient.email,
                    len(reminder.units),
                    reminder.parent.name,
                )
                break
            else:
                reason = _describe(error, server)
                results.append(_result(reminder, attempts, FAILED, reason, zone))
                if isinstance(error, _Unreachable):
                    unreachable = f"chưa gửi vì {reason}"
    finally:
        connection.discard()
    return results


@task(name="record-reminders", retries=3, retry_delay_seconds=5, cache_policy=NO_CACHE)
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
