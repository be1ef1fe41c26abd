"""Blank forms by e-mail, a kind of outbox letter: every unit active in the period receives its
own pre-filled form (its code, name, parent and the period already written) with a short cover
letter saying by when and how to send it back. Once per unit, period and form version: a form
issued again after the catalogue changed is a new letter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from tonghop.formatting import format_date
from tonghop.outbox import (
    Letter,
    MailKind,
    Recipient,
    fingerprint_of,
    forwarded,
    reach,
    recipient_of,
    salutation,
    sender_of,
    signed,
    unreachable,
)
from tonghop.periods import Period
from tonghop.registry import Unit

FORM = MailKind(name="form", title="Thư gửi mẫu biểu báo cáo", artifact_key="gui-mau-bieu")


def fingerprint(period: str, unit_code: str, form_version: str, recipient: str | None) -> str:
    """What identifies a form letter: the unit's form of a period and catalogue version, to one
    address."""
    return fingerprint_of("form", period, unit_code, form_version, (recipient or "").lower())


def _body(
    period: Period,
    unit: Unit,
    parent: Unit | None,
    form: Path,
    deadline: date,
    reply_to: str,
    contact: str | None,
    forwarding: list[str],
    sender: str,
    portal_link: str | None,
) -> str:
    within = f" ({parent.name})" if parent else ""
    lines = [
        f"Kính gửi: {salutation(unit)}{within}",
        "",
        f"Thực hiện chế độ báo cáo định kỳ về kết quả nghiên cứu, học tập, quán triệt và tuyên "
        "truyền các nghị quyết, chỉ thị, kết luận của Đảng, "
        f"Hệ thống Tổng hợp gửi mẫu biểu báo cáo {period.label_vi} của {unit.name} "
        f"(tệp «{form.name}» gửi kèm, đã ghi sẵn mã đơn vị {unit.code}, tên đơn vị và kỳ báo "
        "cáo).",
        "",
        f"Đề nghị đồng chí điền số liệu vào trang «BaoCao» của tệp và gửi lại chậm nhất ngày "
        f"{format_date(deadline)}, bằng cách trả lời thư này (hoặc gửi đến địa chỉ {reply_to}) "
        "với tệp đã điền đính kèm.",
        "",
        "Lưu ý: giữ nguyên định dạng .xlsx (không chuyển sang .xls, PDF hay ảnh chụp), không đổi "
        "tên trang «BaoCao» và không sửa mã đơn vị, kỳ báo cáo đã ghi sẵn; mỗi đơn vị gửi báo cáo "
        "của chính mình.",
        "",
        *_portal_lines(unit, portal_link),
        *forwarding,
    ]
    if contact:
        lines += [f"Khi cần hỗ trợ, đề nghị liên hệ {contact}.", ""]
    return signed(lines, sender)


def _portal_lines(unit: Unit, portal_link: str | None) -> list[str]:
    """How to send the form on the portal instead, with the unit's own link; nothing without."""
    if not portal_link:
        return []
    return [
        f"Đơn vị cũng có thể gửi báo cáo trên Cổng thông tin Tổng hợp và xem ngay kết quả kiểm "
        f"tra, tải mẫu biểu và phản hồi của các lần gửi trước, tại đường liên kết riêng của "
        f"{unit.name} (không chuyển cho người ngoài đơn vị):",
        portal_link,
        "",
    ]


def build_form_letters(
    period: Period,
    units: Sequence[Unit],
    forms: Mapping[str, Path],
    deadline_days: int,
    form_version: str,
    reply_to: str,
    contact: str | None = None,
    portal_links: Mapping[str, str] | None = None,
) -> list[Letter]:
    """One letter per unit with a form in `forms` (by unit code), in registry order, to the
    unit's address or its nearest ancestor's; with the unit's personal link to the portal when
    `portal_links` has one for it."""
    by_code = {unit.code: unit for unit in units}
    sender = sender_of(units)
    deadline = period.deadline(deadline_days)
    letters = []
    for unit in units:
        if unit.code not in forms:
            continue
        form = Path(forms[unit.code])
        found = reach(unit, by_code)
        recipient = recipient_of(found) if found else Recipient(unit.code, unit.name, None)
        parent = by_code.get(unit.parent_code) if unit.parent_code else None
        letters.append(
            Letter(
                kind=FORM,
                period=str(period),
                about_code=unit.code,
                about=f"mẫu biểu {period.label_vi}"
                + ("" if recipient.code == unit.code else f" của {unit.name}"),
                recipient=recipient,
                subject=f"Mẫu biểu báo cáo {period.label_vi} của {unit.name} — hạn gửi "
                f"{format_date(deadline)}",
                body=_body(
                    period,
                    unit,
                    parent,
                    form,
                    deadline,
                    reply_to,
                    contact,
                    forwarded(unit.name, recipient, unit.code),
                    sender,
                    (portal_links or {}).get(unit.code),
                ),
                fingerprint=fingerprint(str(period), unit.code, form_version, recipient.email),
                attachments=(form,),
                undeliverable=unreachable(unit.name, unit.code),
            )
        )
    return letters
