"""Prefect tasks that plan, send and record the e-mails of a published version's reports to the
province and every upper-level unit, and leave the operator a list of who received what."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect_email import EmailServerCredentials
from sqlalchemy import text

from tasks.mail import Outgoing, send_messages
from tonghop.delivery import (
    Delivery,
    DeliveryPlan,
    DeliveryResult,
    build_deliveries,
    delivery_message,
    split_sent,
    undeliverable_reason,
    version_label,
)
from tonghop.errors import TonghopError
from tonghop.periods import Period
from tonghop.registry_store import load_units
from tonghop.reminders import FAILED
from tonghop.storage import execute_many, load_sql, transaction


class NothingPublished(TonghopError):
    """The period has no published version to send."""


@task(name="plan-deliveries", cache_policy=NO_CACHE)
def plan_deliveries(
    database_url: str,
    period: Period,
    version: int,
    reports: Mapping[str, Path],
    workbook: Path,
) -> DeliveryPlan:
    """The version's deliveries from the registry's addresses, less those a previous run
    already sent."""
    with transaction(database_url) as connection:
        units = load_units(connection)
        sent = connection.execute(
            text(load_sql("select_sent_report_deliveries")),
            {"period": str(period), "version": version},
        ).scalars()
        sent_fingerprints = set(sent)
    plan = split_sent(
        build_deliveries(period, version, units, reports, workbook), sent_fingerprints
    )
    get_run_logger().info(
        "%d thư gửi báo cáo %s cần gửi; %d thư đã gửi ở lần chạy trước, không gửi lại.",
        len(plan.pending),
        version_label(period, version),
        len(plan.already_sent),
    )
    return plan


def _result(
    delivery: Delivery, attempts: int, outcome: str, error: str | None, ended: datetime
) -> DeliveryResult:
    return DeliveryResult(
        period=delivery.period,
        version=delivery.version,
        unit_code=delivery.unit_code,
        unit_name=delivery.unit_name,
        recipient=delivery.recipient,
        fingerprint=delivery.fingerprint,
        attempts=attempts,
        outcome=outcome,
        error=error,
        sent_at=ended.replace(tzinfo=None),
    )


def failed_unsent(
    deliveries: Sequence[Delivery], reason: str, timezone: str
) -> list[DeliveryResult]:
    """Every delivery ended failed, untried, for one reason (the mail server cannot be used)."""
    ended = datetime.now(ZoneInfo(timezone))
    return [_result(delivery, 0, FAILED, reason, ended) for delivery in deliveries]


# No task retries: a retried batch would send again what already went; each message is retried
# on its own inside instead.
@task(name="send-deliveries", cache_policy=NO_CACHE)
def send_deliveries(
    deliveries: Sequence[Delivery],
    server: EmailServerCredentials,
    mail_from: str,
    attempts: int,
    retry_seconds: float,
    timezone: str,
) -> list[DeliveryResult]:
    """Send every delivery over one SMTP session, each tried up to `attempts` times; return how
    each ended. A delivery with no address or a file gone from disk ends failed with the reason:
    none is dropped."""
    zone = ZoneInfo(timezone)
    reasons: dict[int, str] = {}

    def outgoing() -> Iterator[Outgoing]:
        # One message at a time: the workbook goes to every unit, and a province's batch of
        # attachments need not sit in memory together.
        for index, delivery in enumerate(deliveries):
            if delivery.recipient is None:
                reasons[index] = undeliverable_reason(delivery)
                continue
            try:
                message = delivery_message(delivery, mail_from)
            except OSError as error:
                # Someone moved or deleted a published file: say which, and send the rest.
                reasons[index] = (
                    f"không đọc được tệp gửi kèm «{getattr(error, 'filename', '') or ''}» "
                    f"({error.strerror or error})"
                )
                continue
            label = (
                f"báo cáo {version_label(Period.parse(delivery.period), delivery.version)} đến "
                f"{delivery.unit_name} <{delivery.recipient}>"
            )
            yield Outgoing(message, label)

    attempted = iter(send_messages(outgoing(), server, attempts, retry_seconds, get_run_logger()))
    results = []
    for index, delivery in enumerate(deliveries):
        if index in reasons:
            ended = datetime.now(zone)
            results.append(_result(delivery, 0, FAILED, reasons[index], ended))
            continue
        sent = next(attempted)
        ended = sent.finished_at.astimezone(zone)
        results.append(_result(delivery, sent.attempts, sent.outcome, sent.error, ended))
    return results


@task(name="record-deliveries", cache_policy=NO_CACHE)
def record_deliveries(database_url: str, results: Sequence[DeliveryResult]) -> int:
    """Store how every delivery of the run ended, in one transaction."""
    with transaction(database_url) as connection:
        execute_many(connection, "insert_report_delivery", [result.as_row() for result in results])
    return len(results)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


@task(name="create-delivery-artifact", cache_policy=NO_CACHE)
def create_delivery_artifact(
    period: Period,
    version: int,
    results: Sequence[DeliveryResult],
    already_sent: int,
    not_configured: str | None,
) -> None:
    """Which unit was sent the version, at which address, and every failure with its reason."""
    label = version_label(period, version)
    lines = [f"# Gửi dự thảo báo cáo và bảng tổng hợp — {label}", ""]
    if not_configured:
        lines.append(not_configured)
    elif results:
        headers = ("Đơn vị", "Địa chỉ thư", "Kết quả", "Số lần gửi", "Lý do")
        lines += ["| " + " | ".join(headers) + " |", "| --- | --- | --- | ---: | --- |"]
        for result in results:
            outcome = "Đã gửi" if result.sent else "**Chưa gửi được**"
            cells = (
                f"{result.unit_name} ({result.unit_code})",
                result.recipient or "—",
                outcome,
                result.attempts,
                result.error or "",
            )
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    else:
        lines.append("Không có thư nào cần gửi trong lần chạy này.")
    if already_sent:
        lines += [
            "",
            f"{already_sent} đơn vị đã nhận phiên bản này ở lần chạy trước, không gửi lại.",
        ]
    create_markdown_artifact(
        key=f"gui-bao-cao-{str(period).lower()}",
        markdown="\n".join(lines),
        description=f"Gửi dự thảo báo cáo {label}",
    )


@task(name="find-published-version", cache_policy=NO_CACHE)
def latest_published_version(database_url: str, period: Period) -> int:
    """The newest version of the period whose files are all written."""
    with transaction(database_url) as connection:
        rows = connection.execute(text(load_sql("select_publications")), {"period": str(period)})
        published = [row.version for row in rows if row.published_at is not None]
    if not published:
        raise NothingPublished(
            f"{period.label_vi} chưa có phiên bản tổng hợp nào được công bố, nên chưa có báo cáo "
            "để gửi; chạy `tonghop run` cho kỳ này trước."
        )
    return max(published)
