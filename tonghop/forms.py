"""The Excel form a unit fills each period (SPEC §3): one sheet `BaoCao`, header fields in B2:C6,
the indicator table from row 8, protected where the unit must not type, validated where it must."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tonghop.catalogue import SECTION_TITLES_VI, Indicator, by_code, load_catalogue
from tonghop.periods import Period
from tonghop.registry import Unit

# 2026.1 asks for limitations («Hạn chế») and their causes («Nguyên nhân của hạn chế») in two
# rows; forms of 2025.1, with one row «Hạn chế và nguyên nhân» under the code `limitations`,
# are still read and accepted: their text counts as limitations.
TEMPLATE_VERSION = "2026.1"
SHEET_NAME = "BaoCao"
HEADER_ROW = 8
MAX_TEXT_LENGTH = 10_000

TITLE_VI = "BÁO CÁO KẾT QUẢ HỌC TẬP, QUÁN TRIỆT, TRIỂN KHAI THỰC HIỆN NGHỊ QUYẾT"
FIELD_LABELS_VI = ("Mã đơn vị", "Kỳ báo cáo", "Ngày lập", "Người lập", "Phiên bản mẫu")
TABLE_HEADERS_VI = ("STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Giá trị", "Ghi chú")
INSTRUCTION_VI = (
    "Hướng dẫn: chỉ điền Ngày lập, Người lập và các cột «Giá trị», «Ghi chú». Số liệu ghi bằng "
    "số nguyên; chỉ tiêu có số liệu bằng 0 thì ghi 0, ô để trống được hiểu là chưa báo cáo "
    "(không phải bằng 0). Chỉ tiêu có/không ghi 1 (có) hoặc 0 (không). Không sửa mã đơn vị, "
    "kỳ báo cáo và cột «Mã chỉ tiêu»."
)

_WIDTHS = {"A": 6, "B": 24, "C": 62, "D": 13, "E": 22, "F": 32}
_DATE_FORMAT = "DD/MM/YYYY"

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INPUT_FILL = PatternFill("solid", start_color="FFF9E6")
_UNLOCKED = Protection(locked=False)
_TOP = Alignment(vertical="top")
_WRAP = Alignment(vertical="top", wrap_text=True)

# Every cell gets one of these named styles: assigning a registered named style copies a ready
# style array, whereas setting font, fill, border... one by one hashes each of them per cell and
# made writing ~1,250 forms twice as slow. Hidden, so they do not clutter Excel's style gallery.
_STYLES: dict[str, dict[str, object]] = {
    "title": {
        "font": Font(bold=True, size=13),
        "alignment": Alignment(vertical="center"),
    },
    "label": {"font": Font(bold=True)},
    "fixed": {
        "font": Font(bold=True),
        "border": _BORDER,
        "number_format": "@",
        "alignment": Alignment(horizontal="left"),
    },
    "field": {
        "border": _BORDER,
        "fill": _INPUT_FILL,
        "protection": _UNLOCKED,
        "alignment": Alignment(horizontal="left"),
    },
    "date": {
        "border": _BORDER,
        "fill": _INPUT_FILL,
        "protection": _UNLOCKED,
        "alignment": Alignment(horizontal="left"),
        "number_format": _DATE_FORMAT,
    },
    "note": {"font": Font(italic=True, size=10, color="404040"), "alignment": _WRAP},
    "header": {
        "font": Font(bold=True),
        "fill": PatternFill("solid", start_color="D9E1F2"),
        "border": _BORDER,
        "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
    },
    "section": {
        "font": Font(bold=True),
        "fill": PatternFill("solid", start_color="F2F2F2"),
        "border": _BORDER,
        "alignment": _WRAP,
    },
    "cell": {"border": _BORDER, "alignment": _TOP},
    "cell_wrap": {"border": _BORDER, "alignment": _WRAP},
    "input": {"border": _BORDER, "fill": _INPUT_FILL, "protection": _UNLOCKED, "alignment": _TOP},
    "input_date": {
        "border": _BORDER,
        "fill": _INPUT_FILL,
        "protection": _UNLOCKED,
        "alignment": _TOP,
        "number_format": _DATE_FORMAT,
    },
    "input_text": {
        "border": _BORDER,
        "fill": _INPUT_FILL,
        "protection": _UNLOCKED,
        "alignment": _WRAP,
        "number_format": "@",
    },
    "input_wrap": {
        "border": _BORDER,
        "fill": _INPUT_FILL,
        "protection": _UNLOCKED,
        "alignment": _WRAP,
    },
}
_STYLE_PREFIX = "Tổng hợp - "


def _register_styles(workbook: Workbook) -> None:
    for name, attributes in _STYLES.items():
        workbook.add_named_style(NamedStyle(name=_STYLE_PREFIX + name, hidden=True, **attributes))


def _style(cell: Cell, name: str) -> None:
    cell.style = _STYLE_PREFIX + name


_WRITABLE_TYPES = (int, float, str, Decimal, date, datetime, time)


def form_indicators(has_children: bool) -> tuple[Indicator, ...]:
    """The catalogue indicators a unit may report: a unit with children gets no `leaf` ones."""
    return tuple(i for i in load_catalogue() if not (has_children and i.is_leaf_only))


def write_form(
    path: Path,
    unit: Unit,
    period: Period,
    has_children: bool,
    values: Mapping[str, object] | None = None,
    *,
    preparer: str | None = None,
    prepared_on: date | None = None,
) -> None:
    """Write the form of `unit` for `period` to `path`, pre-filling `values` (code → value)."""
    workbook = Workbook()
    workbook.properties.creator = "Tổng hợp"
    workbook.properties.title = f"{TITLE_VI} {period.label_vi}"
    _register_styles(workbook)
    sheet = workbook.active
    sheet.title = SHEET_NAME

    _write_top(sheet, unit, period, preparer, prepared_on)
    _write_table(sheet, has_children, dict(values or {}))

    sheet.protection.sheet = True
    # People may still resize rows and columns of the protected sheet to read long texts.
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed into place, so a collector scanning the folder never sees a
    # half-written workbook.
    partial = path.with_name(f".{path.name}.partial")
    workbook.save(partial)
    partial.replace(path)


def write_form_in_place(job: tuple[Path, Unit, Period, bool]) -> Path:
    """`write_form` of one (path, unit, period, has_children) job under a hidden name, renamed
    into place once whole: a reader never sees half a form."""
    path, unit, period, has_children = job
    partial = path.with_name(f".{path.name}.partial")
    write_form(partial, unit, period, has_children)
    os.replace(partial, path)
    return path


def _write_top(
    sheet: Worksheet,
    unit: Unit,
    period: Period,
    preparer: str | None,
    prepared_on: date | None,
) -> None:
    for column, width in _WIDTHS.items():
        sheet.column_dimensions[column].width = width

    _style(sheet.cell(1, 1, f"{TITLE_VI} {period.label_vi.upper()}"), "title")
    sheet.row_dimensions[1].height = 36

    fields = (
        (unit.code, "fixed"),
        (str(period), "fixed"),
        (prepared_on, "date"),
        (preparer, "field"),
        (TEMPLATE_VERSION, "fixed"),
    )
    for row, (label, (value, style)) in enumerate(zip(FIELD_LABELS_VI, fields, strict=True), 2):
        _style(sheet.cell(row, 2, label), "label")
        value_cell = sheet.cell(row, 3)
        _set_value(value_cell, value)
        _style(value_cell, style)
    # Only beside the locked code and period, so that the reader's "next non-empty cell right of
    # the label" never lands here while C4 and C5 are still blank.
    sheet.cell(2, 4, unit.name)
    sheet.cell(3, 4, period.label_vi)

    _style(sheet.cell(7, 1, INSTRUCTION_VI), "note")
    sheet.merge_cells(start_row=7, start_column=1, end_row=7, end_column=6)
    sheet.row_dimensions[7].height = 45


def _write_table(sheet: Worksheet, has_children: bool, values: dict[str, object]) -> None:
    for column, header in enumerate(TABLE_HEADERS_VI, start=1):
        _style(sheet.cell(HEADER_ROW, column, header), "header")

    ranges: dict[str, list[int]] = {"count": [], "flag": [], "text": []}
    row = HEADER_ROW + 1
    number = 0
    section = None
    for indicator in form_indicators(has_children):
        if indicator.section != section:
            section = indicator.section
            _write_section_row(sheet, row, section)
            row += 1
        number += 1
        _write_row(sheet, row, number, indicator.code, indicator, values.pop(indicator.code, None))
        ranges[indicator.kind].append(row)
        row += 1

    # Codes the unit's form does not list (tests use them to build F6 and V2 errors).
    catalogue = by_code()
    for code, value in values.items():
        number += 1
        indicator = catalogue.get(code)
        _write_row(sheet, row, number, code, indicator, value)
        if indicator is not None:
            ranges[indicator.kind].append(row)
        row += 1

    for kind, rows in ranges.items():
        if rows:
            validation = _validation(kind)
            validation.sqref = MultiCellRange(_compact_ranges("E", rows))
            sheet.add_data_validation(validation)


def _write_section_row(sheet: Worksheet, row: int, section: str) -> None:
    texts = {1: section, 3: SECTION_TITLES_VI.get(section, section)}
    for column in range(1, 7):
        _style(sheet.cell(row, column, texts.get(column)), "section")


def _write_row(
    sheet: Worksheet,
    row: int,
    number: int,
    code: str,
    indicator: Indicator | None,
    value: object,
) -> None:
    label, unit_vi, kind = "", "", None
    if indicator is not None:
        label, unit_vi, kind = indicator.label_vi, indicator.unit_vi, indicator.kind
        if kind == "flag" and "1 có" not in label:
            label = f"{label} (1 có / 0 không)"
    _style(sheet.cell(row, 1, number), "cell")
    _style(sheet.cell(row, 2, code), "cell")
    _style(sheet.cell(row, 3, label), "cell_wrap")
    _style(sheet.cell(row, 4, unit_vi), "cell")
    value_cell = sheet.cell(row, 5)
    _set_value(value_cell, value)
    if kind == "text":
        _style(value_cell, "input_text")
        sheet.row_dimensions[row].height = 75
    elif isinstance(value, date):
        _style(value_cell, "input_date")
    else:
        _style(value_cell, "input")
    _style(sheet.cell(row, 6), "input_wrap")


def _set_value(cell: Cell, value: object) -> None:
    """Write `value` as it is: text stays text even when it looks like a formula."""
    if value is None:
        return
    if not isinstance(value, _WRITABLE_TYPES):
        value = str(value)
    if isinstance(value, str):
        # XML cannot hold control characters; dropping them is the only way to write the rest.
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def _validation(kind: str) -> DataValidation:
    """Excel data validation for the value cells of one indicator kind."""
    if kind == "count":
        validation = DataValidation(
            type="whole",
            operator="greaterThanOrEqual",
            formula1="0",
            error="Giá trị phải là số nguyên không âm (0, 1, 2, …). Để trống nếu chưa báo cáo.",
            prompt="Nhập số nguyên không âm; để trống nếu chưa báo cáo.",
        )
    elif kind == "flag":
        validation = DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2="1",
            error="Chỉ được ghi 1 (có) hoặc 0 (không). Để trống nếu chưa báo cáo.",
            prompt="Ghi 1 nếu có, 0 nếu không.",
        )
    else:
        validation = DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(MAX_TEXT_LENGTH),
            error=f"Nội dung không được dài quá {MAX_TEXT_LENGTH:,} ký tự.".replace(",", "."),
            prompt="Ghi ngắn gọn, không quá 10.000 ký tự.",
        )
    validation.allow_blank = True
    validation.showErrorMessage = True
    validation.showInputMessage = True
    validation.errorStyle = "stop"
    validation.errorTitle = "Giá trị không hợp lệ"
    validation.promptTitle = "Hướng dẫn"
    return validation


def _compact_ranges(column: str, rows: list[int]) -> str:
    """Rows 9, 10, 11, 14 of E → `E9:E11 E14`."""
    parts: list[str] = []
    start = previous = rows[0]
    for current in [*sorted(rows)[1:], None]:
        if current is not None and current == previous + 1:
            previous = current
            continue
        parts.append(
            f"{column}{start}" if start == previous else f"{column}{start}:{column}{previous}"
        )
        if current is not None:
            start = previous = current
    return " ".join(parts)
