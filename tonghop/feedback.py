"""The feedback a unit's officer reads about one file it sent: what was found, on which row of
the sheet `BaoCao`, what to write instead and how to send the file again, in plain Vietnamese.

One pure builder (`feedback_workbook`) over plain data (`FeedbackSubject` and the file's stored
problems) serves both the publication, which answers each unit's latest file, and the
acknowledgement e-mailed after every received version (`tonghop.answers`), which also reuses
the same words as lines of its text (`plain_problem_lines`, `resend_lines`).

What the unit reads is worded from the stored problem and the rule it broke: the rule's
`advice` in tonghop/data/rules.toml says what to write instead; the stored message says what was
found, without the row (a column of its own) and without its «Đề nghị …» sentences; a rule whose
message carries the operator's detail (the statistics of O2) has a `plain` wording for the unit,
and the message goes in the operator's column. Rule codes and severities come last, for the
operator."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tonghop import catalogue
from tonghop.consolidation import ConsolidationView
from tonghop.formatting import format_count, format_date, format_datetime
from tonghop.layout import write_all_atomically
from tonghop.periods import Period
from tonghop.problems import ERROR, SEVERITY_LABELS_VI, WARNING, Problem
from tonghop.reading import SHEET_NAME
from tonghop.sheets import (
    BOLD,
    LINE_HEIGHT,
    TITLE_FONT,
    WRAP,
    finish_sheet,
    new_workbook,
    put_cell,
    set_text,
    wrapped_lines,
    write_header,
)
from tonghop.validation import RELATION_CHECKS, Rule, load_rules

ACCEPTED = "accepted"
WARNED = "accepted_with_warnings"
REJECTED = "rejected"
COUNTED_OUTCOMES = (ACCEPTED, WARNED)
# The outcome of a received file in words, as a sentence continues it ("Kết quả: bị trả lại").
OUTCOME_WORDS_VI = {
    ACCEPTED: "đã tiếp nhận",
    WARNED: "tiếp nhận, có cảnh báo",
    REJECTED: "bị trả lại",
}
UNIT_COLUMNS = ["STT", f"Dòng (trang {SHEET_NAME})", "Chỉ tiêu", "Nội dung", "Cần sửa thế nào"]
OPERATOR_COLUMNS = [
    "Mức độ",
    "Dành cho cán bộ tổng hợp: mã quy tắc",
    "Dành cho cán bộ tổng hợp: chi tiết kiểm tra",
]
HEADERS = UNIT_COLUMNS + OPERATOR_COLUMNS
_WIDTHS = [6, 10, 30, 50, 50, 10, 16, 40]
# What the unit is told when neither the rule nor the message says what to do.
_FALLBACK_ADVICE = {
    ERROR: "Sửa nội dung này trong tệp báo cáo rồi gửi lại.",
    WARNING: "Kiểm tra lại nội dung này. Nếu số liệu đúng thì không cần sửa.",
}
_ADVISING = "Đề nghị "
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


# --- what one file's feedback is about --------------------------------------------------------


@dataclass(frozen=True)
class EarlierFile:
    """An accepted file of the unit that still counts while a newer one is rejected."""

    file_name: str | None
    received_at: datetime | None


@dataclass(frozen=True)
class FeedbackSubject:
    """The received file a feedback answers. `unit_title` is the unit's full name with its
    parent's ("Chi bộ Văn phòng — Đảng bộ Sở Y tế"); `outcome` is ACCEPTED, WARNED or REJECTED;
    `counting` the earlier accepted file that still counts when this one is rejected; `today`
    the day the unit is answered (whether the deadline has passed), `checked_at`'s by default."""

    unit_code: str
    unit_title: str
    period: Period
    file_name: str | None
    received_at: datetime | None
    deadline: date
    checked_at: datetime
    outcome: str
    counting: EarlierFile | None = None
    today: date | None = None

    @property
    def answered_on(self) -> date:
        return self.today or self.checked_at.date()


def unit_title(name: str, parent_name: str | None) -> str:
    """`Chi bộ Văn phòng — Đảng bộ Sở Y tế`: a unit named with the committee it belongs to
    (the province, with no parent, by its name alone)."""
    return f"{name} — {parent_name}" if parent_name else name


# --- each problem in plain words ---------------------------------------------------------------


@dataclass(frozen=True)
class PlainProblem:
    """One problem as the unit reads it: `found` what is wrong, `advice` what to write instead;
    `detail` the operator's record of it when `found` words it otherwise."""

    row: int | None
    indicator_code: str | None
    indicator: str | None
    found: str
    advice: str
    rule: str
    severity: str
    detail: str | None = None


def _fields(problem: Mapping[str, object] | Problem) -> Mapping[str, object]:
    return asdict(problem) if isinstance(problem, Problem) else problem


def _present(value: object) -> object | None:
    """None for a missing value, a NaN pandas left in a frame or blank text."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _continued(text: str) -> str:
    """A sentence continuing after a colon: its first word in lower case, unless the word is
    written in capitals (an abbreviation)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def rule_for(rule_id: str, indicator_code: str | None) -> Rule | None:
    """The entry of rules.toml a stored problem came from; several share an id (V1 for counts,
    flags and texts, R7 for three pairs), told apart by the indicator the problem names. None
    for a rule decided while reading a file (F1, F2) or one no longer in rules.toml."""
    candidates = [rule for rule in load_rules() if rule.id == rule_id]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    indicator = catalogue.by_code().get(indicator_code or "")
    kind = indicator.kind if indicator else None
    wanted = {
        "count_whole": kind == "count",
        "flag_binary": kind == "flag",
        "text_length": kind == "text",
        "known_indicator": indicator is None,
        "indicator_once": indicator is not None,
    }
    for rule in candidates:
        if rule.check in RELATION_CHECKS:
            if rule.terms and rule.terms[0] == indicator_code:
                return rule
        elif rule.check == "reported_by_leaf":
            if indicator_code in rule.indicators:
                return rule
        elif wanted.get(rule.check, False):
            return rule
    return candidates[0]


def _split_message(message: str, row: int | None) -> tuple[str, str]:
    """A stored message as (what was found, what it advises): the `Dòng N: ` it starts with
    dropped when the row is shown beside it, its «Đề nghị …» sentences apart."""
    text = message.strip()
    lead = f"Dòng {row}: "
    if row is not None and text.startswith(lead):
        text = text[len(lead) :]
    sentences = _SENTENCE_BREAK.split(text)
    found = [sentence for sentence in sentences if not sentence.startswith(_ADVISING)]
    advised = [sentence for sentence in sentences if sentence.startswith(_ADVISING)]
    if not found:
        return _capitalised(text), ""
    return _capitalised(" ".join(found)), " ".join(advised)


def _worded(template: str, row: int | None, code: str | None, label: str | None) -> str:
    values = {"row": "" if row is None else row, "code": code or "", "label": label or code or ""}
    return template.format_map(values)


def plain_problem(problem: Mapping[str, object] | Problem) -> PlainProblem:
    """One stored problem (a row of `problem`, or a Problem) in the unit's words."""
    fields = _fields(problem)
    rule_id = str(fields.get("rule") or "")
    severity = str(fields.get("severity") or ERROR)
    code = _present(fields.get("indicator_code"))
    code = str(code) if code is not None else None
    row_value = _present(fields.get("row_number"))
    row = int(row_value) if row_value is not None else None  # type: ignore[call-overload]
    message = str(fields.get("message") or "")
    label = catalogue.label_vi(code) if code else None
    rule = rule_for(rule_id, code)
    found, advised = _split_message(message, row)
    detail = None
    if rule is not None and rule.plain:
        found, detail = _worded(rule.plain, row, code, label), message
    if rule is not None and rule.advice:
        advice = _worded(rule.advice, row, code, label)
    else:
        advice = advised or _FALLBACK_ADVICE.get(severity, _FALLBACK_ADVICE[ERROR])
    return PlainProblem(row, code, label, found, advice, rule_id, severity, detail)


def plain_problems(problems: Iterable[Mapping[str, object] | Problem]) -> list[PlainProblem]:
    return [plain_problem(problem) for problem in problems]


def plain_problem_lines(problems: Iterable[Mapping[str, object] | Problem]) -> list[str]:
    """One line per problem for the text of an e-mail: the row, the indicator (unless what was
    found already names it), what is wrong, then what to write instead ("Cách sửa" for an error,
    "Đề nghị" for a warning)."""
    lines = []
    for number, problem in enumerate(plain_problems(problems), start=1):
        where = []
        if problem.row is not None:
            where.append(f"dòng {problem.row}")
        if problem.indicator and f"«{problem.indicator}»" not in problem.found:
            where.append(f"chỉ tiêu «{problem.indicator}»")
        head = f"{_capitalised(', '.join(where))}: " if where else ""
        advice = problem.advice.removeprefix(_ADVISING)
        lead = "Cách sửa" if problem.severity == ERROR else "Đề nghị"
        found = _continued(problem.found) if head else problem.found
        lines.append(f"{number}. {head}{found} {lead}: {_continued(advice)}")
    return lines


# --- what the unit does next -------------------------------------------------------------------


def resend_lines(
    outcome: str,
    deadline: date,
    today: date,
    *,
    in_letter: bool = True,
    reply_to: str | None = None,
) -> list[str]:
    """How and by when to send the file again, one sentence a line. A rejected file: reply with
    the corrected file attached, keep it .xlsx, keep the sheet `BaoCao` and the codes in C2/C3,
    by the deadline (or as soon as possible once it has passed). A file accepted with warnings:
    nothing to resend unless a figure really is wrong. `in_letter`: the lines are read in the
    acknowledgement itself ("trả lời thư này"), else in its feedback workbook."""
    letter = (
        "trả lời thư này"
        if in_letter
        else "trả lời thư điện tử báo kết quả tiếp nhận báo cáo của Hệ thống Tổng hợp"
    )
    address = f" (hoặc gửi đến địa chỉ {reply_to})" if reply_to else ""
    keep = (
        f"giữ nguyên định dạng .xlsx (không lưu thành .xls, PDF hay ảnh chụp), giữ nguyên tên "
        f"trang «{SHEET_NAME}» và không sửa mã đơn vị ở ô C2, kỳ báo cáo ở ô C3"
    )
    if outcome == REJECTED:
        if today > deadline:
            when = (
                f"Hạn gửi báo cáo (ngày {format_date(deadline)}) đã qua; đề nghị gửi lại sớm "
                "nhất có thể."
            )
        else:
            when = f"Thời hạn gửi lại: chậm nhất ngày {format_date(deadline)}."
        return [
            f"Đề nghị sửa tệp báo cáo theo các nội dung cần sửa, rồi gửi lại bằng cách {letter}"
            f" và đính kèm tệp đã sửa{address}.",
            f"Khi sửa, đề nghị {keep}.",
            when,
        ]
    accepted = "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại."
    if outcome == WARNED:
        return [
            accepted,
            "Chỉ khi kiểm tra thấy số liệu thực sự sai, đề nghị sửa tệp và gửi lại bằng cách "
            f"{letter} và đính kèm tệp đã sửa{address}; {keep}.",
        ]
    return [accepted]


def counting_sentence(counting: EarlierFile) -> str:
    """What a unit whose new file is rejected is told of the earlier one that still counts
    (SPEC §5: the latest accepted version counts; a rejected one replaces nothing)."""
    name = f"tệp «{counting.file_name}»" if counting.file_name else "tệp"
    received = f", nhận lúc {format_datetime(counting.received_at)}" if counting.received_at else ""
    return (
        f"Báo cáo đơn vị gửi trước đó ({name}{received}) đã được tiếp nhận và vẫn được dùng để "
        "tổng hợp; tệp bị trả lại lần này không thay thế báo cáo đó."
    )


def outcome_sentences(subject: FeedbackSubject, problems: Sequence[PlainProblem]) -> list[str]:
    """What happened to the file, in plain words."""
    errors = sum(problem.severity == ERROR for problem in problems)
    warnings = sum(problem.severity == WARNING for problem in problems)
    if subject.outcome == REJECTED:
        found = [f"{format_count(errors)} lỗi cần sửa"] if errors else []
        found += [f"{format_count(warnings)} cảnh báo"] if warnings else []
        sentence = "Báo cáo bị trả lại, chưa được tiếp nhận" + (
            f": tệp có {' và '.join(found)} (liệt kê ở bảng dưới đây)." if found else "."
        )
        sentences = [sentence]
        if subject.counting is not None:
            sentences.append(counting_sentence(subject.counting))
        return sentences
    if subject.outcome == WARNED or warnings:
        return [
            f"Báo cáo đã được tiếp nhận, có {format_count(warnings)} cảnh báo (liệt kê ở bảng "
            "dưới đây)."
        ]
    return ["Báo cáo đã được tiếp nhận."]


# --- the workbook ------------------------------------------------------------------------------


def feedback_workbook(
    subject: FeedbackSubject,
    problems: Iterable[Mapping[str, object] | Problem],
    *,
    reply_to: str | None = None,
) -> Workbook:
    """The feedback workbook of one received file: who and what it answers, the outcome, how
    and by when to resend, then one row per problem — the unit's columns first, the
    operator's last."""
    plain = plain_problems(problems)
    workbook = new_workbook()
    ws = workbook.active
    ws.title = "Phản hồi"
    workbook.properties.creator = "Tổng hợp"
    workbook.properties.created = subject.checked_at
    width = len(_WIDTHS)

    ws.cell(row=1, column=1, value="PHẢN HỒI KẾT QUẢ KIỂM TRA BÁO CÁO").font = TITLE_FONT
    lines = [
        ("Đơn vị:", f"{subject.unit_title} (mã {subject.unit_code})"),
        ("Kỳ báo cáo:", subject.period.label_vi),
        ("Tệp đã nhận:", subject.file_name),
        ("Thời điểm nhận:", format_datetime(subject.received_at)),
        ("Hạn gửi báo cáo:", format_date(subject.deadline)),
        ("Thời điểm kiểm tra:", format_datetime(subject.checked_at)),
        ("Kết quả:", _capitalised(OUTCOME_WORDS_VI.get(subject.outcome, subject.outcome))),
    ]
    row = 3
    for label, value in lines:
        ws.cell(row=row, column=1, value=label).font = BOLD
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        set_text(ws.cell(row=row, column=4), value)
        ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=width)
        row += 1
    row += 1
    resend = resend_lines(
        subject.outcome,
        subject.deadline,
        subject.answered_on,
        in_letter=False,
        reply_to=reply_to,
    )
    for sentences, bold in ((outcome_sentences(subject, plain), True), (resend, False)):
        for sentence in sentences:
            row = _sentence_row(ws, row, sentence, bold)
        row += 1

    top = row
    write_header(ws, top, HEADERS)
    row += 1
    for number, problem in enumerate(plain, start=1):
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, problem.row, "count")
        put_cell(ws, row, 3, problem.indicator, "wrap")
        put_cell(ws, row, 4, problem.found, "wrap")
        put_cell(ws, row, 5, problem.advice, "wrap")
        put_cell(ws, row, 6, SEVERITY_LABELS_VI.get(problem.severity, problem.severity))
        put_cell(ws, row, 7, problem.rule)
        put_cell(ws, row, 8, problem.detail, "wrap")
        row += 1
    finish_sheet(ws, top, _WIDTHS, freeze_column=1)
    return workbook


def _sentence_row(ws: Worksheet, row: int, sentence: str, bold: bool) -> int:
    """One sentence across the sheet's width; the row after it."""
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(_WIDTHS))
    cell = ws.cell(row=row, column=1)
    set_text(cell, sentence)
    if bold:
        cell.font = BOLD
    cell.alignment = WRAP
    # A merged cell never grows to fit its text, so give the row the height it needs.
    ws.row_dimensions[row].height = LINE_HEIGHT * wrapped_lines(sentence, sum(_WIDTHS), bold=bold)
    return row + 1


# --- the publication's feedback ----------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """What one unit is told about its latest received file."""

    status: dict  # the unit's status entry; a rejected one when the unit has none
    problems: list[dict]  # the problems of its latest received file

    @property
    def unit_code(self) -> str:
        return self.status["unit_code"]

    @property
    def submission_number(self) -> int:
        """Which of the unit's files of the period this answers (its first, when no problem
        names one)."""
        return int(self.problems[0]["submission_number"]) if self.problems else 1


def feedback_due(view: ConsolidationView) -> list[Feedback]:
    """The feedback of every unit whose latest file has problems, or whose status is rejected or
    warned: the units with a status in hierarchy order, then any other unit with problems. A
    longer period has none: feedback answers a received file, and units send quarters."""
    if not view.period.is_quarter:
        return []
    problems_by_unit: dict[str, list[dict]] = {}
    for problem in view.problems:
        problems_by_unit.setdefault(problem["unit_code"], []).append(problem)
    status_by_unit = {entry["unit_code"]: entry for entry in view.status}
    wanted = [
        entry["unit_code"]
        for entry in view.status
        if entry["status"] in (REJECTED, WARNED) or entry["unit_code"] in problems_by_unit
    ]
    wanted += [code for code in problems_by_unit if code not in status_by_unit]
    return [
        Feedback(
            status_by_unit.get(code, {"unit_code": code, "status": REJECTED}),
            problems_by_unit.get(code, []),
        )
        for code in wanted
    ]


def subject_of(view: ConsolidationView, feedback: Feedback) -> FeedbackSubject:
    """The file a publication's feedback answers: the unit's latest, which may be newer than
    the one counting (then that one is named as still counting)."""
    entry, problems = feedback.status, feedback.problems
    code = feedback.unit_code
    # The problems describe the latest file received, which may be newer than the one counting.
    source = problems[0] if problems else entry
    has_errors = any(problem.get("severity") == ERROR for problem in problems)
    if has_errors or (entry["status"] == REJECTED and not problems):
        outcome = REJECTED
    else:
        outcome = WARNED if problems else entry["status"]
    counting = None
    if outcome == REJECTED and entry["status"] in COUNTED_OUTCOMES:
        counting = EarlierFile(entry.get("file_name"), entry.get("received_at"))
    unit = view.by_code.get(code) or {}
    parent_name = view.name(unit.get("parent_code")) or None
    return FeedbackSubject(
        unit_code=code,
        unit_title=unit_title(view.name(code) or code, parent_name),
        period=view.period,
        file_name=source.get("file_name"),
        received_at=source.get("received_at"),
        deadline=view.source.deadline,
        checked_at=view.source.generated_at,
        outcome=outcome,
        counting=counting,
    )


@dataclass(frozen=True)
class FeedbackFile:
    """One feedback workbook to write: what it answers, the problems, where it goes."""

    subject: FeedbackSubject
    problems: Sequence[Mapping[str, object] | Problem]
    path: Path
    reply_to: str | None = None


# From this many workbooks, half are written in a pool's process when there is one: each costs
# about 15 ms, and a province whose files were refused wholesale needs 20,000 of them.
FEEDBACK_IN_POOL_FROM = 200


def write_feedback_files(files: Sequence[FeedbackFile], pool: Executor | None = None) -> None:
    """Write every feedback workbook of `files`, each appearing whole, made durable together
    (`write_all_atomically`); given a `pool` and at least FEEDBACK_IN_POOL_FROM, every other
    one is written in its process meanwhile. A file that cannot be written raises its error
    once the others are written."""
    there: Future[None] | None = None
    if pool is not None and len(files) >= FEEDBACK_IN_POOL_FROM:
        there = pool.submit(_write_files, files[1::2])
        files = files[::2]
    try:
        _write_files(files)
    finally:
        if there is not None:
            there.result()


def _write_files(files: Sequence[FeedbackFile]) -> None:
    failed = write_all_atomically(
        (
            file.path,
            lambda temp, file=file: feedback_workbook(
                file.subject, file.problems, reply_to=file.reply_to
            ).save(temp),
        )
        for file in files
    )
    if failed:
        raise next(iter(failed.values()))
