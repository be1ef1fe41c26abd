"""Reminders during the collection window: for every parent unit whose direct children have not
sent an acceptable report, one e-mail in the register of party documents listing them, to the
parent or, when the registry has no address for it, to its nearest ancestor that has one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid

import pandas as pd

from tonghop.errors import TonghopError
from tonghop.formatting import format_count, format_date, format_datetime, is_blank
from tonghop.periods import Period
from tonghop.registry import Unit

# Statuses (SPEC §7) that leave a unit without a counted report.
PENDING_STATUSES = ("missing", "rejected")
SENT, FAILED = "sent", "failed"
SIGNATURE_SYSTEM = "Hệ thống Tổng hợp (thư tự động)"
_STANDING_COMMITTEE_KINDS = ("province", "upper")


class MailNotConfigured(TonghopError):
    """No SMTP server to send through."""


@dataclass(frozen=True)
class Addressee:
    """A unit as a reminder names it."""

    code: str
    name: str
    kind: str
    email: str | None


@dataclass(frozen=True)
class PendingUnit:
    """A child unit without a counted report; for a rejected one, its latest file."""

    code: str
    name: str
    status: str
    file_name: str | None = None
    received_at: datetime | None = None
    errors: int = 0


@dataclass(frozen=True)
class Reminder:
    """One e-mail about one parent's pending children; `recipient` is None when neither the
    parent nor any ancestor has an address, and the reminder cannot be delivered."""

    period: str
    parent: Addressee
    recipient: Addressee | None
    units: tuple[PendingUnit, ...]
    subject: str
    body: str
    fingerprint: str

    @property
    def escalated(self) -> bool:
        """Sent to an ancestor because the parent itself has no address."""
        return self.recipient is not None and self.recipient.code != self.parent.code


@dataclass(frozen=True)
class SendResult:
    """How one reminder ended: sent, or failed after `attempts` tries with the last `error`."""

    period: str
    parent_code: str
    parent_name: str
    recipient_name: str | None
    recipient: str | None
    fingerprint: str
    unit_count: int
    attempts: int
    outcome: str
    error: str | None
    sent_at: datetime

    @property
    def sent(self) -> bool:
        return self.outcome == SENT

    def as_row(self) -> dict[str, object]:
        """The row of `sql/insert_reminder.sql`."""
        return {
            "period": self.period,
            "parent_code": self.parent_code,
            "recipient": self.recipient,
            "fingerprint": self.fingerprint,
            "attempts": self.attempts,
            "outcome": self.outcome,
            "error": self.error,
            "sent_at": self.sent_at,
        }


@dataclass(frozen=True)
class ReminderPlan:
    """The period's reminders still to send, and those a previous run already sent."""

    pending: list[Reminder]
    already_sent: list[Reminder]


@dataclass(frozen=True)
class RemindSummary:
    """What one `remind` run did."""

    period: str
    results: tuple[SendResult, ...]
    already_sent: int

    @property
    def sent(self) -> list[SendResult]:
        return [result for result in self.results if result.sent]

    @property
    def failed(self) -> list[SendResult]:
        return [result for result in self.results if not result.sent]


class RemindersNotSent(TonghopError):
    """Some reminders did not reach their recipient; raised after every result is recorded."""

    def __init__(self, message: str, summary: RemindSummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple[object, ...]:
        # Prefect may pickle a flow's exception; keep the summary through it.
        return (type(self), (self.args[0], self.summary))


def fingerprint(
    period: str, parent_code: str, recipient: str | None, units: Iterable[PendingUnit]
) -> str:
    """What identifies a reminder: the same list to the same address is never sent twice, while a
    changed list (a unit now rejected, or another unit missing) is a new reminder."""
    lines = [period, parent_code, recipient or ""]
    lines += sorted(f"{unit.code}\t{unit.status}" for unit in units)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _present(value: object) -> str | None:
    """A registry text, None when blank."""
    return None if is_blank(value) else str(value)


def _addressee(unit: Unit) -> Addressee:
    return Addressee(unit.code, unit.name, unit.kind, _present(unit.email))


def _nearest_with_email(unit: Unit, by_code: dict[str, Unit]) -> Unit | None:
    """The unit itself when it has an address, else its nearest ancestor that has one."""
    seen: set[str] = set()
    current: Unit | None = unit
    while current is not None and current.code not in seen:
        if _present(current.email):
            return current
        seen.add(current.code)
        parent_code = _present(current.parent_code)
        current = by_code.get(parent_code) if parent_code else None
    return None


def _pending_unit(row: pd.Series, unit: Unit) -> PendingUnit:
    received = row.get("received_at")
    errors = row.get("errors")
    return PendingUnit(
        code=unit.code,
        name=unit.name,
        status=str(row["status"]),
        file_name=None if is_blank(row.get("file_name")) else str(row["file_name"]),
        received_at=None if is_blank(received) else pd.Timestamp(received).to_pydatetime(),
        errors=0 if is_blank(errors) else int(errors),
    )


def _salutation(recipient: Addressee) -> str:
    body = "Ban Thường vụ" if recipient.kind in _STANDING_COMMITTEE_KINDS else "Cấp ủy"
    return f"{body} {recipient.name}"


def _unit_line(number: int, unit: PendingUnit) -> str:
    if unit.status == "missing":
        return f"{number}. {unit.name} (mã {unit.code}): chưa gửi báo cáo."
    detail = []
    if unit.file_name:
        detail.append(f"tệp «{unit.file_name}»")
    if unit.received_at is not None:
        detail.append(f"nhận lúc {format_datetime(unit.received_at)}")
    if unit.errors:
        detail.append(f"có {format_count(unit.errors)} lỗi")
    described = f" — {' '.join(detail)}" if detail else ""
    return (
        f"{number}. {unit.name} (mã {unit.code}): báo cáo bị trả lại{described}; "
        "đơn vị xem tệp phản hồi, sửa và gửi lại."
    )


def _subject(period: Period, parent: Addressee, count: int) -> str:
    return (
        f"Đôn đốc báo cáo {period.label_vi}: {count} đơn vị trực thuộc {parent.name} "
        "chưa hoàn thành báo cáo"
    )


def _body(
    period: Period,
    parent: Addressee,
    recipient: Addressee | None,
    units: Sequence[PendingUnit],
    deadline: date,
    today: date,
    sender: str,
) -> str:
    late = today > deadline
    deadline_text = f"ngày {format_date(deadline)}" + (", nay đã quá hạn" if late else "")
    lines = [
        f"Kính gửi: {_salutation(recipient or parent)}",
        "",
        "Theo chế độ báo cáo định kỳ về công tác học tập, quán triệt nghị quyết, hạn gửi báo "
        f"cáo {period.label_vi} là {deadline_text}. Đến ngày {format_date(today)}, Hệ thống "
        f"Tổng hợp chưa nhận được báo cáo hợp lệ của {len(units)} đơn vị trực thuộc "
        f"{parent.name} sau đây:",
        "",
    ]
    lines += [_unit_line(number, unit) for number, unit in enumerate(units, start=1)]
    lines.append("")
    if recipient is not None and recipient.code != parent.code:
        lines += [
            f"Do {parent.name} chưa có địa chỉ thư điện tử trong danh sách đơn vị, thư này được "
            f"gửi đến {recipient.name} là cấp ủy cấp trên để chỉ đạo, đôn đốc.",
            "",
        ]
    closing = "ngay" if late else "trước hạn"
    lines += [
        f"Đề nghị đồng chí đôn đốc các đơn vị hoàn thành và gửi báo cáo {closing}.",
        "",
        "Trân trọng./.",
        "",
        sender,
        SIGNATURE_SYSTEM,
    ]
    return "\n".join(lines) + "\n"


def build_reminders(
    period: Period,
    units: Sequence[Unit],
    status: pd.DataFrame,
    deadline_days: int,
    today: date,
) -> list[Reminder]:
    """One reminder per parent, in hierarchy order, whose direct children include a `missing` or
    `rejected` unit in `status` (the rows of `sql/select_status.sql`)."""
    by_code = {unit.code: unit for unit in units}
    sender = sender_of(units)
    deadline = period.deadline(deadline_days)
    children: dict[str, list[PendingUnit]] = {}
    for _, row in status.iterrows():
        unit = by_code.get(row["unit_code"])
        parent_code = _present(unit.parent_code) if unit else None
        if unit is None or parent_code is None or row["status"] not in PENDING_STATUSES:
            continue
        children.setdefault(parent_code, []).append(_pending_unit(row, unit))
    order = {unit.code: position for position, unit in enumerate(units)}
    reminders = []
    for parent_code in sorted(children, key=lambda code: order.get(code, len(order))):
        parent_unit = by_code[parent_code]
        parent = _addressee(parent_unit)
        found = _nearest_with_email(parent_unit, by_code)
        recipient = _addressee(found) if found else None
        pending = tuple(children[parent_code])
        reminders.append(
            Reminder(
                period=str(period),
                parent=parent,
                recipient=recipient,
                units=pending,
                subject=_subject(period, parent, len(pending)),
                body=_body(period, parent, recipient, pending, deadline, today, sender),
                fingerprint=fingerprint(
                    str(period), parent_code, recipient.email if recipient else None, pending
                ),
            )
        )
    return reminders


def split_sent(reminders: Sequence[Reminder], sent_fingerprints: Iterable[str]) -> ReminderPlan:
    """Leave out what a previous run already delivered, so a rerun sends only what failed."""
    sent = set(sent_fingerprints)
    return ReminderPlan(
        pending=[item for item in reminders if item.fingerprint not in sent],
        already_sent=[item for item in reminders if item.fingerprint in sent],
    )


def reminder_message(reminder: Reminder, mail_from: str) -> MIMEText:
    """The e-mail of a deliverable reminder, UTF-8 subject and body."""
    if reminder.recipient is None or not reminder.recipient.email:
        raise ValueError(f"reminder about {reminder.parent.code} has no recipient")
    message = utf8_text(reminder.body)
    address(message, reminder.subject, mail_from, reminder.recipient.name, reminder.recipient.email)
    return message


def utf8_text(body: str) -> MIMEText:
    """A plain-text part in UTF-8, quoted-printable: it passes servers that do not announce
    8BITMIME and stays readable."""
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return MIMEText(body, "plain", charset)


def address(message: Message, subject: str, mail_from: str, name: str, email: str) -> None:
    """Set the headers every automatic e-mail of Tổng hợp carries.

    Built with the compat32 classes on purpose: Python 3.11's EmailMessage folds a long
    Vietnamese subject into encoded words with the spaces between them outside the words, and
    every reader then drops those spaces (RFC 2047 §6.2); `Header` keeps them inside."""
    message["Subject"] = Header(subject, "utf-8")
    message["From"] = mail_from
    message["To"] = formataddr((name, email))
    message["Date"] = formatdate(localtime=True)
    # Without a domain make_msgid asks the resolver for this host's name, which may hang.
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or "localhost")
    # RFC 3834: mail servers and people's rules know not to auto-reply to it.
    message["Auto-Submitted"] = "auto-generated"


def sender_of(units: Sequence[Unit]) -> str:
    """Who signs the automatic e-mails: the province's propaganda department."""
    root = root_of(units)
    return f"Ban Tuyên giáo {root.name}" if root else "Ban Tuyên giáo"


def root_of(units: Sequence[Unit]) -> Unit | None:
    """The registry's top unit, the one without a parent."""
    return next((unit for unit in units if _present(unit.parent_code) is None), None)


def undeliverable_reason(reminder: Reminder) -> str:
    """Why a reminder without a recipient could not be sent."""
    return (
        f"{reminder.parent.name} và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ thư "
        "điện tử trong danh sách đơn vị."
    )


def not_sent_message(period: Period, failed: Sequence[SendResult]) -> str:
    """The Vietnamese message a run ends with when some reminders did not reach anyone."""
    lines = [
        f"{len(failed)} thư đôn đốc báo cáo {period.label_vi} chưa gửi được "
        "(đã ghi lại; chạy lại sẽ chỉ gửi các thư này):"
    ]
    for result in failed:
        to = f"{result.recipient_name} <{result.recipient}>" if result.recipient else "(không có)"
        tried = f" (đã gửi thử {result.attempts} lần)" if result.attempts else ""
        lines.append(
            f"- Thư về các đơn vị trực thuộc {result.parent_name}, gửi đến {to}: "
            f"{result.error}{tried}"
        )
    return "\n".join(lines)
