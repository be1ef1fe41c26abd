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
from tonghop.problems import SEVERITY_LABELS_VI
from tonghop.registry import GRASSROOTS_KINDS, KIND_LABELS_VI, SECTOR_LABELS_VI, SECTORS
from tonghop.sheets import (
    BOLD,
    MAX_INDENT,
    RIGHT,
    TITLE_FONT,
    finish_sheet,
    new_workbook,
    put_cell,
    set_text,
    write_header,
)
from tonghop.versions import Changes

ON_TIME_LABELS_VI = {True: "Đúng hạn", False: "Quá hạn"}

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
# The band that opens each section of the indicators.
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")


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
    ws.cell(row=3, column=1, value=f"Kỳ báo cáo: {view.period.label_vi}")
    if timing is None:
        timing = (
            f"Thời điểm tổng hợp: {format_datetime(view.source.generated_at)}"
            f" — Hạn nộp báo cáo: {format_date(view.source.deadline)}"
        )
    ws.cell(row=4, column=1, value=timing)
    ws.cell(row=5, column=1, value=_version_line(view.source))
    return 7


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
    """Indicators down, the province then each upper-level unit across."""
    top = _title_block(ws, view, "Kết quả tổng hợp của đảng bộ tỉnh và các đảng bộ cấp trên cơ sở")
    columns = [u for u in view.units if u["kind"] == "province"]
    columns += [u for u in view.units if u["kind"] == "upper"]
    write_header(ws, top, ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", *(u["name"] for u in columns)])
    width = 3 + len(columns)
    row = top + 1

    def section_row(letter: str, title: str) -> None:
        for column in range(1, width + 1):
            cell = put_cell(ws, row, column, None)
            cell.fill = _SECTION_FILL
            cell.font = BOLD
        set_text(ws.cell(row=row, column=1), letter)
        set_text(ws.cell(row=row, column=2), title)

    section = None
    for indicator in view.numeric:
        if indicator.section != section:
            section = indicator.section
            section_row(section, SECTION_TITLES_VI.get(section, section))
            row += 1
        put_cell(ws, row, 1, indicator.code)
        put_cell(ws, row, 2, _label(indicator), "wrap")
        put_cell(ws, row, 3, _measure(indicator))
        for column, unit in enumerate(columns, start=4):
            put_cell(ws, row, column, view.number(unit["code"], indicator.code), "count")
        row += 1
    # The figures behind the rates, when the consolidation carries them.
    figures = [code for code in REPORTING_FIGURES if code in view.figure_codes]
    if figures:
        section_row("", "Số liệu làm căn cứ tính tỷ lệ")
        row += 1
    for code in figures:
        put_cell(ws, row, 1, code)
        put_cell(ws, row, 2, REPORTING_FIGURES[code], "wrap")
        put_cell(ws, row, 3, "đơn vị")
        for column, unit in enumerate(columns, start=4):
            put_cell(ws, row, column, view.number(unit["code"], code), "count")
        row += 1
    section_row("", "Các tỷ lệ")
    row += 1
    for rate in RATES:
        put_cell(ws, row, 1, rate.code)
        put_cell(ws, row, 2, rate.label_vi, "wrap")
        put_cell(ws, row, 3, "%")
        for column, unit in enumerate(columns, start=4):
            put_cell(ws, row, column, view.number(unit["code"], rate.code), "rate")
        row += 1
    finish_sheet(ws, top, [24, 56, 11, *([18] * len(columns))], freeze_column=4)


def _indicator_headers(view: ConsolidationView) -> list[str]:
    return [_label(i) for i in view.numeric] + [rate.label_vi for rate in RATES]


def _sheet_grassroots(ws: Worksheet, view: ConsolidationView) -> None:
    """One row per grassroots organisation, counts and rates across."""
    top = _title_block(ws, view, "Kết quả của từng tổ chức cơ sở đảng")
    fixed = ["STT", "Mã đơn vị", "Tổ chức cơ sở đảng", "Trực thuộc", "Loại tổ chức", "Loại hình"]
    write_header(ws, top, [*fixed, *_indicator_headers(view)])
    row = top + 1
    organisations = [u for u in view.units if u["kind"] in GRASSROOTS_KINDS]
    for number, unit in enumerate(organisations, start=1):
        put_cell(ws, row, 1, number, "count")
        put_cell(ws, row, 2, unit["code"])
        put_cell(ws, row, 3, unit["name"], "wrap")
        put_cell(ws, row, 4, view.name(unit["parent_code"]), "wrap")
        put_cell(ws, row, 5, KIND_LABELS_VI.get(unit["kind"], unit["kind"]))
        put_cell(ws, row, 6, SECTOR_LABELS_VI.get(unit["sector"], unit["sector"]), "wrap")
        column = len(fixed) + 1
        for indicator in view.numeric:
            put_cell(ws, row, column, view.number(unit["code"], indicator.code), "count")
            column += 1
        for rate in RATES:
            put_cell(ws, row, column, view.number(unit["code"], rate.code), "rate")
            column += 1
        row += 1
    widths = [6, 12, 36, 28, 16, 26] + [14] * (len(view.numeric) + len(RATES))
    finish_sheet(ws, top, widths, freeze_column=4)


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
    finish_sheet(ws, top, [40] + [14] * (len(counted) + len(RATES)), freeze_column=2)


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
    """Every expected unit with the outcome of its submission, a summary on top."""
    _title_block(
        ws,
        view,
        "Tiến độ nộp báo cáo của các đơn vị",
        timing=(
            f"Hạn nộp báo cáo: {format_date(view.source.deadline)}"
            f" — Số liệu tính đến: {format_datetime(view.source.generated_at)}"
        ),
    )
    statuses = [row["status"] for row in view.status]
    expected = len(statuses)
    accepted = sum(s in ("accepted", "accepted_with_warnings") for s in statuses)
    summary = [
        f"Số đơn vị phải báo cáo: {format_count(expected)}",
        f"Đã tiếp nhận: {format_count(accepted)}"
        f" (trong đó có cảnh báo: {format_count(statuses.count('accepted_with_warnings'))})"
        + (f" — đạt {format_percent(accepted / expected)}" if expected else ""),
        f"Bị trả lại: {format_count(statuses.count('rejected'))}",
        f"Chưa nộp: {format_count(statuses.count('missing'))}",
        f"Nộp quá hạn: {format_count(sum(row['on_time'] is False for row in view.status))}",
    ]
    for offset, line in enumerate(summary):
        ws.cell(row=7 + offset, column=2, value=line)
    top = 7 + len(summary) + 1
    headers = [
        "STT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại tổ chức",
        "Trực thuộc",
        "Tình trạng",
        "Thời hạn",
        "Thời điểm nhận",
        "Tệp đã nhận",
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
        put_cell(ws, row, 8, entry.get("received_at"), "datetime")
        put_cell(ws, row, 9, entry.get("file_name"), "wrap")
        put_cell(ws, row, 10, entry.get("errors"), "count")
        put_cell(ws, row, 11, entry.get("warnings"), "count")
        row += 1
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{max(row - 1, top)}"
    finish_sheet(ws, top, [6, 12, 40, 20, 32, 24, 11, 17, 28, 8, 10], freeze_column=4)


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
    if not view.problems:
        ws.cell(row=row, column=2, value="Không có lỗi hoặc cảnh báo.")
    else:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{row - 1}"
    finish_sheet(ws, top, [6, 12, 30, 24, 17, 8, 10, 7, 20, 34, 60], freeze_column=4)


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
    finish_sheet(ws, top, [12, 32, 24, 100], freeze_column=3)


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
            if old is not None and new is not None and kind == "count":
                difference = new - old
                sign = "+" if difference > 0 else "−" if difference < 0 else ""
                put_cell(ws, row, 8, f"{sign}{format_count(abs(difference))}").alignment = RIGHT
            elif old is not None and new is not None:
                put_cell(ws, row, 8, _points(new - old))
            else:
                put_cell(ws, row, 8, None)
        row += 1
    if not figures:
        ws.cell(row=row, column=2, value="Không có số liệu nào thay đổi.")
    finish_sheet(ws, header_row, [6, 12, 36, 30, 40, 26, 26, 26], freeze_column=4)


def _counted_file(name: object, received_at: object) -> str | None:
    if is_blank(name):
        return "Chưa có"
    return f"{name} (nhận lúc {format_datetime(received_at)})"


def _excerpt(text: object, limit: int = 500) -> str | None:
    if is_blank(text):
        return "(trống)"
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _points(difference: float) -> str:
    """A change of rate in percentage points, Vietnamese style: `+2,5 điểm %`."""
    shown = format_percent(abs(difference)).rstrip("%")
    return f"{'+' if difference >= 0 else '−'}{shown} điểm %"
