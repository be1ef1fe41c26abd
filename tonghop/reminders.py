"""Reminders during the collection window, a kind of outbox letter: for every parent unit whose
direct children have not sent an acceptable report, one e-mail in the register of party
documents listing them, to the parent or, when the registry has no address for it, to its
nearest ancestor that has one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from tonghop.formatting import format_count, format_date, format_datetime, is_blank
from tonghop.layout import blank_form_name
from tonghop.outbox import (
    Letter,
    MailKind,
    fingerprint_of,
    present,
    reach,
    recipient_of,
    salutation,
    sender_of,
    signed,
)
from tonghop.periods import Period
from tonghop.registry import Unit

REMINDER = MailKind(name="reminder", title="Thư đôn đốc báo cáo", artifact_key="nhac-nho")
# Statuses (SPEC §7) that leave a unit without a counted report.
PENDING_STATUSES = ("missing", "rejected")


@dataclass(frozen=True)
class PendingUnit:
    """A child unit without a counted report; for a rejected one, its latest file."""

    code: str
    name: str
    status: str
    file_name: str | None = None
    received_at: datetime | None = None
    errors: int = 0


def fingerprint(
    period: str, parent_code: str, recipient: str | None, units: Iterable[PendingUnit]
) -> str:
    """What identifies a reminder: the same list to the same address is never sent twice, while a
    changed list (a unit now rejected, or another unit missing) is a new reminder."""
    listed = sorted(f"{unit.code}\t{unit.status}" for unit in units)
    return fingerprint_of(period, parent_code, recipient or "", *listed)


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


def pending_by_parent(units: Sequence[Unit], status: pd.DataFrame) -> dict[str, list[PendingUnit]]:
    """The `missing` or `rejected` units in `status` (the rows of `sql/select_status.sql`) by
    their parent's code, parents in hierarchy order."""
    by_code = {unit.code: unit for unit in units}
    children: dict[str, list[PendingUnit]] = {}
    for _, row in status.iterrows():
        unit = by_code.get(row["unit_code"])
        parent_code = present(unit.parent_code) if unit else None
        if unit is None or parent_code is None or row["status"] not in PENDING_STATUSES:
            continue
        children.setdefault(parent_code, []).append(_pending_unit(row, unit))
    order = {unit.code: position for position, unit in enumerate(units)}
    return {
        code: children[code]
        for code in sorted(children, key=lambda code: order.get(code, len(order)))
    }


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


def _subject(period: Period, parent_name: str, count: int) -> str:
    return (
        f"Đôn đốc báo cáo {period.label_vi}: {count} đơn vị trực thuộc {parent_name} "
        "chưa hoàn thành báo cáo"
    )


def _body(
    period: Period,
    parent: Unit,
    recipient: Unit | None,
    units: Sequence[PendingUnit],
    deadline: date,
    today: date,
    sender: str,
) -> str:
    late = today > deadline
    deadline_text = f"ngày {format_date(deadline)}" + (", nay đã quá hạn" if late else "")
    lines = [
        f"Kính gửi: {salutation(recipient or parent)}",
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
    ]
    return signed(lines, sender)


def build_reminders(
    period: Period,
    units: Sequence[Unit],
    status: pd.DataFrame,
    deadline_days: int,
    today: date,
) -> list[Letter]:
    """One reminder per parent, in hierarchy order, whose direct children include a `missing` or
    `rejected` unit in `status` (the rows of `sql/select_status.sql`)."""
    by_code = {unit.code: unit for unit in units}
    sender = sender_of(units)
    deadline = period.deadline(deadline_days)
    reminders = []
    for parent_code, children in pending_by_parent(units, status).items():
        parent_unit = by_code[parent_code]
        found = reach(parent_unit, by_code)
        recipient = recipient_of(found) if found else None
        email = recipient.email if recipient else None
        reminders.append(
            Letter(
                kind=REMINDER,
                period=str(period),
                about_code=parent_code,
                about=f"thư đôn đốc về {len(children)} đơn vị trực thuộc {parent_unit.name}",
                recipient=recipient,
                subject=_subject(period, parent_unit.name, len(children)),
                body=_body(period, parent_unit, found, children, deadline, today, sender),
                fingerprint=fingerprint(str(period), parent_code, email, children),
                undeliverable=(
                    f"{parent_unit.name} và các cấp ủy cấp trên của đơn vị này đều chưa có địa chỉ "
                    "thư điện tử trong danh sách đơn vị."
                ),
            )
        )
    return reminders


# --- each pending unit's own reminder -------------------------------------------------------

UNIT_REMINDER = MailKind(
    name="unit_reminder", title="Thư nhắc đơn vị gửi báo cáo", artifact_key="nhac-don-vi"
)


def unit_fingerprint(period: str, unit: PendingUnit, recipient: str) -> str:
    """What identifies a unit's own reminder: once per stage (missing, then rejected) and
    address."""
    return fingerprint_of("unit", period, unit.code, unit.status, recipient.lower())


def _unit_body(
    period: Period,
    unit: Unit,
    parent: Unit | None,
    pending: PendingUnit,
    form: Path,
    deadline: date,
    today: date,
    reply_to: str,
    sender: str,
) -> str:
    late = today > deadline
    within = f" ({parent.name})" if parent else ""
    if pending.status == "missing":
        state = f"chưa nhận được báo cáo {period.label_vi} của {unit.name}"
    else:
        state = (
            f"đã nhận báo cáo {period.label_vi} của {unit.name}"
            + (f" (tệp «{pending.file_name}»)" if pending.file_name else "")
            + " nhưng báo cáo bị trả lại"
            + (f" vì có {format_count(pending.errors)} lỗi" if pending.errors else "")
            + "; các lỗi và cách sửa có trong tệp phản hồi đã gửi đơn vị"
        )
    lines = [
        f"Kính gửi: {salutation(unit)}{within}",
        "",
        f"Đến ngày {format_date(today)}, Hệ thống Tổng hợp {state}. Hạn gửi báo cáo là ngày "
        f"{format_date(deadline)}" + (", nay đã quá hạn." if late else "."),
        "",
        f"Mẫu biểu của đơn vị được gửi kèm lại (tệp «{form.name}», đã ghi sẵn mã đơn vị "
        f"{unit.code} và kỳ báo cáo). Đề nghị đồng chí điền đủ số liệu và gửi lại "
        + ("ngay" if late else "trước hạn")
        + f" bằng cách trả lời thư này (hoặc gửi đến địa chỉ {reply_to}) với tệp đã điền đính "
        "kèm; giữ nguyên định dạng .xlsx và trang «BaoCao».",
        "",
    ]
    return signed(lines, sender)


def build_unit_reminders(
    period: Period,
    units: Sequence[Unit],
    status: pd.DataFrame,
    deadline_days: int,
    today: date,
    forms_folder: Path,
    reply_to: str,
) -> list[Letter]:
    """One reminder to each `missing` or `rejected` unit in `status` that has an address of its
    own, in hierarchy order, with its blank form (`forms_folder/<unit>-<P>.xlsx`) attached
    again. A unit without an address is not written to separately: its parent's list already
    names it and reaches whoever can pass it on."""
    by_code = {unit.code: unit for unit in units}
    sender = sender_of(units)
    deadline = period.deadline(deadline_days)
    letters = []
    for children in pending_by_parent(units, status).values():
        for pending in children:
            unit = by_code[pending.code]
            email = present(unit.email)
            if email is None:
                continue
            form = forms_folder / blank_form_name(unit.code, period)
            parent = by_code.get(present(unit.parent_code) or "")
            letters.append(
                Letter(
                    kind=UNIT_REMINDER,
                    period=str(period),
                    about_code=unit.code,
                    about=f"thư nhắc {unit.name} gửi báo cáo",
                    recipient=recipient_of(unit),
                    subject=f"Nhắc gửi báo cáo {period.label_vi} của {unit.name}",
                    body=_unit_body(
                        period, unit, parent, pending, form, deadline, today, reply_to, sender
                    ),
                    fingerprint=unit_fingerprint(str(period), pending, email),
                    attachments=(form,),
                )
            )
    order = {unit.code: position for position, unit in enumerate(units)}
    return sorted(letters, key=lambda letter: order.get(letter.about_code, len(order)))
