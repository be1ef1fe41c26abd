"""Sending each published version to the units that sign its reports: for the province and every
upper-level unit with a drafted report, one e-mail to the unit's own address in the registry,
with a short cover letter, its draft report (Word, charts inside) and the version's workbook.

Messages carry the same headers as reminders (`tonghop.reminders.address`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from pathlib import Path

from tonghop.errors import TonghopError
from tonghop.formatting import is_blank
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.reminders import SENT, SIGNATURE_SYSTEM, address, root_of, sender_of, utf8_text

# The `application/…` subtypes of the attached files, by suffix.
_SUBTYPES = {
    ".docx": "vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Delivery:
    """One unit's copy of a published version; `recipient` is None when the registry has no
    address for the unit, and the delivery cannot be sent."""

    period: str
    version: int
    unit_code: str
    unit_name: str
    recipient: str | None
    report: Path
    workbook: Path
    subject: str
    body: str
    fingerprint: str


@dataclass(frozen=True)
class DeliveryResult:
    """How one delivery ended: sent, or failed after `attempts` tries with the reason `error`."""

    period: str
    version: int
    unit_code: str
    unit_name: str
    recipient: str | None
    fingerprint: str
    attempts: int
    outcome: str
    error: str | None
    sent_at: datetime  # naive, in the operators' time zone

    @property
    def sent(self) -> bool:
        return self.outcome == SENT

    def as_row(self) -> dict[str, object]:
        """The row of `sql/insert_report_delivery.sql`."""
        return {
            "period": self.period,
            "version": self.version,
            "unit_code": self.unit_code,
            "recipient": self.recipient,
            "fingerprint": self.fingerprint,
            "attempts": self.attempts,
            "outcome": self.outcome,
            "error": self.error,
            "sent_at": self.sent_at,
        }


@dataclass(frozen=True)
class DeliveryPlan:
    """A version's deliveries still to send, and those a previous run already sent."""

    pending: list[Delivery]
    already_sent: list[Delivery]


@dataclass(frozen=True)
class DeliverySummary:
    """What one `deliver_reports` run did for one published version; `not_configured` holds the
    reason nothing was tried when no mail server is configured."""

    period: str
    version: int
    results: tuple[DeliveryResult, ...] = ()
    already_sent: int = 0
    not_configured: str | None = None

    @property
    def sent(self) -> list[DeliveryResult]:
        return [result for result in self.results if result.sent]

    @property
    def failed(self) -> list[DeliveryResult]:
        return [result for result in self.results if not result.sent]


class ReportsNotDelivered(TonghopError):
    """Some deliveries did not reach their unit; raised after every result is recorded."""

    def __init__(self, message: str, summary: DeliverySummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple[object, ...]:
        # Prefect may pickle a flow's exception; keep the summary through it.
        return (type(self), (self.args[0], self.summary))


def fingerprint(period: str, version: int, unit_code: str, recipient: str | None) -> str:
    """What identifies a delivery: a version reaches the same address once, while a new version
    or a changed address is a new delivery."""
    text = "\n".join((period, str(version), unit_code, (recipient or "").strip().lower()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_label(period: Period, version: int) -> str:
    """`Quý III năm 2026 (phiên bản 1)`."""
    return f"{period.label_vi} (phiên bản {version})"


def _subject(period: Period, version: int, unit_name: str) -> str:
    return (
        f"Dự thảo báo cáo {period.label_vi} của {unit_name} và bảng tổng hợp số liệu "
        f"(phiên bản {version})"
    )


def _body(
    period: Period,
    version: int,
    unit_name: str,
    report: Path,
    workbook: Path,
    sender: str,
    root_name: str | None,
) -> str:
    scope = f" toàn {root_name}" if root_name else ""
    lines = [
        f"Kính gửi: Ban Thường vụ {unit_name}",
        "",
        "Hệ thống Tổng hợp gửi dự thảo báo cáo kết quả nghiên cứu, học tập, quán triệt và tuyên "
        f"truyền các nghị quyết, chỉ thị, kết luận của Đảng {version_label(period, version)} "
        f"của {unit_name}, lập từ số liệu các đơn vị trực thuộc đã gửi, và bảng tổng hợp số "
        f"liệu{scope} cùng kỳ. Tài liệu gửi kèm:",
        "",
        f"1. {report.name}: dự thảo báo cáo (bản Word, đã có các biểu đồ);",
        f"2. {workbook.name}: bảng tổng hợp số liệu.",
        "",
    ]
    if version > 1:
        lines += [
            f"Phiên bản {version} thay thế các phiên bản đã gửi trước đây; những đơn vị và số "
            "liệu thay đổi được liệt kê ở trang «Những thay đổi» của bảng tổng hợp.",
            "",
        ]
    lines += [
        "Đề nghị Ban Thường vụ chỉ đạo rà soát nội dung dự thảo, đối chiếu số liệu, bổ sung số, "
        "ngày ký báo cáo và hoàn thiện thủ tục ban hành theo quy định.",
        "",
        "Trân trọng./.",
        "",
        sender,
        SIGNATURE_SYSTEM,
    ]
    return "\n".join(lines) + "\n"


def build_deliveries(
    period: Period,
    version: int,
    units: Sequence[Unit],
    reports: Mapping[str, Path],
    workbook: Path,
) -> list[Delivery]:
    """One delivery per unit with a drafted report in `reports` (by unit code), in hierarchy
    order, to the unit's own address in the registry `units`."""
    by_code = {unit.code: unit for unit in units}
    order = {unit.code: position for position, unit in enumerate(units)}
    sender = sender_of(units)
    root = root_of(units)
    deliveries = []
    for code in sorted(reports, key=lambda code: (order.get(code, len(order)), code)):
        unit = by_code.get(code)
        name = unit.name if unit else code
        email = None if unit is None or is_blank(unit.email) else str(unit.email).strip()
        deliveries.append(
            Delivery(
                period=str(period),
                version=version,
                unit_code=code,
                unit_name=name,
                recipient=email,
                report=Path(reports[code]),
                workbook=Path(workbook),
                subject=_subject(period, version, name),
                body=_body(
                    period,
                    version,
                    name,
                    Path(reports[code]),
                    Path(workbook),
                    sender,
                    root.name if root else None,
                ),
                fingerprint=fingerprint(str(period), version, code, email),
            )
        )
    return deliveries


def split_sent(deliveries: Sequence[Delivery], sent_fingerprints: Iterable[str]) -> DeliveryPlan:
    """Leave out what a previous run already delivered, so a rerun sends only what failed."""
    sent = set(sent_fingerprints)
    return DeliveryPlan(
        pending=[item for item in deliveries if item.fingerprint not in sent],
        already_sent=[item for item in deliveries if item.fingerprint in sent],
    )


def undeliverable_reason(delivery: Delivery) -> str:
    """Why a delivery without an address could not be sent, and what to do about it."""
    return (
        f"{delivery.unit_name} (mã {delivery.unit_code}) chưa có địa chỉ thư điện tử trong danh "
        "sách đơn vị; bổ sung địa chỉ vào danh sách đơn vị rồi chạy lại để gửi."
    )


def attachment(path: Path, name: str | None = None) -> MIMEApplication:
    """A file as an attachment of its media type; a name outside ASCII is written as RFC 2231
    UTF-8 (`filename*=utf-8''…`), which every current reader decodes."""
    name = name or path.name
    part = MIMEApplication(path.read_bytes(), _SUBTYPES.get(path.suffix.lower(), "octet-stream"))
    # An ASCII name stays a plain parameter: older readers show it even without RFC 2231.
    filename: str | tuple[str, str, str] = name if name.isascii() else ("utf-8", "", name)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def delivery_message(delivery: Delivery, mail_from: str) -> MIMEMultipart:
    """The e-mail of a deliverable delivery: the cover letter, the report and the workbook.
    Reads both files; OSError when either is gone."""
    if not delivery.recipient:
        raise ValueError(f"delivery to {delivery.unit_code} has no recipient")
    message = MIMEMultipart("mixed")
    message.attach(utf8_text(delivery.body))
    message.attach(attachment(delivery.report))
    message.attach(attachment(delivery.workbook))
    address(message, delivery.subject, mail_from, delivery.unit_name, delivery.recipient)
    return message


def _recipient_text(result: DeliveryResult) -> str:
    if result.recipient:
        return f"{result.unit_name} <{result.recipient}>"
    return f"{result.unit_name} (mã {result.unit_code})"


def not_delivered_message(period: Period, version: int, failed: Sequence[DeliveryResult]) -> str:
    """The Vietnamese message a run ends with when some units did not receive the version."""
    lines = [
        f"{len(failed)} thư gửi dự thảo báo cáo và bảng tổng hợp {version_label(period, version)} "
        "chưa gửi được (đã ghi lại; chạy lại sẽ chỉ gửi các thư này):"
    ]
    for result in failed:
        tried = f" (đã gửi thử {result.attempts} lần)" if result.attempts else ""
        lines.append(f"- Gửi {_recipient_text(result)}: {result.error}{tried}")
    return "\n".join(lines)
