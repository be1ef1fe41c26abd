"""Submissions by e-mail (SPEC §3), as plain data: what a received message is (a unit's report,
an automatic reply, a letter with nothing to read), which of its attachments are forms, who
sent it, and whether that sender may report for the unit its form names.

A message is kept byte for byte before any of this runs (tasks/mailbox.py); nothing here talks
to a server. The unit of a form sent by mail is the one its cell C2 names, and the sender must be
the registry address of that unit or of one of its ancestors (an office may send for its cells).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from email.message import EmailMessage
from email.utils import getaddresses

from tonghop.collecting import ReceivedFile, arrival_order
from tonghop.reading import FormRead
from tonghop.registry import Unit
from tonghop.text import without_controls

# What becomes of a message, as stored in `mail_message.disposition`.
FORMS = "forms"  # it carried at least one form: each is a submission of its unit
AUTOMATIC = "automatic"  # an auto-reply or delivery report: never answered, so no mail loops
NO_FORM = "no_form"  # nothing a form could be in: answered with what to send
STRANGER = "stranger"  # its forms name units the sender may not report for: refused, answered
OVERSIZED = "oversized"  # larger than the limit: refused before download, answered
ANSWERED = (NO_FORM, STRANGER, OVERSIZED)

_XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
# A .zip a unit sends is opened one level deep, and only this far: the workbook guards of
# tonghop/reading.py then apply to each form inside, as to any other.
MAX_ZIPPED_FORMS = 20
MAX_ZIPPED_BYTES = 50 * 1024 * 1024
_PRECEDENCE_AUTOMATIC = {"bulk", "junk", "list", "auto_reply"}
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
_DAEMON_LOCALS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"}


@dataclass(frozen=True)
class Attachment:
    """A form found in a message: the name it was sent under (inside a .zip: `thu.zip/bc.xlsx`)
    and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class ParsedMessage:
    """What the collector needs from a message: who sent it (From, and the envelope's
    Return-Path when the server recorded one), its subject and Message-ID, whether it is an
    automatic message, the forms it carries and the names of what else was attached."""

    from_address: str | None
    envelope_address: str | None
    subject: str
    message_id: str | None
    automatic: bool
    forms: tuple[Attachment, ...] = ()
    other_attachments: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # why an attachment could not be opened

    @property
    def sender(self) -> str | None:
        """The address a reply goes to."""
        return self.from_address or self.envelope_address


def checksum(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def normalised_address(value: str | None) -> str | None:
    """An address without display name or angle brackets, in lower case; None when there is
    none (an empty Return-Path `<>` is a delivery report's)."""
    if not value:
        return None
    found = [address for _, address in getaddresses([value]) if "@" in address]
    return found[0].strip().lower() if found else None


def registry_addresses(value: str | None) -> set[str]:
    """The addresses a registry `email` cell holds (one, or several separated by `,` or `;`)."""
    if not value:
        return set()
    return {part.strip().lower() for part in re.split(r"[,;\s]+", value) if "@" in part}


def parse_message(raw: bytes) -> ParsedMessage:
    """Read a message as its bytes were received."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    from_address = normalised_address(_header(message, "From"))
    envelope = normalised_address(_header(message, "Return-Path"))
    forms: list[Attachment] = []
    others: list[str] = []
    problems: list[str] = []
    for part in message.iter_attachments() if message.is_multipart() else ():
        _collect_attachment(part, forms, others, problems)
    return ParsedMessage(
        from_address=from_address,
        envelope_address=envelope,
        subject=without_controls(_header(message, "Subject") or "").strip(),
        message_id=(_header(message, "Message-ID") or "").strip() or None,
        automatic=is_automatic(message, from_address),
        forms=tuple(forms),
        other_attachments=tuple(others),
        problems=tuple(problems),
    )


def _header(message: EmailMessage, name: str) -> str | None:
    """A header's text, or None when it is missing or cannot be decoded."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # a header the parser cannot make sense of
        return None
    return None if value is None else str(value)


def is_automatic(message: EmailMessage, from_address: str | None) -> bool:
    """An auto-reply, a list's or bulk mail, or a delivery report (RFC 3834, RFC 3464): such
    mail is never answered, or two robots would answer each other for ever."""
    auto_submitted = (_header(message, "Auto-Submitted") or "no").strip().lower()
    if auto_submitted != "no":
        return True
    if (_header(message, "Precedence") or "").strip().lower() in _PRECEDENCE_AUTOMATIC:
        return True
    if any(_header(message, name) for name in _AUTOREPLY_HEADERS):
        return True
    if message.get_content_type() == "multipart/report":  # a DSN or a read receipt
        return True
    if (_header(message, "Return-Path") or "").strip() == "<>":
        return True
    local = (from_address or "").partition("@")[0]
    return local in _DAEMON_LOCALS


def _collect_attachment(
    part: EmailMessage, forms: list[Attachment], others: list[str], problems: list[str]
) -> None:
    name = without_controls(part.get_filename() or "").strip()
    kind = part.get_content_type()
    lowered = name.lower()
    try:
        content = part.get_payload(decode=True) or b""
    except (ValueError, TypeError):
        problems.append(f"không đọc được tệp đính kèm «{name or 'không tên'}»")
        return
    if lowered.endswith(".xlsx") or (not name and kind in _XLSX_TYPES):
        forms.append(Attachment(name or "bao-cao.xlsx", content))
    elif lowered.endswith(".zip") or kind in _ZIP_TYPES:
        _unzip_forms(name or "tep-nen.zip", content, forms, others, problems)
    elif name:
        others.append(name)


def _unzip_forms(
    name: str, content: bytes, forms: list[Attachment], others: list[str], problems: list[str]
) -> None:
    """The .xlsx files inside a .zip, within MAX_ZIPPED_FORMS and MAX_ZIPPED_BYTES; a .zip that
    cannot be opened or holds more is reported, never unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir() and info.filename.lower().endswith(".xlsx")
            ]
            if not members:
                others.append(name)
                return
            total = sum(info.file_size for info in members)
            if len(members) > MAX_ZIPPED_FORMS or total > MAX_ZIPPED_BYTES:
                problems.append(
                    f"tệp nén «{name}» chứa quá nhiều hoặc quá lớn so với các mẫu báo cáo, hệ "
                    "thống không giải nén"
                )
                return
            for info in members:
                with archive.open(info) as member:
                    # Read no more than the size declared: a forged header cannot make it more.
                    data = member.read(info.file_size + 1)
                if len(data) > info.file_size:
                    raise zipfile.BadZipFile("member larger than declared")
                inner = info.filename.rsplit("/", 1)[-1]
                forms.append(Attachment(f"{name}/{inner}", data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError):
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        problems.append(f"không giải nén được tệp nén «{name}» (tệp hỏng hoặc có mật khẩu)")


# --- who may report for whom --------------------------------------------------------------------


def allowed_senders(unit_code: str, by_code: Mapping[str, Unit]) -> set[str]:
    """The addresses that may send a form of `unit_code`: its own and its ancestors'."""
    addresses: set[str] = set()
    seen: set[str] = set()
    current = by_code.get(unit_code)
    while current is not None and current.code not in seen:
        seen.add(current.code)
        addresses |= registry_addresses(current.email)
        current = by_code.get(current.parent_code) if current.parent_code else None
    return addresses


def may_report_for(message: ParsedMessage, unit_code: str, by_code: Mapping[str, Unit]) -> bool:
    """Whether the sender may report for the unit: From, and the envelope when there is one,
    are each an address of the unit or of one of its ancestors."""
    allowed = allowed_senders(unit_code, by_code)
    senders = [message.from_address, message.envelope_address]
    present = [address for address in senders if address]
    return bool(present) and all(address in allowed for address in present)


def units_of_address(address: str | None, units: Iterable[Unit], day: date) -> list[Unit]:
    """The units active on `day` whose own registry address is `address`."""
    if not address:
        return []
    return [
        unit for unit in units if unit.active_on(day) and address in registry_addresses(unit.email)
    ]


def attachment_problems(message: ParsedMessage, *, beside_forms: bool = False) -> list[str]:
    """What a message should be told of what it carried that is not a form, one sentence per
    attachment; `beside_forms`, only of what looks like a form that could not be read (a PDF
    or a picture beside a form is the unit's business)."""
    sentences = list(message.problems)
    for name in message.other_attachments:
        lowered = name.lower()
        if beside_forms and not lowered.endswith(".xls"):
            continue
        if lowered.endswith(".xls"):
            sentences.append(
                f"tệp «{name}» là bảng tính Excel cũ (.xls); đề nghị mở bằng Excel, chọn Lưu "
                "thành (Save As) kiểu «Excel Workbook (*.xlsx)» rồi gửi lại tệp .xlsx"
            )
        else:
            sentences.append(f"tệp «{name}» không phải mẫu báo cáo Excel (.xlsx)")
    return sentences


def reply_addresses(sender: str | None, own: Sequence[str]) -> str | None:
    """Where an answer to a message goes: its sender, unless that is one of our own addresses
    (a letter of ours bounced back) — never answered, like any automatic mail."""
    if not sender or sender in {address.lower() for address in own}:
        return None
    return sender


# --- a run's messages, once their forms are read ------------------------------------------------


@dataclass(frozen=True)
class ReceivedMessage:
    """A message taken from the mailbox in this run: `uid` where it waits, `row` its record in
    `mail_message` (disposition and refusal as far as the message alone decides them) and
    `files` its forms, archived and waiting to be read — their unit is not known until their
    cell C2 is (`unit_code` is "" until `settle_mail`)."""

    uid: str
    row: dict[str, object]
    from_address: str | None
    envelope_address: str | None
    files: tuple[ReceivedFile, ...] = ()

    @property
    def senders(self) -> ParsedMessage:
        """The addresses that must be allowed to report, as `may_report_for` reads them."""
        return ParsedMessage(self.from_address, self.envelope_address, "", None, False)


def settle_mail(
    messages: Sequence[ReceivedMessage],
    forms: Mapping[str, FormRead],
    units: Sequence[Unit],
    known: Iterable[tuple[str, str]],
    day: date,
) -> tuple[list[ReceivedFile], list[FormRead], list[dict[str, object]]]:
    """Give each form sent by mail its unit, once `forms` (by submission id) are read: the unit
    its cell C2 names, when the sender may report for it; a form whose C2 names no unit of the
    registry, or cannot be read, is charged to the sender's own unit (whose rules then say what
    is wrong), the topmost when the address is several units'. A form the sender may not send
    is refused and said so in its message's answer, and counts nowhere; bytes a unit sent before
    (`known`, or earlier in the batch) are no new version. Return the files to validate with
    their forms, in arrival order, and every message's final `mail_message` row."""
    by_code = {unit.code: unit for unit in units}
    by_upper = {unit.code.upper(): unit.code for unit in units}
    seen = set(known)
    files: list[ReceivedFile] = []
    rows: list[dict[str, object]] = []
    for message in messages:
        taken, refusals = 0, []
        for item in message.files:
            form = forms[item.submission_id]
            unit_code, refusal = _unit_of(message, item, form, by_code, by_upper, units, day)
            if unit_code is None:
                refusals.append(refusal)
                continue
            if (unit_code, item.sha256) in seen:
                continue  # the same bytes again: the version already stands
            seen.add((unit_code, item.sha256))
            files.append(replace(item, unit_code=unit_code))
            taken += 1
        rows.append(_settled_row(message, taken, refusals))
    files.sort(key=arrival_order)
    return files, [forms[item.submission_id] for item in files], rows


def _unit_of(
    message: ReceivedMessage,
    item: ReceivedFile,
    form: FormRead,
    by_code: Mapping[str, Unit],
    by_upper: Mapping[str, str],
    units: Sequence[Unit],
    day: date,
) -> tuple[str | None, str]:
    """The unit a mailed form is a submission of, or None and why it is refused."""
    declared = by_upper.get((form.unit_code or "").strip().upper())
    sender = message.from_address or message.envelope_address or "(không rõ)"
    if declared is not None:
        if may_report_for(message.senders, declared, by_code):
            return declared, ""
        unit = by_code[declared]
        return None, (
            f"tệp «{item.file_name}» là báo cáo của {unit.name} (mã {unit.code}), nhưng địa chỉ "
            f"{sender} không phải địa chỉ thư của đơn vị này hay của cấp ủy cấp trên trong danh "
            "sách đơn vị, nên báo cáo không được tiếp nhận; đề nghị gửi từ địa chỉ thư của đơn "
            "vị"
        )
    own = [
        unit
        for unit in units_of_address(message.from_address, units, day)
        if may_report_for(message.senders, unit.code, by_code)
    ]
    if own:
        return min(own, key=lambda unit: (_depth(unit, by_code), unit.code)).code, ""
    return None, (
        f"không xác định được tệp «{item.file_name}» là báo cáo của đơn vị nào (ô C2 không ghi "
        f"mã đơn vị có trong danh sách) và địa chỉ {sender} không phải địa chỉ thư của đơn vị "
        "nào, nên báo cáo không được tiếp nhận"
    )


def _depth(unit: Unit, by_code: Mapping[str, Unit]) -> int:
    depth, seen = 0, {unit.code}
    while unit.parent_code and unit.parent_code in by_code and unit.parent_code not in seen:
        unit = by_code[unit.parent_code]
        seen.add(unit.code)
        depth += 1
    return depth


def _settled_row(message: ReceivedMessage, taken: int, refusals: list[str]) -> dict[str, object]:
    """The message's row once its forms are placed: a message all of whose forms were refused
    is a stranger's; what was refused joins what the message alone had to be told."""
    row = dict(message.row)
    if message.files:
        row["form_count"] = taken
        if refusals and not taken and len(refusals) == len(message.files):
            row["disposition"] = STRANGER
        said = [row["refusal"]] if row.get("refusal") else []
        row["refusal"] = refusal_text(said + refusals) if said or refusals else None
    return row


def refusal_text(sentences: Sequence[str]) -> str:
    """Sentences of an answer as one paragraph each, capitalised and full-stopped."""
    return "\n".join(
        sentence[:1].upper() + sentence[1:] + ("" if sentence.endswith(".") else ".")
        for sentence in sentences
    )
