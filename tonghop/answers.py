"""Answers after each collection, two kinds of outbox letter.

- An acknowledgement for every received version of a unit's report (`ACKNOWLEDGEMENT`): to the
  unit's address, or its nearest ancestor's, with the address it came from in Cc when it came
  by e-mail; what was received and when, the outcome (đã tiếp nhận / tiếp nhận, có cảnh báo /
  bị trả lại), on time or late, and for a warned or rejected file the problems in plain words,
  what to do next and its feedback workbook attached. Once per version: a new version is a new
  letter, the same one is never sent twice.
- An answer to every e-mail the collector could not take (`MAIL_REFUSAL`): to its sender, with
  what the mailbox code wrote of why (a stranger reporting for a unit, an .xls, no form, too
  large) and how to send properly. Once per message.

The queries live here with their SQL files; the words of each problem and of resending come
from `tonghop.feedback`, shared with the publication's feedback workbooks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, text

from tonghop.aggregation import deadline_end
from tonghop.feedback import (
    ACCEPTED,
    COUNTED_OUTCOMES,
    OUTCOME_WORDS_VI,
    REJECTED,
    WARNED,
    EarlierFile,
    FeedbackFile,
    FeedbackSubject,
    counting_sentence,
    plain_problem_lines,
    resend_lines,
    unit_title,
    write_feedback_files,
)
from tonghop.formatting import format_count, format_date, format_datetime
from tonghop.layout import answer_feedback_path
from tonghop.outbox import (
    SENT,
    Letter,
    MailKind,
    Recipient,
    fingerprint_of,
    forwarded,
    present,
    reach,
    recipient_of,
    salutation,
    sender_of,
    signed,
    unreachable,
)
from tonghop.periods import Period
from tonghop.reading import SHEET_NAME
from tonghop.registry import Unit
from tonghop.storage import load_sql

ACKNOWLEDGEMENT = MailKind(
    name="acknowledgement", title="Thư báo kết quả tiếp nhận báo cáo", artifact_key="bao-nhan"
)
MAIL_REFUSAL = MailKind(
    name="mail_refusal", title="Thư trả lời thư không tiếp nhận được", artifact_key="tra-loi-thu"
)
# A message recorded as an auto-reply or a delivery report is never answered: no mail loops.
_NEVER_ANSWERED = ("automatic",)
_SPACES = re.compile(r"\s+")


# --- what the database holds ---------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedVersion:
    """One stored version of a unit's report for a period, as its acknowledgement tells it.
    `arrival_number`: which of the unit's files of the period it is (1-based, arrival order);
    `counting`: for a rejected one, the accepted version received before it that still counts;
    `first_accepted_at`: when the unit's first accepted version up to this one was received
    (SPEC §2: what timeliness is judged on); `problems`: its stored problems in order;
    `later`: the unit's next file of the period when one has arrived since (its answer then
    says so rather than ask for a file the unit has already sent)."""

    id: str
    unit_code: str
    period: Period
    file_name: str
    received_at: datetime
    outcome: str
    sender: str | None
    processed_at: datetime
    arrival_number: int
    errors: int = 0
    warnings: int = 0
    counting: EarlierFile | None = None
    first_accepted_at: datetime | None = None
    problems: tuple[dict, ...] = ()
    later: EarlierFile | None = None


@dataclass(frozen=True)
class RefusedMessage:
    """An e-mail the collector could not take whose sender is owed an answer."""

    id: str
    sha256: str
    period: Period
    sender: str
    subject: str | None
    received_at: datetime
    disposition: str
    refusal: str


def _moment(value: object) -> datetime:
    """A stored timestamp as a datetime (SQLite hands back its text)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def received_versions(connection: Connection, period: Period) -> list[ReceivedVersion]:
    """Every version received for the period with its problems, in arrival order by unit."""
    problems: dict[str, list[dict]] = {}
    for row in connection.execute(
        text(load_sql("select_submission_problems")), {"period": str(period)}
    ).mappings():
        problems.setdefault(row["submission_id"], []).append(dict(row))
    versions = []
    # Walking each unit's versions in arrival order: the latest accepted one so far is the one
    # that counts beside a rejected one (SPEC §5), the earliest what timeliness is judged on.
    unit_code, counting, first_accepted = None, None, None
    rows = connection.execute(
        text(load_sql("select_acknowledgement_inputs")), {"period": str(period)}
    )
    for row in rows.mappings():
        if row["unit_code"] != unit_code:
            unit_code, counting, first_accepted = row["unit_code"], None, None
        received_at = _moment(row["received_at"])
        accepted = row["outcome"] in COUNTED_OUTCOMES
        if accepted and first_accepted is None:
            first_accepted = received_at
        versions.append(
            ReceivedVersion(
                id=row["id"],
                unit_code=row["unit_code"],
                period=period,
                file_name=row["file_name"],
                received_at=received_at,
                outcome=row["outcome"],
                sender=present(row["sender"]),
                processed_at=_moment(row["processed_at"]),
                arrival_number=int(row["arrival_number"]),
                errors=int(row["error_count"] or 0),
                warnings=int(row["warning_count"] or 0),
                counting=None if accepted else counting,
                first_accepted_at=first_accepted,
                problems=tuple(problems.get(row["id"], ())),
            )
        )
        if accepted:
            counting = EarlierFile(row["file_name"], received_at)
    # Rows come by unit in arrival order: a version's next one, when of the same unit, is the
    # file the unit sent after it.
    return [
        replace(version, later=EarlierFile(after.file_name, after.received_at))
        if after is not None and after.unit_code == version.unit_code
        else version
        for version, after in zip(versions, [*versions[1:], None], strict=False)
    ]


def refused_messages(connection: Connection, period: Period) -> list[RefusedMessage]:
    """The period's e-mails the collector could not take and whose sender is owed an answer."""
    rows = connection.execute(text(load_sql("select_mail_refusals")), {"period": str(period)})
    return [
        RefusedMessage(
            id=row["id"],
            sha256=row["sha256"],
            period=period,
            sender=row["sender"],
            subject=row["subject"],
            received_at=_moment(row["received_at"]),
            disposition=row["disposition"],
            refusal=row["refusal"],
        )
        for row in rows.mappings()
        if row["disposition"] not in _NEVER_ANSWERED and present(row["sender"])
    ]


# --- acknowledgements ------------------------------------------------------------------------


def acknowledgement_fingerprint(submission_id: str) -> str:
    """What identifies an acknowledgement: the version it answers, whoever it reaches."""
    return fingerprint_of("acknowledgement", submission_id)


def versions_to_acknowledge(
    versions: Sequence[ReceivedVersion], states: Mapping[str, str]
) -> tuple[list[ReceivedVersion], int]:
    """The versions whose acknowledgement no earlier run sent (`states`, from `outbox_states`),
    and how many were sent."""
    unsent = [
        version
        for version in versions
        if states.get(acknowledgement_fingerprint(version.id)) != SENT
    ]
    return unsent, len(versions) - len(unsent)


def refusal_fingerprint(sha256: str) -> str:
    """What identifies the answer to a refused e-mail: the message, by its checksum."""
    return fingerprint_of("mail_refusal", sha256)


def _parent(unit: Unit | None, by_code: Mapping[str, Unit]) -> Unit | None:
    parent_code = present(unit.parent_code) if unit else None
    return by_code.get(parent_code) if parent_code else None


def feedback_subject(
    version: ReceivedVersion, by_code: Mapping[str, Unit], deadline: date, today: date
) -> FeedbackSubject:
    """The version as its feedback workbook names it."""
    unit = by_code.get(version.unit_code)
    parent = _parent(unit, by_code)
    return FeedbackSubject(
        unit_code=version.unit_code,
        unit_title=unit_title(
            unit.name if unit else version.unit_code, parent.name if parent else None
        ),
        period=version.period,
        file_name=version.file_name,
        received_at=version.received_at,
        deadline=deadline,
        checked_at=version.processed_at,
        outcome=version.outcome,
        counting=version.counting,
        today=today,
    )


def _outcome_line(version: ReceivedVersion) -> str:
    words = OUTCOME_WORDS_VI.get(version.outcome, version.outcome)
    if version.outcome == REJECTED:
        found = f"{format_count(version.errors)} lỗi cần sửa" if version.errors else "lỗi"
        return f"- Kết quả: {words}, chưa được tiếp nhận (tệp có {found})."
    if version.outcome == WARNED:
        return f"- Kết quả: {words} ({format_count(version.warnings)} cảnh báo)."
    return f"- Kết quả: {words}."


def _timing_line(version: ReceivedVersion, deadline: date, end: datetime) -> str:
    """On time or late (SPEC §2: judged on the unit's first accepted version)."""
    when = f"ngày {format_date(deadline)}"
    in_time = version.received_at < end
    if version.outcome in COUNTED_OUTCOMES:
        first = version.first_accepted_at or version.received_at
        if first >= end:
            return (
                f"- Thời hạn: báo cáo được nhận sau hạn gửi ({when}); đơn vị được ghi nhận gửi "
                "báo cáo chậm hạn."
            )
        if in_time:
            return (
                f"- Thời hạn: báo cáo được nhận trong hạn (hạn gửi là {when}); đơn vị được ghi "
                "nhận gửi báo cáo đúng hạn."
            )
        return (
            f"- Thời hạn: tệp này được nhận sau hạn gửi ({when}); đơn vị vẫn được ghi nhận gửi "
            "báo cáo đúng hạn vì báo cáo gửi trước đó đã được tiếp nhận trong hạn."
        )
    if in_time:
        return f"- Thời hạn: tệp được nhận trong hạn gửi báo cáo (hạn gửi là {when})."
    return f"- Thời hạn: tệp được nhận sau hạn gửi báo cáo (hạn gửi là {when})."


def _acknowledgement_body(
    version: ReceivedVersion,
    unit: Unit | None,
    parent: Unit | None,
    recipient: Recipient,
    deadline: date,
    end: datetime,
    today: date,
    attachment: Path | None,
    reply_to: str,
    sender: str,
) -> str:
    name = unit.name if unit else version.unit_code
    title = unit_title(name, parent.name if parent else None)
    within = f" ({parent.name})" if parent else ""
    addressed = salutation(unit) if unit else name
    came = (
        f", qua thư điện tử gửi từ địa chỉ {version.sender}"
        if version.sender
        else ", qua thư mục nộp báo cáo của đơn vị"
    )
    period = version.period.label_vi
    lines = [
        f"Kính gửi: {addressed}{within}",
        "",
        f"Hệ thống Tổng hợp đã nhận báo cáo {period} của {title} (mã {version.unit_code}):",
        f"- Tệp: «{version.file_name}» (lần gửi thứ {version.arrival_number} của đơn vị trong kỳ).",
        f"- Thời điểm nhận: {format_datetime(version.received_at)}{came}.",
        _outcome_line(version),
        _timing_line(version, deadline, end),
        "",
    ]
    if version.later is not None:
        # Answered after the unit already sent another file (both came in one collection, or
        # a mail server was down): asking it to resend would ask for what it has done.
        lines += [later_sentence(version.later, version.arrival_number + 1), ""]
    elif version.outcome == REJECTED:
        if version.counting is not None:
            lines += [counting_sentence(version.counting), ""]
        else:
            lines += [f"Đơn vị chưa có báo cáo {period} nào được tiếp nhận.", ""]
    if version.problems and version.outcome != ACCEPTED:
        heading = (
            "Các nội dung cần sửa:"
            if version.outcome == REJECTED
            else "Các nội dung cần kiểm tra lại:"
        )
        lines += [heading, *plain_problem_lines(version.problems), ""]
    if version.later is None:
        lines += resend_lines(version.outcome, deadline, today, in_letter=True, reply_to=reply_to)
        lines.append("")
    if attachment is not None:
        lines += [
            f"Tệp phản hồi «{attachment.name}» gửi kèm liệt kê các nội dung trên theo từng dòng "
            f"của trang «{SHEET_NAME}».",
            "",
        ]
    lines += forwarded(name, recipient, version.unit_code)
    return signed(lines, sender)


def later_sentence(later: EarlierFile, number: int) -> str:
    """What the answer to a file says when the unit has sent another since."""
    received = f", nhận lúc {format_datetime(later.received_at)}" if later.received_at else ""
    return (
        f"Sau tệp này, đơn vị đã gửi tệp «{later.file_name}» (lần {number}{received}); kết quả "
        "của lần gửi đó được báo trong thư riêng. Tệp này không cần gửi lại."
    )


def _subject(version: ReceivedVersion, name: str) -> str:
    words = OUTCOME_WORDS_VI.get(version.outcome, version.outcome)
    return (
        f"Kết quả tiếp nhận báo cáo {version.period.label_vi} — {name} "
        f"(lần {version.arrival_number}): {words}"
    )


def feedback_path_of(outbox: Path, version: ReceivedVersion) -> Path | None:
    """The feedback workbook a version's acknowledgement carries; None for an accepted one,
    which has nothing to fix."""
    if version.outcome == ACCEPTED:
        return None
    return answer_feedback_path(outbox, version.period, version.unit_code, version.arrival_number)


def build_acknowledgements(
    versions: Sequence[ReceivedVersion],
    units: Sequence[Unit],
    deadline_days: int,
    today: date,
    outbox: Path,
    reply_to: str,
) -> list[Letter]:
    """One acknowledgement per version, in the order given: to the unit's address or its
    nearest ancestor's (SPEC §1), the sender in Cc when it is another address; for a warned
    or rejected version, its feedback workbook (written by `write_acknowledgement_feedback`)
    attached."""
    by_code = {unit.code: unit for unit in units}
    signature = sender_of(units)
    # A run answers thousands of versions of one or two periods: each period's dates once.
    dates = {
        period: (period.deadline(deadline_days), deadline_end(period, deadline_days))
        for period in {version.period for version in versions}
    }
    letters = []
    for version in versions:
        unit = by_code.get(version.unit_code)
        parent = _parent(unit, by_code)
        name = unit.name if unit else version.unit_code
        found = reach(unit, by_code) if unit else None
        recipient = recipient_of(found) if found else Recipient(version.unit_code, name, None)
        if recipient.email is None and version.sender:
            # No one up the line has an address, but the file came from one: answer it there.
            recipient = Recipient(version.unit_code, name, version.sender)
        cc = ()
        if version.sender and version.sender.lower() != (recipient.email or "").lower():
            cc = (version.sender,)
        deadline, late_from = dates[version.period]
        attachment = feedback_path_of(outbox, version)
        letters.append(
            Letter(
                kind=ACKNOWLEDGEMENT,
                period=str(version.period),
                about_code=version.unit_code,
                about=f"thư báo kết quả tiếp nhận tệp «{version.file_name}» (lần "
                f"{version.arrival_number}) của {name}",
                recipient=recipient,
                subject=_subject(version, name),
                body=_acknowledgement_body(
                    version,
                    unit,
                    parent,
                    recipient,
                    deadline,
                    late_from,
                    today,
                    attachment,
                    reply_to,
                    signature,
                ),
                fingerprint=acknowledgement_fingerprint(version.id),
                attachments=(attachment,) if attachment else (),
                undeliverable=unreachable(name, version.unit_code),
                cc=cc,
            )
        )
    return letters


def write_acknowledgement_feedback(
    letters: Iterable[Letter],
    versions: Sequence[ReceivedVersion],
    units: Sequence[Unit],
    deadline_days: int,
    today: date,
    reply_to: str,
) -> list[Path]:
    """Write the feedback workbook each of `letters` (acknowledgements about to be sent)
    carries, each appearing whole, unless an earlier run wrote it (a letter that could not be
    sent yet: the same version's feedback); the paths written."""
    by_fingerprint = {acknowledgement_fingerprint(version.id): version for version in versions}
    by_code = {unit.code: unit for unit in units}
    files = []
    for letter in letters:
        version = by_fingerprint.get(letter.fingerprint)
        if version is None or not letter.attachments:
            continue
        path = letter.attachments[0]
        if path.is_file():
            continue
        deadline = version.period.deadline(deadline_days)
        subject = feedback_subject(version, by_code, deadline, today)
        files.append(FeedbackFile(subject, version.problems, path, reply_to))
    write_feedback_files(files)
    return [file.path for file in files]


# --- answers to e-mails that could not be taken ----------------------------------------------


def _one_line(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


def build_refusal_answers(
    messages: Sequence[RefusedMessage],
    units: Sequence[Unit],
    reply_to: str,
    contact: str | None = None,
) -> list[Letter]:
    """One answer per refused e-mail, to its sender: when it came, why it was not taken, and
    how to send a report so that it is. A sender that is a registry address is greeted as the
    unit it belongs to."""
    owners: dict[str, Unit] = {}
    for unit in units:
        email = present(unit.email)
        if email:
            owners.setdefault(email.lower(), unit)
    signature = sender_of(units)
    letters = []
    for message in messages:
        owner = owners.get(message.sender.lower())
        subject = _one_line(message.subject)
        received = format_datetime(message.received_at)
        titled = f", tiêu đề «{subject}»" if subject else ""
        lines = [
            f"Kính gửi: {salutation(owner) if owner else 'đồng chí'}",
            "",
            f"Hệ thống Tổng hợp đã nhận thư của đồng chí gửi lúc {received}{titled}, nhưng chưa "
            "tiếp nhận được báo cáo trong thư:",
            "",
            message.refusal.strip(),
            "",
            "Để báo cáo được tiếp nhận, đề nghị đồng chí:",
            "- gửi thư từ địa chỉ thư điện tử của đơn vị đã đăng ký trong danh sách đơn vị (hoặc "
            f"của cấp ủy cấp trên của đơn vị) đến địa chỉ {reply_to};",
            "- đính kèm tệp báo cáo .xlsx điền trên mẫu biểu đã được cấp cho đơn vị (không gửi "
            f".xls, PDF hay ảnh chụp), giữ nguyên tên trang «{SHEET_NAME}», mã đơn vị ở ô C2 và "
            "kỳ báo cáo ở ô C3; mỗi đơn vị chỉ gửi báo cáo của mình hoặc của đơn vị trực thuộc.",
            "",
        ]
        if contact:
            lines += [f"Khi cần hỗ trợ, đề nghị liên hệ {contact}.", ""]
        letters.append(
            Letter(
                kind=MAIL_REFUSAL,
                period=str(message.period),
                about_code=message.id,
                about=f"thư trả lời thư của {message.sender} gửi lúc {received}",
                recipient=Recipient(
                    message.id, owner.name if owner else message.sender, message.sender
                ),
                subject=f"Trả lời: {subject}" if subject else f"Trả lời: thư gửi lúc {received}",
                body=signed(lines, signature),
                fingerprint=refusal_fingerprint(message.sha256),
            )
        )
    return letters
