"""What the workbook and the feedback workbooks share: the named cell styles and formats, and
writing a table's cells, header and page setup the same way in both."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from copy import copy
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tonghop.formatting import is_blank

# Literal dots as thousands separators: Excel's own separator follows the reader's locale,
# and a count must read 14.103 on an English-language Excel too.
COUNT_FORMAT = '[>=1000000]#"."###"."###;[>=1000]#"."###;0'
# Escaped slashes for the same reason: an unescaped `/` is the locale's date separator.
DATETIME_FORMAT = r"dd\/mm\/yyyy hh:mm"
# A rate is a number (a fraction) shown as a percentage in the reader's own convention: a
# Vietnamese Excel shows 0.94 as 94,0%, and it sorts, sums and charts as a number.
RATE_FORMAT = "0.0%"
# A change of a count, signed; of a rate, in percentage points (the number is the points).
COUNT_CHANGE_FORMAT = "+#,##0;-#,##0;0"
POINTS_CHANGE_FORMAT = '+0.0" điểm %";-0.0" điểm %";0.0" điểm %"'
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
LINE_HEIGHT = 15  # points per line of 11-point text
PRINT_WIDTH_PER_PAGE = 240  # column-width units legible on one landscape A4 page

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
WRAP = Alignment(wrap_text=True, vertical="top")
RIGHT = Alignment(horizontal="right", vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, horizontal="center", vertical="center")


# Each kind of table cell is a named style: assigning one costs a fraction of setting border,
# alignment and number format cell by cell, which dominated writing a province's workbook.
_STYLE_PREFIX = "Tổng hợp - "
MAX_INDENT = 8  # levels deeper than this are indented no further


def new_workbook() -> Workbook:
    """An empty workbook carrying the named styles of the table cells."""
    workbook = Workbook()
    top = Alignment(vertical="top")
    cell_styles = {
        "text": NamedStyle(border=_BORDER, alignment=top),
        "wrap": NamedStyle(border=_BORDER, alignment=WRAP),
        "count": NamedStyle(border=_BORDER, alignment=RIGHT, number_format=COUNT_FORMAT),
        "rate": NamedStyle(border=_BORDER, alignment=RIGHT, number_format=RATE_FORMAT),
        "datetime": NamedStyle(border=_BORDER, alignment=top, number_format=DATETIME_FORMAT),
    }
    for indent in range(MAX_INDENT + 1):
        cell_styles[f"wrap-{indent}"] = NamedStyle(
            border=_BORDER, alignment=Alignment(wrap_text=True, vertical="top", indent=indent)
        )
    for kind, style in cell_styles.items():
        style.name = _STYLE_PREFIX + kind
        workbook.add_named_style(style)
    return workbook


def put_cell(ws: Worksheet, row: int, column: int, value: object, kind: str = "text") -> Cell:
    """Write one table cell; `kind` is text | wrap | wrap-<indent> | count | rate | datetime.
    Counts and rates are numbers (a rate a fraction, shown as a percentage); blank stays
    blank, never 0."""
    # What `ws.cell(…).style = name` does, without openpyxl's search of the named styles by
    # name for every cell (a third of the time of writing a province's progress sheet) nor
    # its look-up of a cell about to be replaced whole.
    cell = Cell(ws, row=row, column=column, style_array=copy(_style_array(ws, kind)))
    ws._add_cell(cell)
    if kind == "count":
        if not is_blank(value):
            number = float(value)  # type: ignore[arg-type]
            cell.value = int(number) if number.is_integer() else number
    elif kind == "rate":
        if not is_blank(value):
            cell.value = float(value)  # type: ignore[arg-type]
    elif kind == "datetime":
        cell.value = value if isinstance(value, datetime) else None
    else:
        set_text(cell, value)
    return cell


def _style_array(ws: Worksheet, kind: str) -> object:
    """The cell formatting of the workbook's named style for `kind`, looked up once per workbook."""
    workbook = ws.parent
    arrays = workbook.__dict__.setdefault("_tonghop_style_arrays", {})
    if kind not in arrays:
        arrays[kind] = workbook._named_styles[_STYLE_PREFIX + kind].as_tuple()
    return arrays[kind]


def set_text(cell: Cell, value: object) -> None:
    """Store text as a plain string cell, so that nothing a unit typed can become a formula."""
    if is_blank(value):
        cell.value = None
        return
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_TEXT]
    # Stored as openpyxl's `cell.value = text` would, minus its second scan for the characters
    # just removed, and never as a formula (openpyxl takes text starting with `=` for one).
    cell._value = text
    cell.data_type = "s"


def write_header(ws: Worksheet, row: int, headers: Iterable[str], start: int = 1) -> None:
    """A table's header row: bold, shaded, centred and wrapped."""
    for column, text in enumerate(headers, start=start):
        cell = ws.cell(row=row, column=column)
        set_text(cell, text)
        cell.font = BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = _HEADER_ALIGN


def finish_sheet(
    ws: Worksheet,
    header_row: int,
    widths: list[float],
    freeze_column: int = 1,
    title: str | None = None,
) -> None:
    """Column widths, row heights, frozen header (and name columns), landscape A4 printing with
    `title` (by default the sheet's name) at the top of each page and its number at the foot."""
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    _fit_row_heights(ws, header_row, widths)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=freeze_column)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    # One page wide when that stays legible; a very wide table spreads over a few pages
    # across, each repeating the frozen name columns.
    pages_wide = max(1, math.ceil(sum(widths) / PRINT_WIDTH_PER_PAGE))
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if pages_wide > 1 and freeze_column > 1:
        ws.print_title_cols = f"A:{get_column_letter(freeze_column - 1)}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    # `&` starts a header code: a literal one is written twice.
    ws.oddHeader.center.text = (title or ws.title).replace("&", "&&")
    ws.oddHeader.center.size = 9
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.size = 9


def _fit_row_heights(ws: Worksheet, first_row: int, widths: list[float]) -> None:
    """Give wrapped rows the height their text needs: neither Excel nor LibreOffice reliably
    grows a row written by openpyxl when the file opens."""
    workbook = ws.parent
    wraps: dict[int, bool] = {}
    bolds: dict[int, bool] = {}
    lines_of: dict[int, int] = {}
    # The written cells only, their formatting looked up once per kind: reading each cell's
    # alignment and font through openpyxl's style proxies cost seconds on a province's sheets.
    for (row, column), cell in ws._cells.items():
        value = cell._value
        if row < first_row or column > len(widths) or not isinstance(value, str):
            continue
        # A cell never styled has no style array: the workbook's first alignment and font.
        alignment, font = (cell._style.alignmentId, cell._style.fontId) if cell._style else (0, 0)
        if alignment not in wraps:
            wraps[alignment] = bool(workbook._alignments[alignment].wrap_text)
        if not wraps[alignment]:
            continue
        if font not in bolds:
            bolds[font] = bool(workbook._fonts[font].bold)
        lines = wrapped_lines(value, widths[column - 1], bold=bolds[font])
        if lines > lines_of.get(row, 1):
            lines_of[row] = lines
    for row, lines in lines_of.items():
        ws.row_dimensions[row].height = min(409, LINE_HEIGHT * lines)


def wrapped_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines `text` takes in a column `width` characters wide, roughly."""
    per_line = max(1, int(width * (1.0 if bold else 1.15)) - 1)
    if len(text) <= per_line and "\n" not in text:
        return 1  # most cells: no need to wrap them word by word
    return sum(max(1, len(textwrap.wrap(part, per_line))) for part in text.split("\n"))
