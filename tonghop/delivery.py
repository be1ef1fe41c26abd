"""Sending each published version to the units that sign its reports, a kind of outbox letter:
for the province and every upper-level unit with a drafted report, one e-mail to the unit's own
address in the registry, with a short cover letter, its draft report (Word, charts inside) and
its workbook — the province's whole one, an upper-level unit's of its own subtree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tonghop.outbox import (
    Letter,
    MailKind,
    Recipient,
    fingerprint_of,
    forwarded,
    reach,
    recipient_of,
    root_of,
    scope_label,
    sender_of,
    signed,
    unreachable,
)
from tonghop.periods import Period
from tonghop.registry import Unit

REPORT = MailKind(
    name="report",
    title="Thư gửi dự thảo báo cáo và bảng tổng hợp",
    artifact_key="gui-bao-cao",
)


def fingerprint(period: str, version: int, unit_code: str, recipient: str | None) -> str:
    """What identifies a delivery: a version reaches the same address once, while a new version
    or a changed address is a new delivery."""
    return fingerprint_of(period, version, unit_code, (recipient or "").strip().lower())


def _subject(period: Period, version: int, unit_name: str) -> str:
    return (
        f"Dự thảo báo cáo {period.label_vi} của {unit_name} và bảng tổng hợp số liệu "
        f"(phiên bản {version})"
    )


def _made_from(period: Period) -> str:
    """What the draft rests on: a quarter's reports, or a longer period's quarters."""
    if period.is_quarter:
        return "lập từ số liệu các đơn vị trực thuộc đã gửi"
    quarters = period.quarters()
    return (
        "tổng hợp từ báo cáo các quý các đơn vị trực thuộc đã gửi "
        f"({quarters[0].short_label_vi} – {quarters[-1].short_label_vi})"
    )


def _body(
    period: Period,
    version: int,
    unit_name: str,
    report: Path,
    workbook: Path,
    sender: str,
    scope: str,
    forwarding: list[str],
) -> str:
    lines = [
        f"Kính gửi: Ban Thường vụ {unit_name}",
        "",
        "Hệ thống Tổng hợp gửi dự thảo báo cáo kết quả nghiên cứu, học tập, quán triệt và tuyên "
        f"truyền các nghị quyết, chỉ thị, kết luận của Đảng {scope_label(period, version)} "
        f"của {unit_name}, {_made_from(period)}, và bảng tổng hợp số liệu {scope} cùng kỳ. "
        "Tài liệu gửi kèm:",
        "",
        f"1. {report.name}: dự thảo báo cáo (bản Word, đã có các biểu đồ);",
        f"2. {workbook.name}: bảng tổng hợp số liệu.",
        "",
        *forwarding,
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
    ]
    return signed(lines, sender)


def build_deliveries(
    period: Period,
    version: int,
    units: Sequence[Unit],
    reports: Mapping[str, Path],
    workbooks: Mapping[str, Path],
) -> list[Letter]:
    """One delivery per unit with a drafted report in `reports` (by unit code), with its
    workbook in `workbooks`, in hierarchy order, to the unit's address in the registry `units`
    or, without one, to its nearest ancestor's."""
    by_code = {unit.code: unit for unit in units}
    order = {unit.code: position for position, unit in enumerate(units)}
    sender = sender_of(units)
    root = root_of(units)
    deliveries = []
    for code in sorted(reports, key=lambda code: (order.get(code, len(order)), code)):
        unit = by_code.get(code)
        name = unit.name if unit else code
        found = reach(unit, by_code) if unit else None
        recipient = recipient_of(found) if found else Recipient(code, name, None)
        report = Path(reports[code])
        workbook = Path(workbooks[code])
        if root is not None and root.code == code:
            scope = f"toàn {root.name}"
        else:
            scope = f"của {name} và các đơn vị trực thuộc"
        deliveries.append(
            Letter(
                kind=REPORT,
                period=str(period),
                version=version,
                about_code=code,
                about=f"báo cáo {scope_label(period, version)}"
                + ("" if recipient.code == code else f" của {name}"),
                recipient=recipient,
                subject=_subject(period, version, name),
                body=_body(
                    period,
                    version,
                    name,
                    report,
                    workbook,
                    sender,
                    scope,
                    forwarded(name, recipient, code),
                ),
                fingerprint=fingerprint(str(period), version, code, recipient.email),
                attachments=(report, workbook),
                undeliverable=unreachable(name, code),
            )
        )
    return deliveries
