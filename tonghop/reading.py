"""Reading a submitted form (SPEC §3) tolerantly: safety checks on the untrusted file, the sheet
and the table header found by their text, header fields found by their labels, numbers typed
in Vietnamese style normalised. Only F1 and F2 are decided here; the rest is checked in batch."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from python_calamine import CalamineWorkbook

from tonghop.catalogue import by_code
from tonghop.problems import ERROR, Problem

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Deflate cannot do better than ~1032:1; real sheets stay far below 100:1 even when they are
# mostly empty styled cells, so anything above this on a member of some size is a bomb.
MAX_COMPRESSION_RATIO = 200
_RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_ZIP_MEMBERS = 1_000

SHEET_NAME = "BaoCao"
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0"  # old .xls, and every password-encrypted workbook
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")

_FIELDS = {
    "mã đơn vị": "unit_code",
    "kỳ báo cáo": "period",
    "ngày lập": "prepared_on",
    "người lập": "preparer",
    "phiên bản mẫu": "template_version",
}
_CODE_HEADER = "mã chỉ tiêu"
_VALUE_HEADER = "giá trị"
_NOTE_HEADER = "ghi chú"

_NOT_XLSX = "không phải bảng tính Excel .xlsx hợp lệ (tệp hỏng, bị đặt mật khẩu hoặc sai định dạng)"
_BOMB = (
    "dung lượng sau giải nén hoặc cấu trúc nén của tệp bất thường so với một mẫu báo cáo, hệ "
    "thống không mở tệp để bảo đảm an toàn"
)
_ADVICE_RESAVE = "Đề nghị mở bằng Excel, lưu lại dưới dạng .xlsx và gửi lại."
_ADVICE_TEMPLATE = "Đề nghị dùng đúng mẫu báo cáo đã được gửi, điền số liệu và gửi lại."


@dataclass(frozen=True)
class FormRow:
    """One indicator row of the table as the unit filled it."""

    row_number: int  # 1-based Excel row
    indicator_code: str  # stripped; "" when the row has a value but no code
    value: str | None  # normalised text, None = blank (not reported)
    note: str | None


@dataclass
class FormRead:
    """Everything read from one submitted file; `problems` holds F1 / F2 only."""

    unit_code: str | None
    period: str | None
    prepared_on: str | None
    preparer: str | None
    template_version: str | None
    rows: list[FormRow]
    problems: list[Problem]


# Spaces people (or Excel in a Vietnamese locale) put between thousands: plain, no-break,
# narrow no-break, thin.
_SPACES = " \u00a0\u202f\u2009"
_GROUPED = re.compile(
    rf"^([+-]?)(\d{{1,3}}(?:\.\d{{3}})+|\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d+)(?:,(\d+))?$"
)
_DOT_DECIMAL = re.compile(r"^([+-]?)(\d+)\.(\d+)$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def normalise_number(text: str) -> str:
    """Vietnamese-style number text → canonical digits (`1.117` → `1117`, `1,5` → `1.5`)."""
    stripped = text.strip()
    match = _GROUPED.match(stripped)
    if match:
        sign, integer, fraction = match.groups()
        integer = re.sub(rf"[.{_SPACES}]", "", integer)
    else:
        # `2.5`: a dot not followed by groups of three digits can only be a decimal point.
        match = _DOT_DECIMAL.match(stripped)
        if not match:
            return stripped
        sign, integer, fraction = match.groups()
    integer = integer.lstrip("0") or "0"
    fraction = (fraction or "").rstrip("0")
    number = f"{integer}.{fraction}" if fraction else integer
    return f"-{number}" if sign == "-" and number != "0" else number


def read_form(path: Path, name: str | None = None) -> FormRead:
    """Read one submitted form; a file that cannot be read yields an F1/F2 problem, not an error.

    `name` is the file name the unit sent, used in messages (the archive renames files).
    """
    name = name or path.name
    content, reason = _load_checked(path)
    if content is None:
        return _failed(_f1(name, reason))
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(content)) as workbook:
            sheet_name = _find_sheet(workbook.sheet_names)
            if sheet_name is None:
                names = ", ".join(f"«{n}»" for n in workbook.sheet_names)
                return _failed(
                    Problem(
                        "F2",
                        ERROR,
                        f"Không tìm thấy trang tính «{SHEET_NAME}» trong tệp «{name}» (tệp có "
                        f"các trang: {names}). {_ADVICE_TEMPLATE} Không đổi tên trang tính "
                        f"«{SHEET_NAME}».",
                    )
                )
            grid = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception:  # calamine raises its own error types for every kind of broken file
        return _failed(_f1(name))
    return _read_grid(grid, name)


def _read_grid(grid: list[list[object]], name: str) -> FormRead:
    header = _find_header(grid)
    if header is None:
        fields = _header_fields(grid)
        problem = Problem(
            "F2",
            ERROR,
            f"Không tìm thấy dòng tiêu đề bảng chỉ tiêu (có cột «Mã chỉ tiêu» và «Giá trị») "
            f"trong trang tính «{SHEET_NAME}» của tệp «{name}». {_ADVICE_TEMPLATE} Không xoá "
            f"hoặc sửa dòng tiêu đề của bảng.",
        )
        return FormRead(**fields, rows=[], problems=[problem])
    header_index, code_col, value_col, note_col = header
    fields = _header_fields(grid[:header_index])
    kinds = _kinds()
    rows: list[FormRow] = []
    for index in range(header_index + 1, len(grid)):
        cells = grid[index]
        code = _text(_cell(cells, code_col)) or ""
        raw_value = _cell(cells, value_col)
        if not code and _is_blank(raw_value):
            continue  # blank line, section heading, instruction or signature below the table
        value = _value(raw_value, kinds.get(code))
        note = _text(_cell(cells, note_col)) if note_col is not None else None
        rows.append(FormRow(index + 1, code, value, note))
    return FormRead(**fields, rows=rows, problems=[])


def _load_checked(path: Path) -> tuple[bytes | None, str]:
    """The file's bytes when it is a zip that is safe to hand to the parser, else the reason."""
    try:
        size = path.stat().st_size
        if size > MAX_UNCOMPRESSED_BYTES:
            return None, "tệp quá lớn so với một mẫu báo cáo"
        content = path.read_bytes()
    except OSError:
        return None, "không mở được tệp"
    if not content:
        return None, "tệp rỗng (0 byte)"
    if content.startswith(_OLE2_SIGNATURE):
        return None, (
            "tệp là bảng tính Excel cũ (.xls) hoặc bảng tính có đặt mật khẩu (nếu có mật khẩu, "
            "cần gỡ mật khẩu trước khi lưu)"
        )
    if not content.startswith(_ZIP_SIGNATURES):
        return None, "không phải bảng tính Excel .xlsx (có thể là tệp CSV, PDF hoặc văn bản)"
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return None, _NOT_XLSX
    if len(members) > MAX_ZIP_MEMBERS:
        return None, _BOMB
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        return None, _BOMB
    for member in members:
        compressed = max(member.compress_size, 1)
        if (
            member.file_size > _RATIO_CHECK_MIN_BYTES
            and member.file_size / compressed > MAX_COMPRESSION_RATIO
        ):
            return None, _BOMB
    if not any(member.filename == "xl/workbook.xml" for member in members):
        return None, _NOT_XLSX
    return content, ""


def _f1(name: str, reason: str = _NOT_XLSX) -> Problem:
    return Problem("F1", ERROR, f"Tệp «{name}» không đọc được: {reason}. {_ADVICE_RESAVE}")


def _failed(problem: Problem) -> FormRead:
    return FormRead(None, None, None, None, None, rows=[], problems=[problem])


def _key(text: object) -> str:
    """Text compared as a label: NFC, casefolded, whitespace collapsed, trailing colon dropped."""
    if not isinstance(text, str):
        return ""
    folded = " ".join(unicodedata.normalize("NFC", text.casefold()).split())
    return folded.rstrip(":").rstrip()


def _sheet_key(name: str) -> str:
    """Sheet names compared without case, diacritics or spaces: `Báo cáo` finds `BaoCao`."""
    decomposed = unicodedata.normalize("NFD", name.casefold()).replace("đ", "d")
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())


def _find_sheet(names: list[str]) -> str | None:
    wanted = _sheet_key(SHEET_NAME)
    return next((name for name in names if _sheet_key(name) == wanted), None)


def _find_header(grid: list[list[object]]) -> tuple[int, int, int, int | None] | None:
    """(row index, code column, value column, note column) of the table header row."""
    for index, cells in enumerate(grid):
        keys = [_key(cell) for cell in cells]
        if _CODE_HEADER in keys and _VALUE_HEADER in keys:
            note = keys.index(_NOTE_HEADER) if _NOTE_HEADER in keys else None
            return index, keys.index(_CODE_HEADER), keys.index(_VALUE_HEADER), note
    return None


def _header_fields(grid: list[list[object]]) -> dict[str, str | None]:
    """Header fields found by their labels; each value is the next non-empty cell to the right."""
    fields: dict[str, str | None] = dict.fromkeys(_FIELDS.values())
    for cells in grid:
        for column, cell in enumerate(cells):
            field = _FIELDS.get(_key(cell))
            if field is None or fields[field] is not None:
                continue
            value = next((v for v in cells[column + 1 :] if not _is_blank(v)), None)
            if value is not None:
                fields[field] = _date_text(value) if field == "prepared_on" else _text(value)
    return fields


@cache
def _kinds() -> dict[str, str]:
    return {code: indicator.kind for code, indicator in by_code().items()}


def _cell(cells: list[object], column: int) -> object:
    return cells[column] if column < len(cells) else None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str | None:
    """Any cell as stripped text: numbers without a spurious `.0`, dates in ISO form."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _float_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    # 15 significant digits is what Excel itself shows; it hides binary noise like 0.1 + 0.2.
    text = f"{value:.15g}"
    if "e" in text:
        text = f"{value:.15f}".rstrip("0").rstrip(".")
    return text


def _date_text(value: object) -> str | None:
    """A preparation date: Excel dates and `15/04/2025` typed as text both become ISO."""
    text = _text(value)
    if isinstance(value, str) and text:
        match = _DMY.match(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return text
    return text


def _value(raw: object, kind: str | None) -> str | None:
    text = _text(raw)
    if text is not None and isinstance(raw, str) and kind in ("count", "flag"):
        return normalise_number(text)
    return text
