"""The workbook people read (SPEC §7): the figures of every level, of each grassroots
organisation and of each sector, reporting progress, problems, the units' own texts, and what a
version changed against the one before."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tonghop import catalogue
from tonghop.aggregation import add_rates
from tonghop.catalogue import RATES, REPORTING_FIGURES, SECTION_TITLES_VI, Indicator
from tonghop.consolidation import (
    STATUS_LABELS_VI,
    TEXT_CODES,
    Consolidation,
    ConsolidationView,
    plain_value,
)
from tonghop.formatting import format_count, format_date, format_datetime, format_percent, is_blank
from tonghop.longer_periods import PARTIAL, quarters_vi
from tonghop.problems import SEVERITY_LABELS_VI
from tonghop.registry import GRASSROOTS_KINDS, KIND_LABELS_VI, SECTOR_LABELS_VI, SECTORS
from tonghop.sheets import (
    BOLD,
    COUNT_CHANGE_FORMAT,
    MAX_INDENT,
    POINTS_CHANGE_FORMAT,
    TITLE_FONT,
    finish_sheet,
    new_workbook,
    put_cell,
    set_text,
    write_header,
)
from tonghop.versions import Changes

# The column «Đúng hạn?» answers its question.
ON_TIME_LABELS_VI = {True: "Có", False: "Không"}

SHEET_LEVELS = "Tổng hợp theo cấp"
SHEET_GRASSROOTS = "Tổ chức cơ sở đảng"
SHEET_SECTORS = "Theo loại hình"
SHEET_PROGRESS = "Tiến độ báo cáo"
SHEET_PROBLEMS = "Lỗi và cảnh báo"
SHEET_TEXTS = "Ý kiến đơn vị"
SHEET_CHANGES = "Những thay đổi"
PRODUCT_TITLE_VI = (
    "TỔNG HỢP KẾT QUẢ NGHIÊN CỨU, HỌC TẬP, QUÁN TRIỆT VÀ TUYÊN TRUYỀN CÁC NGHỊ QUYẾT CỦA ĐẢNG"
)
# The band that opens each section of the indicators, and the subtotals.
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
# The units whose report does not count yet, in «Tiến độ báo cáo».
_STANDING_FILLS = {
    "rejected": PatternFill("solid", fgColor="F8CBAD"),
    "missing": PatternFill("solid", fgColor="FCE4D6"),
    PARTIAL: PatternFill("solid", fgColor="FFF2CC"),  # a longer period: some quarters only
}


def write_workbook(view: ConsolidationView, path: Path) -> None:
    """Write the consolidation's workbook to `path`."""
    _build_workbook(view).save(path)


def _title_block(
    ws: Worksheet, view: ConsolidationView, title: str, timing: str | None = None
) -> int:
    """Product, sheet title, period, `timing` (by default the time of consolidation, then the
    deadline) and version; returns the next free row."""
    ws.cell(row=1, column=1, value=PRODUCT_TITLE_VI).font = TITLE_FONT
    ws.cell(row=2, column=1, value=title).font = BOLD
    scope = view.name(view.units[0]["code"]) if view.units else ""
    ws.cell(row=3, column=1, value=f"Kỳ báo cáo: {_period_name(view)} — Đơn vị: {scope}")
    if timing is None:
        timing = f"Thời điểm tổng hợp: {format_datetime(view.source.generated_at)} — " + (
            f"Hạn nộp báo cáo: {format_date(view.source.deadline)}"
            if view.period.is_quarter
            else _combined_from(view)
        )
    ws.cell(row=4, column=1, value=timing)
    ws.cell(row=5, column=1, value=_version_line(view.source))
    return 7


def _period_name(view: ConsolidationView) -> str:
    """The period as a heading names it: `Quý III năm 2025`, `Sáu tháng đầu năm 2025`, `Năm
    2025`."""
    label = view.period.label_vi
    return label[:1].upper() + label[1:]


def _combined_from(view: ConsolidationView) -> str:
    """What a longer period is made of: `tổng hợp từ báo cáo Quý I/2025 – Quý IV/2025`."""
    quarters = view.period.quarters()
    return (
        f"Tổng hợp từ báo cáo quý của các đơn vị: {quarters[0].short_label_vi} – "
        f"{quarters[-1].short_label_vi}"
    )


def _page_title(ws: Worksheet, view: ConsolidationView) -> str:
    """What heads each printed page of a sheet: the sheet, the unit and the period."""
    scope = view.name(view.units[0]["code"]) if view.units else ""
    return f"{ws.title} — {scope} — {_period_name(view)}"


def _flag_label(indicator: Indicator) -> str:
    """A flag's form label `X (1 có / 0 không)` read as the number of units where X holds."""
    base = re.sub(r"\s*\(1 có / 0 không\)\s*$", "", indicator.label_vi)
    return f"Số đơn vị có {base[:1].lower()}{base[1:]}"


def _label(indicator: Indicator) -> str:
    return _flag_label(indicator) if indicator.kind == "flag" else indicator.label_vi


def _measure(indicator: Indicator) -> str:
    return "đơn vị" if indicator.kind == "flag" else indicator.unit_vi


def _build_workbook(view: ConsolidationView) -> Workbook:
    workbook = new_workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "Tổng hợp"
    workbook.properties.title = f"Tổng hợp {view.period.label_vi}"
    workbook.properties.created = view.source.generated_at
    _sheet_levels(workbook.create_sheet(SHEET_LEVELS), view)
    _sheet_grassroots(workbook.create_sheet(SHEET_GRASSROOTS), view)
    _sheet_sectors(workbook.create_sheet(SHEET_SECTORS), view)
    _sheet_progress(workbook.create_sheet(SHEET_PROGRESS), view)
    _sheet_problems(workbook.create_sheet(SHEET_PROBLEMS), view)
    _sheet_texts(workbook.create_sheet(SHEET_TEXTS), view)
    if view.source.changes is not None:
        changes = workbook.create_sheet(SHEET_CHANGES, 0)
        _sheet_changes(changes, view, view.source.changes)
        workbook.active = 0
    return workbook


def _sheet_levels(ws: Worksheet, view: ConsolidationView) -> None:
    """Indicators down (their Vietnamese labels first, their codes in the last column, for
    machines), the workbook's unit then each upper-level unit below it across."""
    root = view.units[:1]
    columns = root + [u for u in view.units[1:] if u["kind"] == "upper"]
    scope = view.name(root[0]["code"]) if root else ""
    title = f"Kết quả tổng hợp của {scope}"
    if len(columns) > 1:
        title += " và các đảng bộ cấp trên cơ sở trực thuộc"
    top = _title_block(ws, view, title)
    code_column = 3 + len(columns)
    write_header(ws, top, ["Chỉ tiêu", "Đơn vị tính", *(u["name"] for u in columns), "Mã chỉ tiêu"])
    row = top + 1

    def section_row(title: str) -> None:
        for column in range(1, code_column + 1):
            cell = put_cell(ws, row, column, None)
            cell.fill = _SECTION_FILL
            cell.font = BOLD
        set_text(ws.cell(row=row, column=1), title)

    def figure_row(code: str, label: str, measure: str, kind: str) -> None:
        put_cell(ws, row, 1, label, "wrap")
        put_cell(ws, row, 2, measure)
        for column, unit in enumerate(columns, start=3):
            put_cell(ws, row, column, view.number(unit["code"], code), kind)
        put_cell(ws, row, code_column, code)

    section = None
    for indicator in view.numeric:
        if indicator.section != section:
            section = indicator.section
            section_row(f"{section}. {SECTION_TITLES_VI.get(section, section)}")
            row += 1
        figure_row(indicator.code, _label(indicator), _measure(indicator), "count")
        row += 1
    # The figures behind the rates, when the consolidation carries them.
    figures = [code for code in REPORTING_FIGURES if code in view.figure_codes]
    if figures:
        section_row("Số liệu làm căn cứ tính tỷ lệ")
        row += 1
    for code in figures:
        figure_row(code, REPORTING_FIGURES[code], "đơn vị", "count")
        row += 1
    section_row("Các tỷ lệ")
    row += 1
    for rate in RATES:
        figure_row(rate.code, rate.label_vi, "%", "rate")
        row += 1
    finish_sheet(
        ws, top, [56, 11, *([18] * len(columns)), 24], freeze_column=3, title=_page_title(ws, view)
    )


def _indicator_headers(view: ConsolidationView) -> list[str]:
    return [_label(i) for i in view.numeric] + [rate.label_vi for rate in RATES]


def _sheet_grassroots(ws: Worksheet, view: ConsolidationView) -> None:
    """One row per grassroots organisation with how its own report stands, counts and rates
    across; the organisations of each upper-level unit (Khối) together, each group followed by
    its subtotal (an outline level, to fold), and a grand total at the end."""
    top = _title_block(ws, view, "Kết quả của từng tổ chức cơ sở đảng")
    fixed = [
        "STT",
        "Mã đơn vị",
        "Tổ chức cơ sở đảng",
        "Trực thuộc",
        "Loại tổ chức",
        "Loại hình",
        "Tình trạng báo cáo",
    ]
    write_header(ws, top, [*fixed, *_indicator_headers(view)])
    status = {entry["unit_code"]: entry for entry in view.status}
    groups: dict[str | None, list[dict]] = {}
    for unit in view.units:
        if unit["kind"] in GRASSROOTS_KINDS:
            groups.setdefault(unit["parent_code"], []).append(unit)
    row, number = top + 1, 0
    everyone: list[dict] = []
    for parent, organisations in groups.items():
        for unit in organisations:
            number += 1
            put_cell(ws, row, 1, number, "count")
            put_cell(ws, row, 2, unit["code"])
            put_cell(ws, row, 3, unit["name"], "wrap")
            put_cell(ws, row, 4, view.name(unit["parent_code"]), "wrap")
            put_cell(ws, row, 5, KIND_LABELS_VI.get(unit["kind"], unit["kind"]))
            put_cell(ws, row, 6, SECTOR_LABELS_VI.get(unit["sector"], unit["sector"]), "wrap")
            put_cell(ws, row, 7, _standing(status.get(unit["code"])), "wrap")
            _figure_cells(ws, row, len(fixed) + 1, view, _figures(view, unit["code"]))
            if len(groups) > 1:
                ws.row_dimensions[row].outlineLevel = 1
            row += 1
        everyone += organisations
        if len(groups) > 1:
            label = f"Cộng {view.name(parent)}"
            if parent == view.units[0]["code"]:  # the organisations right under the top
                label = f"Cộng các tổ chức trực thuộc trực tiếp {view.name(parent)}"
            _total_row(ws, row, view, organisations, status, label, len(fixed))
            row += 1
    if everyone:
        _total_row(ws, row, view, everyone, status, "Tổng cộng", len(fixed))
    ws.sheet_properties.outlinePr.summaryBelow = True
    widths = [6, 12, 36, 28, 16, 26, 20] + [14] * (len(view.numeric) + len(RATES))
    finish_sheet(ws, top, widths, freeze_column=4, title=_page_title(ws, view))


def _standing(entry: dict | None) -> str | None:
    """How a unit's own report stands: `Đã tiếp nhận`, `Đã tiếp nhận (quá hạn)`, `Chưa nộp`…;
    over a longer period, `Chưa đủ các quý (thiếu: Quý III/2025 (chưa nộp))`."""
    if entry is None:
        return None
    label = STATUS_LABELS_VI.get(entry["status"], entry["status"])
    if entry["status"] == PARTIAL:
        label += f" (thiếu: {quarters_vi(entry.get('quarters'))[1]})"
    return f"{label} (quá hạn)" if entry.get("on_time") is False else label


def _figures(view: ConsolidationView, code: str) -> dict[str, float]:
    """Every figure of a unit, rates included."""
    return dict(view.figures_of(code))


def _figure_cells(
    ws: Worksheet, row: int, first: int, view: ConsolidationView, figures: dict
) -> None:
    """The numeric indicators then the rates of one row, from `figures` (code → number)."""
    column = first
    for indicator in view.numeric:
        put_cell(ws, row, column, figures.get(indicator.code), "count")
        column += 1
    for rate in RATES:
        put_cell(ws, row, column, figures.get(rate.code), "rate")
        column += 1


def _summed(view: ConsolidationView, units: list[dict]) -> dict[str, float]:
    """The units' figures summed, the rates recomputed from the sums (the same rule as at every
    level, through add_rates); a figure none of them has stays blank."""
    rate_codes = {rate.code for rate in RATES}
    total: dict[str, float] = {}
    for unit in units:
        for code, number in _figures(view, unit["code"]).items():
            if code not in rate_codes:
                total[code] = total.get(code, 0.0) + number
    with_rates = add_rates(pd.DataFrame([total], dtype=float)).iloc[0]
    return {code: float(value) for code, value in with_rates.items() if not pd.isna(value)}


def _total_row(
    ws: Worksheet,
    row: int,
    view: ConsolidationView,
    units: list[dict],
    status: dict[str, dict],
    label: str,
    fixed: int,
) -> None:
    """A subtotal or total of grassroots organisations: sums, rates recomputed, in bold."""
    accepted = sum(
        status.get(unit["code"], {}).get("status") in ("accepted", "accepted_with_warnings")
        for unit in units
    )
    for column in range(1, fixed + 1):
        put_cell(ws, row, column, None)
    put_cell(ws, row, 3, f"{label} ({format_count(len(units))} tổ chức)", "wrap")
    # over a longer period, accepted means accepted in every quarter
    counted = "Đã tiếp nhận" if view.period.is_quarter else "Đủ các quý"
    put_cell(ws, row, 7, f"{counted} {format_count(accepted)}/{format_count(len(units))}")
    _figure_cells(ws, row, fixed + 1, view, _summed(view, units))
    for cell in ws[row]:
        cell.font = BOLD
        cell.fill = _SECTION_FILL


def _sheet_sectors(ws: Worksheet, view: ConsolidationView) -> None:
    """Grassroots organisations of the province by sector, with a total row."""
    top = _title_block(ws, view, "Tổ chức cơ sở đảng theo loại hình")
    given = {code for _, code in view.sector_numbers}
    always = ["grassroots_units", "grassroots_reporting"]
    figures = always + [c for c in REPORTING_FIGURES if c in given and c not in always]
    counted = [*figures, *(i.code for i in view.numeric)]
    headers = [catalogue.label_vi(c) for c in figures] + _indicator_headers(view)
    write_header(ws, top, ["Loại hình", *headers])
    present = {sector for sector, _ in view.sector_numbers if sector is not None}
    sectors = [s for s in SECTORS if s in present] + sorted(present - set(SECTORS))
    total = _sector_total(view, sectors)
    row = top + 1
    for sector in [*sectors, None]:
        is_total = sector is None
        label = "Tổng cộng" if is_total else SECTOR_LABELS_VI.get(sector, sector)
        put_cell(ws, row, 1, label, "wrap")

        def number(code: str, sector: str | None = sector, is_total: bool = is_total):
            return total.get(code) if is_total else view.sector_numbers.get((sector, code))

        column = 2
        for code in counted:
            put_cell(ws, row, column, number(code), "count")
            column += 1
        for rate in RATES:
            put_cell(ws, row, column, number(rate.code), "rate")
            column += 1
        if is_total:
            for cell in ws[row]:
                cell.font = BOLD
        row += 1
    finish_sheet(
        ws,
        top,
        [40] + [14] * (len(counted) + len(RATES)),
        freeze_column=2,
        title=_page_title(ws, view),
    )


def _sector_total(view: ConsolidationView, sectors: list[str]) -> dict[str, float | None]:
    """The total row: the given total (blank sector) if any, else sums and rates recomputed."""
    if any(sector is None for sector, _ in view.sector_numbers):
        return {
            code: number for (sector, code), number in view.sector_numbers.items() if not sector
        }
    rate_codes = {rate.code for rate in RATES}
    total: dict[str, float] = {}
    for (sector, code), number in view.sector_numbers.items():
        if code not in rate_codes and sector in sectors:
            total[code] = total.get(code, 0.0) + number
    # The same rule as every other level's rates: one row through add_rates.
    with_rates = add_rates(pd.DataFrame([total], dtype=float)).iloc[0]
    return {code: None if pd.isna(value) else float(value) for code, value in with_rates.items()}


def _sheet_progress(ws: Worksheet, view: ConsolidationView) -> None:
    """Every expected unit with the outcome of its submission, a summary on top; over a longer
    period, with the quarters each unit reported and those it did not."""
    longer = not view.period.is_quarter
    _title_block(
        ws,
        view,
        "Tiến độ nộp báo cáo của các đơn vị",
        timing=(
            f"Hạn nộp báo cáo: {format_date(view.source.deadline)}"
            if not longer
            else _combined_from(view)
        )
        + f" — Số liệu tính đến: {format_datetime(view.source.generated_at)}",
    )
    statuses = [row["status"] for row in view.status]
    expected = len(statuses)
    accepted = sum(s in ("accepted", "accepted_with_warnings") for s in statuses)
    late = sum(row["on_time"] is False for row in view.status)
    if not longer:
        summary = [
            f"Số đơn vị phải báo cáo: {format_count(expected)}",
            f"Đã tiếp nhận: {format_count(accepted)}"
            f" (trong đó có cảnh báo: {format_count(statuses.count('accepted_with_warnings'))})"
            + (f" — đạt {format_percent(accepted / expected)}" if expected else ""),
            f"Bị trả lại: {format_count(statuses.count('rejected'))}",
            f"Chưa nộp: {format_count(statuses.count('missing'))}",
            f"Nộp quá hạn: {format_count(late)}",
            "Dòng tô đỏ: bị trả lại; tô cam: chưa nộp. Lọc, hoặc sắp xếp từ A đến Z theo cột "
            "«Tình trạng» để đưa các đơn vị này lên đầu.",
        ]
    else:
        summary = [
            f"Số đơn vị phải báo cáo: {format_count(expected)}",
            f"Đã báo cáo đủ các quý: {format_count(accepted)}"
            f" (trong đó có cảnh báo: {format_count(statuses.count('accepted_with_warnings'))})"
            + (f" — đạt {format_percent(accepted / expected)}" if expected else ""),
            f"Chưa đủ các quý: {format_count(statuses.count(PARTIAL))}",
            f"Bị trả lại, không có quý nào được tiếp nhận: "
            f"{format_count(statuses.count('rejected'))}",
            f"Không nộp quý nào: {format_count(statuses.count('missing'))}",
            f"Có báo cáo quý nộp quá hạn: {format_count(late)}",
            "Dòng tô đỏ: bị trả lại; tô cam: không nộp quý nào; tô vàng: chưa đủ các quý (cột "
            "«Các quý chưa báo cáo» ghi rõ quý nào). Lọc theo cột «Tình trạng» để đưa các đơn "
            "vị này lên đầu.",
        ]
    for offset, line in enumerate(summary):
        ws.cell(row=7 + offset, column=2, value=line)
    top = 7 + len(summary) + 1
    # A longer period has no file of its own: the quarters take the file's columns.
    received = (
        ["Các quý đã báo cáo", "Các quý chưa báo cáo"]
        if longer
        else ["Thời điểm nhận", "Tệp đã nhận"]
    )
    headers = [
        "STT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại tổ chức",
        "Trực thuộc",
        "Tình trạng",
        "Đúng hạn?",
        *received,
        "Số lỗi",
        "Số cảnh báo",
    ]
    write_header(ws, top, headers)
    row = top + 1
    for number, entry in enumerate(view.status, start=1):
        unit = view.by_code.get(entry["unit_code"], {})
        on_time = entry.get("on_time")
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, entry["unit_code"])
        # indented by level, so that the hierarchy reads down the column
        put_cell(ws, row, 3, unit.get("name"), f"wrap-{min(unit.get('level') or 0, MAX_INDENT)}")
        put_cell(ws, row, 4, KIND_LABELS_VI.get(unit.get("kind"), unit.get("kind")))
        put_cell(ws, row, 5, view.name(unit.get("parent_code")), "wrap")
        put_cell(ws, row, 6, STATUS_LABELS_VI.get(entry["status"], entry["status"]))
        put_cell(ws, row, 7, ON_TIME_LABELS_VI.get(on_time) if isinstance(on_time, bool) else None)
        if longer:
            reported, missing = quarters_vi(entry.get("quarters"))
            put_cell(ws, row, 8, reported or None, "wrap")
            put_cell(ws, row, 9, missing or None, "wrap")
        else:
            put_cell(ws, row, 8, entry.get("received_at"), "datetime")
            put_cell(ws, row, 9, entry.get("file_name"), "wrap")
        put_cell(ws, row, 10, entry.get("errors"), "count")
        put_cell(ws, row, 11, entry.get("warnings"), "count")
        fill = _STANDING_FILLS.get(entry["status"])
        if fill is not None:
            for column in range(1, len(headers) + 1):
                ws.cell(row=row, column=column).fill = fill
        row += 1
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{max(row - 1, top)}"
    finish_sheet(
        ws,
        top,
        [6, 12, 40, 20, 32, 24, 10, *([30, 34] if longer else [17, 28]), 8, 10],
        freeze_column=4,
        title=_page_title(ws, view),
    )


def _sheet_problems(ws: Worksheet, view: ConsolidationView) -> None:
    """Every validation problem of every unit's latest received file."""
    top = _title_block(ws, view, "Lỗi và cảnh báo khi kiểm tra báo cáo")
    headers = [
        "STT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Tệp",
        "Thời điểm nhận",
        "Quy tắc",
        "Mức độ",
        "Dòng",
        "Mã chỉ tiêu",
        "Chỉ tiêu",
        "Nội dung",
    ]
    write_header(ws, top, headers)
    row = top + 1
    for number, problem in enumerate(view.problems, start=1):
        code = problem.get("indicator_code")
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, problem["unit_code"])
        put_cell(ws, row, 3, view.name(problem["unit_code"]), "wrap")
        put_cell(ws, row, 4, problem.get("file_name"), "wrap")
        put_cell(ws, row, 5, problem.get("received_at"), "datetime")
        put_cell(ws, row, 6, problem.get("rule"))
        severity = problem.get("severity")
        put_cell(ws, row, 7, SEVERITY_LABELS_VI.get(severity, severity))
        put_cell(ws, row, 8, problem.get("row_number"), "count")
        put_cell(ws, row, 9, code)
        put_cell(ws, row, 10, catalogue.label_vi(code) if code else None, "wrap")
        put_cell(ws, row, 11, problem.get("message"), "wrap")
        row += 1
    if not view.problems and not view.period.is_quarter:
        # Units send quarters: a longer period has no file, hence no problem, of its own.
        ws.cell(
            row=row,
            column=2,
            value="Các đơn vị không gửi báo cáo riêng cho kỳ này: lỗi và cảnh báo của từng "
            "báo cáo quý xem ở bảng tổng hợp của quý đó.",
        )
    elif not view.problems:
        ws.cell(row=row, column=2, value="Không có lỗi hoặc cảnh báo.")
    else:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{row - 1}"
    finish_sheet(
        ws,
        top,
        [6, 12, 30, 24, 17, 8, 10, 7, 20, 34, 60],
        freeze_column=4,
        title=_page_title(ws, view),
    )


def _sheet_texts(ws: Worksheet, view: ConsolidationView) -> None:
    """Each unit's own assessments and proposals, in hierarchy order."""
    top = _title_block(ws, view, "Ý kiến đánh giá, kiến nghị của các đơn vị")
    write_header(ws, top, ["Mã đơn vị", "Tên đơn vị", "Nội dung", "Ý kiến của đơn vị"])
    row = top + 1
    for entry in view.texts:
        code = entry["unit_code"]
        put_cell(ws, row, 1, code)
        put_cell(ws, row, 2, view.name(code), "wrap")
        put_cell(ws, row, 3, catalogue.label_vi(entry["indicator_code"]), "wrap")
        put_cell(ws, row, 4, entry["text"], "wrap")
        row += 1
    if not view.texts:
        ws.cell(row=row, column=2, value="Không có ý kiến của đơn vị.")
    finish_sheet(ws, top, [12, 32, 24, 100], freeze_column=3, title=_page_title(ws, view))


def _version_line(consolidation: Consolidation) -> str:
    changes = consolidation.changes
    if changes is None:
        return f"Phiên bản: {consolidation.version}"
    replaced = f"thay thế phiên bản {changes.previous}"
    if changes.previous_published_at is not None:
        replaced += f" công bố lúc {format_datetime(changes.previous_published_at)}"
    return (
        f"Phiên bản: {consolidation.version} — {replaced}; các thay đổi xem ở trang "
        f"«{SHEET_CHANGES}»."
    )


def _figure_order() -> dict[str, int]:
    """Counts and flags in catalogue order, then reporting figures, rates and texts."""
    codes = [indicator.code for indicator in catalogue.load_catalogue() if indicator.kind != "text"]
    codes += list(REPORTING_FIGURES) + [rate.code for rate in RATES] + list(TEXT_CODES)
    return {code: index for index, code in enumerate(codes)}


def _sheet_changes(ws: Worksheet, view: ConsolidationView, changes: Changes) -> None:
    """Which units' reports changed, and every figure that moved, at every level."""
    top = _title_block(ws, view, f"Những thay đổi so với phiên bản {changes.previous} đã công bố")
    row = top
    ws.cell(row=row, column=1, value="1. Đơn vị có báo cáo được tính thay đổi").font = BOLD
    row += 1
    unit_headers = [
        "STT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Trực thuộc",
        "Tình trạng trước",
        "Tình trạng nay",
        "Báo cáo được tính trước",
        "Báo cáo được tính nay",
    ]
    write_header(ws, row, unit_headers)
    header_row = row
    row += 1
    units = sorted(
        changes.units.to_dict("records"), key=lambda entry: view.hierarchy_rank(entry["unit_code"])
    )
    for number, entry in enumerate(units, start=1):
        entry = {key: plain_value(value) for key, value in entry.items()}
        unit = view.by_code.get(entry["unit_code"], {})
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, entry["unit_code"])
        put_cell(ws, row, 3, unit.get("name"), "wrap")
        put_cell(ws, row, 4, view.name(unit.get("parent_code")), "wrap")
        put_cell(ws, row, 5, STATUS_LABELS_VI.get(entry["old_status"], entry["old_status"]))
        put_cell(ws, row, 6, STATUS_LABELS_VI.get(entry["new_status"], entry["new_status"]))
        put_cell(
            ws, row, 7, _counted_file(entry["old_file_name"], entry["old_received_at"]), "wrap"
        )
        put_cell(
            ws, row, 8, _counted_file(entry["new_file_name"], entry["new_received_at"]), "wrap"
        )
        row += 1
    if not units:
        ws.cell(row=row, column=2, value="Không có đơn vị nào thay đổi báo cáo được tính.")
        row += 1

    row += 1
    ws.cell(row=row, column=1, value="2. Số liệu tổng hợp thay đổi").font = BOLD
    row += 1
    write_header(
        ws,
        row,
        [
            "STT",
            "Mã đơn vị",
            "Tên đơn vị",
            "Loại tổ chức",
            "Chỉ tiêu",
            f"Phiên bản {changes.previous}",
            f"Phiên bản {view.source.version}",
            "Chênh lệch",
        ],
    )
    row += 1
    order = _figure_order()
    figures = sorted(
        changes.values.to_dict("records"),
        key=lambda entry: (
            view.hierarchy_rank(entry["unit_code"]),
            order.get(entry["indicator_code"], len(order)),
        ),
    )
    rate_codes = {rate.code for rate in RATES}
    for number, entry in enumerate(figures, start=1):
        entry = {key: plain_value(value) for key, value in entry.items()}
        code = entry["indicator_code"]
        unit = view.by_code.get(entry["unit_code"], {})
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, entry["unit_code"])
        put_cell(ws, row, 3, unit.get("name"), "wrap")
        put_cell(ws, row, 4, KIND_LABELS_VI.get(unit.get("kind"), unit.get("kind")))
        put_cell(ws, row, 5, catalogue.label_vi(code), "wrap")
        if code in TEXT_CODES:
            put_cell(ws, row, 6, _excerpt(entry["old_text"]), "wrap")
            put_cell(ws, row, 7, _excerpt(entry["new_text"]), "wrap")
            put_cell(ws, row, 8, "Nội dung thay đổi")
        else:
            kind = "rate" if code in rate_codes else "count"
            old, new = entry["old_number"], entry["new_number"]
            put_cell(
                ws,
                row,
                6,
                old if old is not None else "(trống)",
                kind if old is not None else "text",
            )
            put_cell(
                ws,
                row,
                7,
                new if new is not None else "(trống)",
                kind if new is not None else "text",
            )
            if old is not None and new is not None:
                # a number that sorts and sums: the change of a count, or of a rate in points
                change = new - old if kind == "count" else round((new - old) * 100, 10)
                cell = put_cell(ws, row, 8, change, "count")
                cell.number_format = (
                    COUNT_CHANGE_FORMAT if kind == "count" else POINTS_CHANGE_FORMAT
                )
            else:
                put_cell(ws, row, 8, None)
        row += 1
    if not figures:
        ws.cell(row=row, column=2, value="Không có số liệu nào thay đổi.")
    finish_sheet(
        ws,
        header_row,
        [6, 12, 36, 30, 40, 26, 26, 26],
        freeze_column=4,
        title=_page_title(ws, view),
    )


def _counted_file(name: object, received_at: object) -> str | None:
    if is_blank(name):
        return "Chưa có"
    return f"{name} (nhận lúc {format_datetime(received_at)})"


def _excerpt(text: object, limit: int = 500) -> str | None:
    if is_blank(text):
        return "(trống)"
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
