"""The feedback workbook telling one unit's officer what was wrong with the file it sent, and
which units get one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from tonghop import catalogue
from tonghop.consolidation import ConsolidationView
from tonghop.formatting import format_date, format_datetime
from tonghop.problems import SEVERITY_LABELS_VI
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
    warned: the units with a status in hierarchy order, then any other unit with problems."""
    problems_by_unit: dict[str, list[dict]] = {}
    for problem in view.problems:
        problems_by_unit.setdefault(problem["unit_code"], []).append(problem)
    status_by_unit = {entry["unit_code"]: entry for entry in view.status}
    wanted = [
        entry["unit_code"]
        for entry in view.status
        if entry["status"] in ("rejected", "accepted_with_warnings")
        or entry["unit_code"] in problems_by_unit
    ]
    wanted += [code for code in problems_by_unit if code not in status_by_unit]
    return [
        Feedback(
            status_by_unit.get(code, {"unit_code": code, "status": "rejected"}),
            problems_by_unit.get(code, []),
        )
        for code in wanted
    ]


def write_feedback_workbook(view: ConsolidationView, feedback: Feedback, path: Path) -> None:
    """Write the unit's feedback workbook to `path`."""
    _feedback_workbook(view, feedback.status, feedback.problems).save(path)


def _outcome_sentences(view: ConsolidationView, entry: dict, problems: list[dict]) -> list[str]:
    """What happened to the unit's latest file, and what the unit should do, in plain words."""
    has_errors = any(p.get("severity") == "error" for p in problems)
    deadline = format_date(view.source.deadline)
    if has_errors or (entry["status"] == "rejected" and not problems):
        if view.source.generated_at.date() <= view.source.deadline:
            sentences = [
                "Báo cáo chưa được tiếp nhận. Đề nghị sửa các lỗi dưới đây và gửi lại trước"
                f" hạn nộp báo cáo (hết ngày {deadline})."
            ]
        else:
            sentences = [
                "Báo cáo chưa được tiếp nhận. Đề nghị sửa các lỗi dưới đây và gửi lại sớm;"
                f" hạn nộp báo cáo (ngày {deadline}) đã qua."
            ]
        if entry["status"] in ("accepted", "accepted_with_warnings"):
            sentences.append(
                f"Báo cáo đã được tiếp nhận trước đó (tệp «{entry.get('file_name') or ''}»,"
                f" nhận lúc {format_datetime(entry.get('received_at'))}) tiếp tục được sử dụng"
                " để tổng hợp cho đến khi nhận được báo cáo đúng."
            )
        return sentences
    return [
        "Báo cáo đã được tiếp nhận nhưng có cảnh báo. Đề nghị kiểm tra lại các nội dung dưới"
        " đây; nếu số liệu có sai sót, đề nghị sửa và gửi lại báo cáo."
    ]


def _feedback_workbook(view: ConsolidationView, entry: dict, problems: list[dict]) -> Workbook:
    """A small workbook telling one unit's officer what was wrong with the file it sent."""
    code = entry["unit_code"]
    # The problems describe the latest file received, which may be newer than the one counting.
    source = problems[0] if problems else entry
    workbook = new_workbook()
    ws = workbook.active
    ws.title = "Phản hồi"
    workbook.properties.creator = "Tổng hợp"
    workbook.properties.created = view.source.generated_at

    ws.cell(row=1, column=1, value="PHẢN HỒI KẾT QUẢ KIỂM TRA BÁO CÁO").font = TITLE_FONT
    lines = [
        ("Đơn vị:", f"{view.name(code) or code} (mã {code})"),
        ("Kỳ báo cáo:", view.period.label_vi),
        ("Tệp đã nhận:", source.get("file_name")),
        ("Thời điểm nhận:", format_datetime(source.get("received_at"))),
        ("Hạn nộp báo cáo:", format_date(view.source.deadline)),
        ("Thời điểm kiểm tra:", format_datetime(view.source.generated_at)),
    ]
    widths = [6, 8, 20, 34, 8, 10, 70]
    row = 3
    for label, value in lines:
        ws.cell(row=row, column=1, value=label).font = BOLD
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        set_text(ws.cell(row=row, column=4), value)
        ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=len(widths))
        row += 1
    row += 1
    for sentence in _outcome_sentences(view, entry, problems):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(widths))
        cell = ws.cell(row=row, column=1)
        set_text(cell, sentence)
        cell.font = BOLD
        cell.alignment = WRAP
        # A merged cell never grows to fit its text, so give the row the height it needs.
        lines = wrapped_lines(sentence, sum(widths), bold=True)
        ws.row_dimensions[row].height = LINE_HEIGHT * lines
        row += 1
    row += 1

    top = row
    headers = ["STT", "Dòng", "Mã chỉ tiêu", "Chỉ tiêu", "Quy tắc", "Mức độ", "Nội dung cần sửa"]
    write_header(ws, top, headers)
    row += 1
    for number, problem in enumerate(problems, start=1):
        indicator = problem.get("indicator_code")
        severity = problem.get("severity")
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, problem.get("row_number"), "count")
        put_cell(ws, row, 3, indicator)
        put_cell(ws, row, 4, catalogue.label_vi(indicator) if indicator else None, "wrap")
        put_cell(ws, row, 5, problem.get("rule"))
        put_cell(ws, row, 6, SEVERITY_LABELS_VI.get(severity, severity))
        put_cell(ws, row, 7, problem.get("message"), "wrap")
        row += 1
    finish_sheet(ws, top, widths, freeze_column=1)
    return workbook
