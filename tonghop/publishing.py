"""Publishing a consolidated period (SPEC §7): the workbook people read, the machine-readable
CSVs and one feedback workbook per rejected or warned unit, each file written atomically."""

from __future__ import annotations

import csv
import math
import os
import re
import tempfile
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tonghop import catalogue
from tonghop.aggregation import add_rates
from tonghop.catalogue import RATES, REPORTING_FIGURES, SECTION_TITLES_VI, Indicator
from tonghop.formatting import format_count, format_date, format_datetime, format_percent, is_blank
from tonghop.layout import (
    FEEDBACK_DIR,
    PublicationFolders,
    feedback_name,
    published_name,
)
from tonghop.periods import Period
from tonghop.problems import SEVERITY_LABELS_VI
from tonghop.registry import GRASSROOTS_KINDS, KIND_LABELS_VI, SECTOR_LABELS_VI, SECTORS
from tonghop.versions import Changes

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TEXT_CODES = ("highlights", "limitations", "proposals")

STATUS_LABELS_VI = {
    "accepted": "Đã tiếp nhận",
    "accepted_with_warnings": "Đã tiếp nhận, có cảnh báo",
    "rejected": "Bị trả lại",
    "missing": "Chưa nộp",
}
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

# Literal dots as thousands separators: Excel's own separator follows the reader's locale,
# and a count must read 14.103 on an English-language Excel too.
COUNT_FORMAT = '[>=1000000]#"."###"."###;[>=1000]#"."###;0'
# Escaped slashes for the same reason: an unescaped `/` is the locale's date separator.
DATETIME_FORMAT = r"dd\/mm\/yyyy hh:mm"
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
LINE_HEIGHT = 15  # points per line of 11-point text
PRINT_WIDTH_PER_PAGE = 240  # column-width units legible on one landscape A4 page

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=13)
_WRAP = Alignment(wrap_text=True, vertical="top")
_RIGHT = Alignment(horizontal="right", vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, horizontal="center", vertical="center")


@dataclass
class Consolidation:
    """Everything published for one period, as plain DataFrames (columns in the field notes)."""

    period: Period
    generated_at: datetime  # naive local time (Asia/Ho_Chi_Minh)
    deadline: date
    # code, name, kind, sector, parent_code, level (0 = province), position (hierarchy order)
    units: pd.DataFrame
    # unit_code, indicator_code, number (float, NaN = blank), text (str | None)
    values: pd.DataFrame
    # sector, indicator_code, number; a row with a blank sector, if any, is the total
    sectors: pd.DataFrame
    # unit_code, status, on_time, received_at, file_name, errors, warnings
    status: pd.DataFrame
    # unit_code, submission_number (the unit's nth file of the period), file_name, received_at,
    # rule, severity, indicator_code, row_number, message — of each unit's latest file
    problems: pd.DataFrame
    # unit_code, indicator_code (highlights | limitations | proposals), text
    texts: pd.DataFrame
    # which published version this is, and what it changed against the one before
    version: int = 1
    changes: Changes | None = None


@dataclass
class PublishedFiles:
    """Where `publish` wrote each output; `feedback` is keyed by unit code."""

    workbook: Path
    consolidated_csv: Path
    status_csv: Path
    feedback: dict[str, Path]
    version: int = 1
    newly_published: bool = True  # False when the run changed nothing already published
    # the narrative report (Word) of the province and of each upper-level unit, by unit code
    reports: dict[str, Path] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether the workbook and both CSVs are on disk."""
        outputs = (self.workbook, self.consolidated_csv, self.status_csv)
        return all(path.exists() for path in outputs)


# --------------------------------------------------------------------------- entry points


def publish(
    consolidation: Consolidation, folders: PublicationFolders, *, rewrite: bool = True
) -> PublishedFiles:
    """Write the version's workbook, CSVs and feedback into `folders.stage`, from where they
    appear in `folders.final` (normally `published/<P>/`) all at once; returns where they will be.

    The version's own files are written when `rewrite` is set or when one is missing; a file
    already published is never written over. Feedback answers each unit's latest file once.
    """
    view = _View(consolidation)
    period, version = consolidation.period, consolidation.version
    outputs = {
        published_name("tong-hop", period, version, ".xlsx"): (
            lambda path: _build_workbook(view).save(path)
        ),
        published_name("consolidated", period, version, ".csv"): (
            lambda path: _write_consolidated_csv(view, path)
        ),
        published_name("status", period, version, ".csv"): (
            lambda path: _write_status_csv(view, path)
        ),
    }
    paths = []
    for name, write in outputs.items():
        path = folders.final / name
        if rewrite or not path.exists():
            write_atomically(folders.staged(path), write)
        paths.append(path)
    feedback = _publish_feedback(view, folders)
    return PublishedFiles(*paths, feedback=feedback, version=version)


def published_files(out_dir: Path, period: Period, version: int) -> PublishedFiles:
    """The files a version already published left in `out_dir` (the narrative reports are
    found by `tonghop.report.find_reports`; feedback answers files, not versions)."""
    out_dir = Path(out_dir)
    return PublishedFiles(
        out_dir / published_name("tong-hop", period, version, ".xlsx"),
        out_dir / published_name("consolidated", period, version, ".csv"),
        out_dir / published_name("status", period, version, ".csv"),
        feedback={},
        version=version,
        newly_published=False,
    )


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary file beside `path`, then move it into place in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        # mkstemp creates the file private; published files are meant to be read by others.
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- the data, indexed


class _View:
    """The consolidation indexed for lookups, in hierarchy and catalogue order."""

    def __init__(self, consolidation: Consolidation) -> None:
        self.source = consolidation
        self.period = consolidation.period
        units = consolidation.units.sort_values("position", kind="stable")
        self.units: list[dict] = [
            {key: _clean(value) for key, value in row.items()} for row in units.to_dict("records")
        ]
        self.by_code = {unit["code"]: unit for unit in self.units}
        self.position = {unit["code"]: index for index, unit in enumerate(self.units)}

        indicators = catalogue.load_catalogue()
        # Counts and flag counts in catalogue order: the rows of every numeric table.
        self.numeric: list[Indicator] = [i for i in indicators if i.kind in ("count", "flag")]

        values = consolidation.values
        values = values[values["number"].notna()]
        self.numbers: dict[tuple[str, str], float] = dict(
            zip(
                zip(values["unit_code"].tolist(), values["indicator_code"].tolist(), strict=True),
                values["number"].astype(float).tolist(),
                strict=True,
            )
        )

        self.sector_numbers: dict[tuple[str | None, str], float] = {}
        sectors = consolidation.sectors
        for sector, code, number in zip(
            sectors["sector"], sectors["indicator_code"], sectors["number"], strict=True
        ):
            if not is_blank(number):
                self.sector_numbers[(_clean(sector), code)] = float(number)

        self.figure_codes = {code for _, code in self.numbers}

        self.status = self._in_hierarchy_order(consolidation.status)
        self.problems = self._sorted_problems(consolidation.problems)
        self.texts = self._sorted_texts(consolidation.texts)

    def number(self, unit_code: str, code: str) -> float | None:
        return self.numbers.get((unit_code, code))

    def name(self, code: str | None) -> str:
        unit = self.by_code.get(code) if code else None
        return (unit["name"] or "") if unit else ""

    def _rank(self, code: str) -> tuple[int, str]:
        # Units absent from the hierarchy (should not happen) go last, by code.
        return (self.position.get(code, len(self.position)), str(code))

    def _in_hierarchy_order(self, frame: pd.DataFrame) -> list[dict]:
        rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
        return sorted(rows, key=lambda row: self._rank(row["unit_code"]))

    def _sorted_problems(self, frame: pd.DataFrame) -> list[dict]:
        rows = self._in_hierarchy_order(frame)
        severity_rank = {"error": 0, "warning": 1}

        def key(row: dict) -> tuple:
            number = row.get("row_number")
            return (
                self._rank(row["unit_code"]),
                -1 if number is None else int(number),
                severity_rank.get(row.get("severity"), 2),
                str(row.get("rule") or ""),
            )

        return sorted(rows, key=key)

    def _sorted_texts(self, frame: pd.DataFrame) -> list[dict]:
        order = {code: index for index, code in enumerate(TEXT_CODES)}
        rows = [row for row in self._in_hierarchy_order(frame) if row.get("text")]
        return sorted(
            rows,
            key=lambda row: (self._rank(row["unit_code"]), order.get(row["indicator_code"], 99)),
        )


def _clean(value: object) -> object:
    """pandas' missing markers (NaN, NA, NaT) → None; Timestamps → naive local datetimes."""
    if value is None or (not isinstance(value, str) and is_blank(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars → Python
        value = value.item()
    return value


# --------------------------------------------------------------------------- cell writing


# Each kind of table cell is a named style: assigning one costs a fraction of setting border,
# alignment and number format cell by cell, which dominated writing a province's workbook.
_STYLE_PREFIX = "Tổng hợp - "
MAX_INDENT = 8  # levels deeper than this are indented no further


def _new_workbook() -> Workbook:
    """An empty workbook carrying the named styles of the table cells."""
    workbook = Workbook()
    top = Alignment(vertical="top")
    cell_styles = {
        "text": NamedStyle(border=_BORDER, alignment=top),
        "wrap": NamedStyle(border=_BORDER, alignment=_WRAP),
        "count": NamedStyle(border=_BORDER, alignment=_RIGHT, number_format=COUNT_FORMAT),
        "rate": NamedStyle(border=_BORDER, alignment=_RIGHT),
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


def _put(ws: Worksheet, row: int, column: int, value: object, kind: str = "text") -> Cell:
    """Write one table cell; `kind` is text | wrap | wrap-<indent> | count | rate | datetime."""
    cell = ws.cell(row=row, column=column)
    cell.style = _STYLE_PREFIX + kind
    if kind == "count":
        if not is_blank(value):
            number = float(value)  # type: ignore[arg-type]
            cell.value = int(number) if number.is_integer() else number
    elif kind == "rate":
        _set_text(cell, format_percent(value))
    elif kind == "datetime":
        cell.value = value if isinstance(value, datetime) else None
    else:
        _set_text(cell, value)
    return cell


def _set_text(cell: Cell, value: object) -> None:
    """Store text as a plain string cell, so that nothing a unit typed can become a formula."""
    if is_blank(value):
        cell.value = None
        return
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_TEXT]
    cell.value = text
    # openpyxl marks text starting with `=` as a formula; force it back to a string.
    cell.data_type = "s"


def _title_block(ws: Worksheet, view: _View, title: str) -> int:
    """Product, sheet title, period and time of consolidation; returns the next free row."""
    ws.cell(row=1, column=1, value=PRODUCT_TITLE_VI).font = _TITLE_FONT
    ws.cell(row=2, column=1, value=title).font = _BOLD
    ws.cell(row=3, column=1, value=f"Kỳ báo cáo: {view.period.label_vi}")
    ws.cell(
        row=4,
        column=1,
        value=(
            f"Thời điểm tổng hợp: {format_datetime(view.source.generated_at)}"
            f" — Hạn nộp báo cáo: {format_date(view.source.deadline)}"
        ),
    )
    ws.cell(row=5, column=1, value=_version_line(view.source))
    return 7


def _header(ws: Worksheet, row: int, headers: Iterable[str], start: int = 1) -> None:
    for column, text in enumerate(headers, start=start):
        cell = ws.cell(row=row, column=column)
        _set_text(cell, text)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = _HEADER_ALIGN


def _finish(ws: Worksheet, header_row: int, widths: list[float], freeze_column: int = 1) -> None:
    """Column widths, row heights, frozen header (and name columns), landscape A4 printing."""
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


def _fit_row_heights(ws: Worksheet, first_row: int, widths: list[float]) -> None:
    """Give wrapped rows the height their text needs: neither Excel nor LibreOffice reliably
    grows a row written by openpyxl when the file opens."""
    for row in ws.iter_rows(min_row=first_row, max_col=len(widths)):
        lines = 1
        for cell, width in zip(row, widths, strict=False):
            if isinstance(cell.value, str) and cell.alignment.wrap_text:
                lines = max(lines, _wrapped_lines(cell.value, width, bold=bool(cell.font.bold)))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(409, LINE_HEIGHT * lines)


def _wrapped_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines `text` takes in a column `width` characters wide, roughly."""
    per_line = max(1, int(width * (1.0 if bold else 1.15)) - 1)
    if len(text) <= per_line and "\n" not in text:
        return 1  # most cells: no need to wrap them word by word
    return sum(max(1, len(textwrap.wrap(part, per_line))) for part in text.split("\n"))


def _flag_label(indicator: Indicator) -> str:
    """A flag's form label `X (1 có / 0 không)` read as the number of units where X holds."""
    base = re.sub(r"\s*\(1 có / 0 không\)\s*$", "", indicator.label_vi)
    return f"Số đơn vị có {base[:1].lower()}{base[1:]}"


def _label(indicator: Indicator) -> str:
    return _flag_label(indicator) if indicator.kind == "flag" else indicator.label_vi


def _measure(indicator: Indicator) -> str:
    return "đơn vị" if indicator.kind == "flag" else indicator.unit_vi


# --------------------------------------------------------------------------- the workbook


def _build_workbook(view: _View) -> Workbook:
    workbook = _new_workbook()
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


def _sheet_levels(ws: Worksheet, view: _View) -> None:
    """Indicators down, the province then each upper-level unit across."""
    top = _title_block(ws, view, "Kết quả tổng hợp của đảng bộ tỉnh và các đảng bộ cấp trên cơ sở")
    columns = [u for u in view.units if u["kind"] == "province"]
    columns += [u for u in view.units if u["kind"] == "upper"]
    _header(ws, top, ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", *(u["name"] for u in columns)])
    width = 3 + len(columns)
    row = top + 1

    def section_row(letter: str, title: str) -> None:
        for column in range(1, width + 1):
            cell = _put(ws, row, column, None)
            cell.fill = _SECTION_FILL
            cell.font = _BOLD
        _set_text(ws.cell(row=row, column=1), letter)
        _set_text(ws.cell(row=row, column=2), title)

    section = None
    for indicator in view.numeric:
        if indicator.section != section:
            section = indicator.section
            section_row(section, SECTION_TITLES_VI.get(section, section))
            row += 1
        _put(ws, row, 1, indicator.code)
        _put(ws, row, 2, _label(indicator), "wrap")
        _put(ws, row, 3, _measure(indicator))
        for column, unit in enumerate(columns, start=4):
            _put(ws, row, column, view.number(unit["code"], indicator.code), "count")
        row += 1
    # The figures behind the rates, when the consolidation carries them.
    figures = [code for code in REPORTING_FIGURES if code in view.figure_codes]
    if figures:
        section_row("", "Số liệu làm căn cứ tính tỷ lệ")
        row += 1
    for code in figures:
        _put(ws, row, 1, code)
        _put(ws, row, 2, REPORTING_FIGURES[code], "wrap")
        _put(ws, row, 3, "đơn vị")
        for column, unit in enumerate(columns, start=4):
            _put(ws, row, column, view.number(unit["code"], code), "count")
        row += 1
    section_row("", "Các tỷ lệ")
    row += 1
    for rate in RATES:
        _put(ws, row, 1, rate.code)
        _put(ws, row, 2, rate.label_vi, "wrap")
        _put(ws, row, 3, "%")
        for column, unit in enumerate(columns, start=4):
            _put(ws, row, column, view.number(unit["code"], rate.code), "rate")
        row += 1
    _finish(ws, top, [24, 56, 11, *([18] * len(columns))], freeze_column=4)


def _indicator_headers(view: _View) -> list[str]:
    return [_label(i) for i in view.numeric] + [rate.label_vi for rate in RATES]


def _sheet_grassroots(ws: Worksheet, view: _View) -> None:
    """One row per grassroots organisation, counts and rates across."""
    top = _title_block(ws, view, "Kết quả của từng tổ chức cơ sở đảng")
    fixed = ["STT", "Mã đơn vị", "Tổ chức cơ sở đảng", "Trực thuộc", "Loại tổ chức", "Loại hình"]
    _header(ws, top, [*fixed, *_indicator_headers(view)])
    row = top + 1
    organisations = [u for u in view.units if u["kind"] in GRASSROOTS_KINDS]
    for number, unit in enumerate(organisations, start=1):
        _put(ws, row, 1, number, "count")
        _put(ws, row, 2, unit["code"])
        _put(ws, row, 3, unit["name"], "wrap")
        _put(ws, row, 4, view.name(unit["parent_code"]), "wrap")
        _put(ws, row, 5, KIND_LABELS_VI.get(unit["kind"], unit["kind"]))
        _put(ws, row, 6, SECTOR_LABELS_VI.get(unit["sector"], unit["sector"]), "wrap")
        column = len(fixed) + 1
        for indicator in view.numeric:
            _put(ws, row, column, view.number(unit["code"], indicator.code), "count")
            column += 1
        for rate in RATES:
            _put(ws, row, column, view.number(unit["code"], rate.code), "rate")
            column += 1
        row += 1
    widths = [6, 12, 36, 28, 16, 26] + [14] * (len(view.numeric) + len(RATES))
    _finish(ws, top, widths, freeze_column=4)


def _sheet_sectors(ws: Worksheet, view: _View) -> None:
    """Grassroots organisations of the province by sector, with a total row."""
    top = _title_block(ws, view, "Tổ chức cơ sở đảng theo loại hình")
    given = {code for _, code in view.sector_numbers}
    always = ["grassroots_units", "grassroots_reporting"]
    figures = always + [c for c in REPORTING_FIGURES if c in given and c not in always]
    counted = [*figures, *(i.code for i in view.numeric)]
    headers = [catalogue.label_vi(c) for c in figures] + _indicator_headers(view)
    _header(ws, top, ["Loại hình", *headers])
    present = {sector for sector, _ in view.sector_numbers if sector is not None}
    sectors = [s for s in SECTORS if s in present] + sorted(present - set(SECTORS))
    total = _sector_total(view, sectors)
    row = top + 1
    for sector in [*sectors, None]:
        is_total = sector is None
        label = "Tổng cộng" if is_total else SECTOR_LABELS_VI.get(sector, sector)
        _put(ws, row, 1, label, "wrap")

        def number(code: str, sector: str | None = sector, is_total: bool = is_total):
            return total.get(code) if is_total else view.sector_numbers.get((sector, code))

        column = 2
        for code in counted:
            _put(ws, row, column, number(code), "count")
            column += 1
        for rate in RATES:
            _put(ws, row, column, number(rate.code), "rate")
            column += 1
        if is_total:
            for cell in ws[row]:
                cell.font = _BOLD
        row += 1
    _finish(ws, top, [40] + [14] * (len(counted) + len(RATES)), freeze_column=2)


def _sector_total(view: _View, sectors: list[str]) -> dict[str, float | None]:
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


def _sheet_progress(ws: Worksheet, view: _View) -> None:
    """Every expected unit with the outcome of its submission, a summary on top."""
    ws.cell(row=1, column=1, value=PRODUCT_TITLE_VI).font = _TITLE_FONT
    ws.cell(row=2, column=1, value="Tiến độ nộp báo cáo của các đơn vị").font = _BOLD
    ws.cell(row=3, column=1, value=f"Kỳ báo cáo: {view.period.label_vi}")
    ws.cell(
        row=4,
        column=1,
        value=(
            f"Hạn nộp báo cáo: {format_date(view.source.deadline)}"
            f" — Số liệu tính đến: {format_datetime(view.source.generated_at)}"
        ),
    )
    ws.cell(row=5, column=1, value=_version_line(view.source))
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
    _header(ws, top, headers)
    row = top + 1
    for number, entry in enumerate(view.status, start=1):
        unit = view.by_code.get(entry["unit_code"], {})
        on_time = entry.get("on_time")
        _put(ws, row, 1, number, "count")
        _put(ws, row, 2, entry["unit_code"])
        # indented by level, so that the hierarchy reads down the column
        _put(ws, row, 3, unit.get("name"), f"wrap-{min(unit.get('level') or 0, MAX_INDENT)}")
        _put(ws, row, 4, KIND_LABELS_VI.get(unit.get("kind"), unit.get("kind")))
        _put(ws, row, 5, view.name(unit.get("parent_code")), "wrap")
        _put(ws, row, 6, STATUS_LABELS_VI.get(entry["status"], entry["status"]))
        _put(ws, row, 7, ON_TIME_LABELS_VI.get(on_time) if isinstance(on_time, bool) else None)
        _put(ws, row, 8, entry.get("received_at"), "datetime")
        _put(ws, row, 9, entry.get("file_name"), "wrap")
        _put(ws, row, 10, entry.get("errors"), "count")
        _put(ws, row, 11, entry.get("warnings"), "count")
        row += 1
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{max(row - 1, top)}"
    _finish(ws, top, [6, 12, 40, 20, 32, 24, 11, 17, 28, 8, 10], freeze_column=4)


def _sheet_problems(ws: Worksheet, view: _View) -> None:
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
    _header(ws, top, headers)
    row = top + 1
    for number, problem in enumerate(view.problems, start=1):
        code = problem.get("indicator_code")
        _put(ws, row, 1, number, "count")
        _put(ws, row, 2, problem["unit_code"])
        _put(ws, row, 3, view.name(problem["unit_code"]), "wrap")
        _put(ws, row, 4, problem.get("file_name"), "wrap")
        _put(ws, row, 5, problem.get("received_at"), "datetime")
        _put(ws, row, 6, problem.get("rule"))
        severity = problem.get("severity")
        _put(ws, row, 7, SEVERITY_LABELS_VI.get(severity, severity))
        _put(ws, row, 8, problem.get("row_number"), "count")
        _put(ws, row, 9, code)
        _put(ws, row, 10, catalogue.label_vi(code) if code else None, "wrap")
        _put(ws, row, 11, problem.get("message"), "wrap")
        row += 1
    if not view.problems:
        ws.cell(row=row, column=2, value="Không có lỗi hoặc cảnh báo.")
    else:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{row - 1}"
    _finish(ws, top, [6, 12, 30, 24, 17, 8, 10, 7, 20, 34, 60], freeze_column=4)


def _sheet_texts(ws: Worksheet, view: _View) -> None:
    """Each unit's own assessments and proposals, in hierarchy order."""
    top = _title_block(ws, view, "Ý kiến đánh giá, kiến nghị của các đơn vị")
    _header(ws, top, ["Mã đơn vị", "Tên đơn vị", "Nội dung", "Ý kiến của đơn vị"])
    row = top + 1
    for entry in view.texts:
        code = entry["unit_code"]
        _put(ws, row, 1, code)
        _put(ws, row, 2, view.name(code), "wrap")
        _put(ws, row, 3, catalogue.label_vi(entry["indicator_code"]), "wrap")
        _put(ws, row, 4, entry["text"], "wrap")
        row += 1
    if not view.texts:
        ws.cell(row=row, column=2, value="Không có ý kiến của đơn vị.")
    _finish(ws, top, [12, 32, 24, 100], freeze_column=3)


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


def _sheet_changes(ws: Worksheet, view: _View, changes: Changes) -> None:
    """Which units' reports changed, and every figure that moved, at every level."""
    top = _title_block(ws, view, f"Những thay đổi so với phiên bản {changes.previous} đã công bố")
    row = top
    ws.cell(row=row, column=1, value="1. Đơn vị có báo cáo được tính thay đổi").font = _BOLD
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
    _header(ws, row, unit_headers)
    header_row = row
    row += 1
    units = sorted(
        changes.units.to_dict("records"), key=lambda entry: view._rank(entry["unit_code"])
    )
    for number, entry in enumerate(units, start=1):
        entry = {key: _clean(value) for key, value in entry.items()}
        unit = view.by_code.get(entry["unit_code"], {})
        _put(ws, row, 1, number, "count")
        _put(ws, row, 2, entry["unit_code"])
        _put(ws, row, 3, unit.get("name"), "wrap")
        _put(ws, row, 4, view.name(unit.get("parent_code")), "wrap")
        _put(ws, row, 5, STATUS_LABELS_VI.get(entry["old_status"], entry["old_status"]))
        _put(ws, row, 6, STATUS_LABELS_VI.get(entry["new_status"], entry["new_status"]))
        _put(ws, row, 7, _counted_file(entry["old_file_name"], entry["old_received_at"]), "wrap")
        _put(ws, row, 8, _counted_file(entry["new_file_name"], entry["new_received_at"]), "wrap")
        row += 1
    if not units:
        ws.cell(row=row, column=2, value="Không có đơn vị nào thay đổi báo cáo được tính.")
        row += 1

    row += 1
    ws.cell(row=row, column=1, value="2. Số liệu tổng hợp thay đổi").font = _BOLD
    row += 1
    _header(
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
            view._rank(entry["unit_code"]),
            order.get(entry["indicator_code"], len(order)),
        ),
    )
    rate_codes = {rate.code for rate in RATES}
    for number, entry in enumerate(figures, start=1):
        entry = {key: _clean(value) for key, value in entry.items()}
        code = entry["indicator_code"]
        unit = view.by_code.get(entry["unit_code"], {})
        _put(ws, row, 1, number, "count")
        _put(ws, row, 2, entry["unit_code"])
        _put(ws, row, 3, unit.get("name"), "wrap")
        _put(ws, row, 4, KIND_LABELS_VI.get(unit.get("kind"), unit.get("kind")))
        _put(ws, row, 5, catalogue.label_vi(code), "wrap")
        if code in TEXT_CODES:
            _put(ws, row, 6, _excerpt(entry["old_text"]), "wrap")
            _put(ws, row, 7, _excerpt(entry["new_text"]), "wrap")
            _put(ws, row, 8, "Nội dung thay đổi")
        else:
            kind = "rate" if code in rate_codes else "count"
            old, new = entry["old_number"], entry["new_number"]
            _put(
                ws,
                row,
                6,
                old if old is not None else "(trống)",
                kind if old is not None else "text",
            )
            _put(
                ws,
                row,
                7,
                new if new is not None else "(trống)",
                kind if new is not None else "text",
            )
            if old is not None and new is not None and kind == "count":
                difference = new - old
                sign = "+" if difference > 0 else "−" if difference < 0 else ""
                _put(ws, row, 8, f"{sign}{format_count(abs(difference))}").alignment = _RIGHT
            elif old is not None and new is not None:
                _put(ws, row, 8, _points(new - old))
            else:
                _put(ws, row, 8, None)
        row += 1
    if not figures:
        ws.cell(row=row, column=2, value="Không có số liệu nào thay đổi.")
    _finish(ws, header_row, [6, 12, 36, 30, 40, 26, 26, 26], freeze_column=4)


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


# --------------------------------------------------------------------------- the CSVs


def _csv_number(value: float | None, *, rate: bool) -> str:
    """Whole numbers without `.0`, rates to 6 decimals without trailing zeros, blank as ``."""
    if value is None or math.isnan(value):
        return ""
    if not rate and float(value).is_integer():
        return str(int(value))
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _write_consolidated_csv(view: _View, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unit_code", "unit_name", "kind", "indicator_code", "value"])
        for unit in view.units:
            code = unit["code"]
            identity = [code, unit["name"] or "", unit["kind"]]
            for indicator in view.numeric:
                value = _csv_number(view.number(code, indicator.code), rate=False)
                writer.writerow([*identity, indicator.code, value])
            for rate in RATES:
                value = _csv_number(view.number(code, rate.code), rate=True)
                writer.writerow([*identity, rate.code, value])


def _write_status_csv(view: _View, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unit_code", "status", "on_time", "errors", "warnings"])
        for entry in view.status:
            on_time = entry.get("on_time")
            writer.writerow(
                [
                    entry["unit_code"],
                    entry["status"],
                    "true" if on_time is True else "false" if on_time is False else "",
                    int(entry.get("errors") or 0),
                    int(entry.get("warnings") or 0),
                ]
            )


# --------------------------------------------------------------------------- feedback


def _publish_feedback(view: _View, folders: PublicationFolders) -> dict[str, Path]:
    """A feedback workbook for every unit whose latest file has problems (or whose status is
    rejected or warned), by unit code; each answers one received file and is written once."""
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

    written: dict[str, Path] = {}
    for code in wanted:
        entry = status_by_unit.get(code, {"unit_code": code, "status": "rejected"})
        problems = problems_by_unit.get(code, [])
        number = int(problems[0]["submission_number"]) if problems else 1
        path = folders.final / FEEDBACK_DIR / feedback_name(code, view.period, number)
        if not path.exists():
            write_atomically(
                folders.staged(path),
                lambda p, e=entry, ps=problems: _feedback_workbook(view, e, ps).save(p),
            )
        written[code] = path
    return written


def _outcome_sentences(view: _View, entry: dict, problems: list[dict]) -> list[str]:
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


def _feedback_workbook(view: _View, entry: dict, problems: list[dict]) -> Workbook:
    """A small workbook telling one unit's officer what was wrong with the file it sent."""
    code = entry["unit_code"]
    # The problems describe the latest file received, which may be newer than the one counting.
    source = problems[0] if problems else entry
    workbook = _new_workbook()
    ws = workbook.active
    ws.title = "Phản hồi"
    workbook.properties.creator = "Tổng hợp"
    workbook.properties.created = view.source.generated_at

    ws.cell(row=1, column=1, value="PHẢN HỒI KẾT QUẢ KIỂM TRA BÁO CÁO").font = _TITLE_FONT
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
        ws.cell(row=row, column=1, value=label).font = _BOLD
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        _set_text(ws.cell(row=row, column=4), value)
        ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=len(widths))
        row += 1
    row += 1
    for sentence in _outcome_sentences(view, entry, problems):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(widths))
        cell = ws.cell(row=row, column=1)
        _set_text(cell, sentence)
        cell.font = _BOLD
        cell.alignment = _WRAP
        # A merged cell never grows to fit its text, so give the row the height it needs.
        lines = _wrapped_lines(sentence, sum(widths), bold=True)
        ws.row_dimensions[row].height = LINE_HEIGHT * lines
        row += 1
    row += 1

    top = row
    headers = ["STT", "Dòng", "Mã chỉ tiêu", "Chỉ tiêu", "Quy tắc", "Mức độ", "Nội dung cần sửa"]
    _header(ws, top, headers)
    row += 1
    for number, problem in enumerate(problems, start=1):
        indicator = problem.get("indicator_code")
        severity = problem.get("severity")
        _put(ws, row, 1, number, "count")
        _put(ws, row, 2, problem.get("row_number"), "count")
        _put(ws, row, 3, indicator)
        _put(ws, row, 4, catalogue.label_vi(indicator) if indicator else None, "wrap")
        _put(ws, row, 5, problem.get("rule"))
        _put(ws, row, 6, SEVERITY_LABELS_VI.get(severity, severity))
        _put(ws, row, 7, problem.get("message"), "wrap")
        row += 1
    _finish(ws, top, widths, freeze_column=1)
    return workbook
