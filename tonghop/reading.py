"""Reading a submitted form (SPEC §3) tolerantly: safety checks on the untrusted file, the sheet
and the table header found by their text, header fields found by their labels, numbers typed
in Vietnamese style normalised. Only F1 and F2 are decided here; the rest is checked in batch.

Every submission is hostile until proven otherwise. Before calamine sees a byte, the file is
sniffed (empty, old .xls, encrypted, CSV, PDF...), its zip structure is checked, and every member
is inflated chunk by chunk against one running byte budget, whatever its headers declare, while
the XML is scanned for DTDs and for what would make calamine allocate without bound. calamine
(Rust, quick-xml) aborts the whole process, not just raises, when an allocation fails, so
anything that could make it allocate without bound has to be refused before it runs."""

from __future__ import annotations

import codecs
import html
import io
import re
import struct
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from python_calamine import CalamineWorkbook

from tonghop.catalogue import by_code
from tonghop.problems import ERROR, Problem
from tonghop.text import visible, without_controls

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Deflate cannot do better than ~1032:1; real sheets stay far below 100:1 even when they are
# mostly empty styled cells, so anything above this on a member of some size is a bomb.
MAX_COMPRESSION_RATIO = 200
_RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_ZIP_MEMBERS = 1_000
# A form may embed a document that embeds another (a chart's workbook inside a Word file);
# deeper nesting only serves to hide a bomb from a check that looks one level down.
MAX_NESTED_ARCHIVES = 3
# calamine builds a dense grid from A1 to the farthest cell (32 bytes a cell, then a Python
# list): one cell at XFD1048576 asks for 550 GB and aborts the process. A form is ~100 x 6.
MAX_SHEET_CELLS = 1_000_000
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# calamine reserves `uniqueCount` strings of sharedStrings.xml up front: a 200-byte part that
# declares 4,000,000,000 of them aborts the process the same way.
MAX_SHARED_STRINGS = 1_000_000
_OUTPUT_CHUNK = 256 * 1024
_INPUT_CHUNK = 64 * 1024

SHEET_NAME = "BaoCao"
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0"  # old .xls, and every password-encrypted workbook
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream encrypted OOXML hides in
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_CENTRAL = b"PK\x01\x02"
_ZIP_SIGNATURES = (_ZIP_LOCAL, b"PK\x05\x06")

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

# Why a file is refused (F1): each names what the file really is, so the unit can fix it.
_NOT_XLSX = "không phải bảng tính Excel .xlsx hợp lệ (tệp hỏng, bị đặt mật khẩu hoặc sai định dạng)"
_UNREADABLE = "không mở được tệp"
_EMPTY = "tệp rỗng (0 byte)"
_TOO_BIG = "tệp quá lớn so với một mẫu báo cáo (trên 50 MB)"
_OLD_XLS = "tệp là bảng tính Excel cũ (.xls, Excel 97–2003), không phải định dạng .xlsx"
_ENCRYPTED = (
    "tệp đã được đặt mật khẩu (bảng tính bị mã hoá) nên hệ thống không đọc được; cần gỡ mật "
    "khẩu trước khi lưu lại"
)
_PDF = "tệp là văn bản PDF, không phải bảng tính Excel .xlsx"
_MARKUP = "tệp là trang web (HTML) hoặc văn bản XML đã đổi đuôi thành .xlsx, không phải bảng tính"
_TEXT = "tệp là văn bản thuần hoặc tệp CSV đã đổi đuôi thành .xlsx, không phải bảng tính Excel"
# The same two, for a file whose name does not claim to be a workbook: it was not renamed, it
# is what its name says.
_MARKUP_AS_NAMED = "tệp là trang web (HTML) hoặc văn bản XML, không phải bảng tính Excel .xlsx"
_TEXT_AS_NAMED = {
    ".csv": "tệp là tệp CSV (văn bản thuần, các cột ngăn cách bằng dấu phẩy), không phải bảng "
    "tính Excel .xlsx",
    ".txt": "tệp là văn bản thuần (.txt), không phải bảng tính Excel .xlsx",
}
_TEXT_OTHER = "tệp là văn bản thuần hoặc tệp CSV, không phải bảng tính Excel .xlsx"
_UNKNOWN = "không phải bảng tính Excel .xlsx (không nhận ra định dạng của tệp)"
_BROKEN = (
    "tệp bị hỏng hoặc chưa được tải về, sao chép trọn vẹn (cấu trúc nén của tệp không đầy đủ "
    "hoặc sai quy cách)"
)
_ZIP_PASSWORD = "tệp nén có đặt mật khẩu nên hệ thống không đọc được; cần gỡ mật khẩu"
_NO_WORKBOOK = "tệp nén (zip) không chứa bảng tính Excel (thiếu phần xl/workbook.xml)"
_XLSB = "tệp là bảng tính Excel nhị phân (.xlsb), không phải định dạng .xlsx"
_DOCX = "tệp là văn bản Word (.docx), không phải bảng tính Excel .xlsx"
_PPTX = "tệp là bản trình chiếu PowerPoint (.pptx), không phải bảng tính Excel .xlsx"
_ODS = "tệp là bảng tính OpenDocument (.ods), không phải định dạng .xlsx"
_ODF = "tệp là tài liệu OpenDocument, không phải bảng tính Excel .xlsx"
_SAFETY = "hệ thống không mở tệp để bảo đảm an toàn"
_BOMB_SIZE = (
    "dung lượng sau giải nén vượt quá 50 MB, bất thường đối với một mẫu báo cáo (dấu hiệu tệp "
    f"«bom nén»); {_SAFETY}"
)
_BOMB_RATIO = (
    "dung lượng sau giải nén lớn bất thường so với kích thước tệp (nén hơn 200 lần, dấu hiệu "
    f"tệp «bom nén»); {_SAFETY}"
)
_BOMB_MEMBERS = (
    f"tệp gồm quá nhiều thành phần nén (trên 1.000), bất thường đối với một mẫu báo cáo; {_SAFETY}"
)
_BOMB_NESTED = (
    "tệp chứa tệp nén lồng nhau có dung lượng sau giải nén bất thường (dấu hiệu tệp «bom nén»); "
    f"{_SAFETY}"
)
_XML_DTD = (
    "nội dung XML trong tệp có khai báo DOCTYPE/ENTITY mà Excel không bao giờ tạo ra (dấu hiệu "
    f"tệp bị làm giả để tấn công hệ thống); {_SAFETY}"
)
_SHEET_AREA = (
    "trang tính có ô dữ liệu ở vị trí bất thường (vùng dữ liệu vượt quá 1.000.000 ô hoặc ngoài "
    f"giới hạn của Excel); {_SAFETY}"
)
_SHARED_STRINGS = (
    "bảng chuỗi ký tự dùng chung (sharedStrings.xml) của tệp khai báo số lượng bất thường; "
    f"{_SAFETY}"
)
_ADVICE_RESAVE = "Đề nghị mở bằng Excel, lưu lại dưới dạng .xlsx và gửi lại."
_ADVICE_TEMPLATE = "Đề nghị dùng đúng mẫu báo cáo đã được gửi, điền số liệu và gửi lại."


@dataclass(frozen=True, slots=True)
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
        return failed_read(_f1(name, _as_named(reason, name)))
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(content)) as workbook:
            sheet_name = _find_sheet(workbook.sheet_names)
            if sheet_name is None:
                names = ", ".join(f"«{visible(n)}»" for n in workbook.sheet_names)
                return failed_read(
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
        return failed_read(_f1(name))
    return _read_grid(grid, name)


# Values up to this long are interned: counts and percentages, not texts.
_INTERNED_LENGTH = 12


def _interned(value: str | None) -> str | None:
    return sys.intern(value) if value is not None and len(value) <= _INTERNED_LENGTH else value


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
        # Interned: a province's 700,000 rows repeat a few dozen codes and small numbers, and
        # one object each (also once per pickled batch) is a tenth of the memory.
        rows.append(FormRow(index + 1, sys.intern(code), _interned(value), note))
    return FormRead(**fields, rows=rows, problems=[])


def _load_checked(path: Path) -> tuple[bytes | None, str]:
    """The file's bytes when it is a workbook safe to hand to calamine, else the reason why not."""
    try:
        if path.stat().st_size > MAX_UNCOMPRESSED_BYTES:
            return None, _TOO_BIG
        content = path.read_bytes()
    except OSError:
        return None, _UNREADABLE
    try:
        _check_file(content)
    except _Refused as refused:
        return None, refused.reason
    return content, ""


# --- safety checks on the untrusted file -------------------------------------------------------


class _Refused(Exception):
    """The file is refused; `reason` says why, in Vietnamese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check_file(content: bytes) -> None:
    if not content:
        raise _Refused(_EMPTY)
    if content.startswith(_OLE2_SIGNATURE):
        raise _Refused(_ENCRYPTED if _ENCRYPTED_PACKAGE in content else _OLD_XLS)
    if not content.startswith(_ZIP_SIGNATURES):
        raise _Refused(_not_an_archive(content))
    members = _members(content)
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise _Refused(_other_archive(content, names))
    _inspect(content, members, _Budget(), depth=0)


def _not_an_archive(content: bytes) -> str:
    """What a file that is no zip at all most likely is, from its first bytes."""
    head = content[:4096]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"%pdf"):
        return _PDF
    if start.startswith(b"<"):
        return _MARKUP  # a web page, or "XML Spreadsheet 2003" saved under the wrong name
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _TEXT  # Excel's "Unicode text" export
    if b"\0" in head:
        return _UNKNOWN
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        # CSV saved in a legacy code page: still mostly printable ASCII (digits, commas).
        printable = sum(32 <= byte < 127 or byte in b"\t\r\n" for byte in head)
        return _TEXT if printable >= 0.8 * len(head) else _UNKNOWN
    return _TEXT


def _members(content: bytes) -> list[zipfile.ZipInfo]:
    """The archive's members, when its structure and declared sizes are plausible for a form."""
    # Counted before zipfile builds an object per central-directory entry, which for a zip of a
    # million empty members would itself take hundreds of MB.
    if content.count(_ZIP_CENTRAL) > MAX_ZIP_MEMBERS:
        raise _Refused(_BOMB_MEMBERS)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except Exception:  # zipfile raises half a dozen error types on hostile bytes
        raise _Refused(_BROKEN) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise _Refused(_BOMB_MEMBERS)
    # Honest headers that already announce a bomb are refused without inflating anything.
    if sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
        raise _Refused(_BOMB_SIZE)
    for member in members:
        if (
            member.file_size > _RATIO_CHECK_MIN_BYTES
            and member.file_size / max(member.compress_size, 1) > MAX_COMPRESSION_RATIO
        ):
            raise _Refused(_BOMB_RATIO)
    return members


def _other_archive(content: bytes, names: set[str]) -> str:
    """What a zip without xl/workbook.xml is: another office format, or just a zip."""
    if "xl/workbook.bin" in names:
        return _XLSB
    if "word/document.xml" in names:
        return _DOCX
    if "ppt/presentation.xml" in names:
        return _PPTX
    if "mimetype" in names:
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("mimetype") as part:
                mimetype = part.read(100)  # read() inflates no more than it returns
        except Exception:
            return _NO_WORKBOOK
        if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return _ODS
        if mimetype.startswith(b"application/vnd.oasis.opendocument"):
            return _ODF
    return _NO_WORKBOOK


class _Budget:
    """Bytes the whole file may inflate to, nested archives included."""

    def __init__(self) -> None:
        self.left = MAX_UNCOMPRESSED_BYTES

    def take(self, size: int, depth: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _Refused(_BOMB_SIZE if depth == 0 else _BOMB_NESTED)


def _inspect(content: bytes, members: list[zipfile.ZipInfo], budget: _Budget, depth: int) -> None:
    """Inflate every member for real, against the budget; scan the parts calamine will parse.

    Declared sizes are only the sender's word: a member may declare 1 KB and inflate to 200 MB,
    and eighty entries may share one stream. (calamine's zip reader happens to stop a member at
    its declared size, "File is larger than its declared uncompressed size", but these limits do
    not rest on that.) Only the top-level archive is scanned as XML: calamine never opens the
    nested ones, which are only counted.
    """
    view = memoryview(content)
    for member in members:
        if member.flag_bits & 0x1:
            raise _Refused(_ZIP_PASSWORD)
        part = _Part(view, member)
        scanner = _XmlScanner() if depth == 0 else None
        nested: bytearray | None = None
        inflated = 0
        for chunk in part.chunks():
            if inflated == 0 and bytes(chunk[:4]) == _ZIP_LOCAL:
                nested = bytearray()
            inflated += len(chunk)
            budget.take(len(chunk), depth)
            if scanner is not None:
                scanner.feed(chunk)
            if nested is not None:
                nested += chunk
        if (
            inflated > _RATIO_CHECK_MIN_BYTES
            and inflated / max(part.consumed, 1) > MAX_COMPRESSION_RATIO
        ):
            raise _Refused(_BOMB_RATIO if depth == 0 else _BOMB_NESTED)
        if scanner is not None:
            scanner.close()
            if scanner.is_sheet:
                _check_sheet(view, member, scanner)
        if nested is not None:
            _inspect_nested(bytes(nested), budget, depth + 1)


def _inspect_nested(content: bytes, budget: _Budget, depth: int) -> None:
    """An archive inside a member: its inflated bytes count against the same budget."""
    if depth > MAX_NESTED_ARCHIVES:
        raise _Refused(_BOMB_NESTED)
    try:
        members = _members(content)
        _inspect(content, members, budget, depth)
    except _Refused as refused:
        # A broken or encrypted embedded file is opaque to calamine and harms nothing.
        if refused.reason not in (_BROKEN, _ZIP_PASSWORD):
            raise _Refused(_BOMB_NESTED) from None


class _Part:
    """The bytes one member really holds, chunk by chunk, whatever its headers declare."""

    def __init__(self, view: memoryview, member: zipfile.ZipInfo) -> None:
        self.view = view
        self.member = member
        self.consumed = 0  # compressed bytes read, known once chunks() is exhausted
        offset = member.header_offset
        if offset < 0 or offset + 30 > len(view) or view[offset : offset + 4] != _ZIP_LOCAL:
            raise _Refused(_BROKEN)
        name_length, extra_length = struct.unpack_from("<HH", view, offset + 26)
        self.start = offset + 30 + name_length + extra_length

    def chunks(self) -> Iterator[bytes | memoryview]:
        view, member, start = self.view, self.member, self.start
        if member.compress_type == zipfile.ZIP_STORED:
            end = start + member.compress_size
            if end > len(view):
                raise _Refused(_BROKEN)
            for position in range(start, end, _OUTPUT_CHUNK):
                yield view[position : min(position + _OUTPUT_CHUNK, end)]
            self.consumed = member.compress_size
            return
        if member.compress_type != zipfile.ZIP_DEFLATED:
            raise _Refused(_BROKEN)  # Excel writes nothing else; calamine reads nothing else
        if member.compress_size == 0:
            return  # readers take the compressed size from the central directory: nothing
        # Fed until the deflate stream ends rather than for `compress_size` bytes: a prefix of a
        # stream never inflates to more than the whole, so this bounds every reader.
        decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        position, pending = start, b""
        try:
            while not decompressor.eof:
                if not pending and position < len(view):
                    pending = view[position : position + _INPUT_CHUNK]
                    position += len(pending)
                out = decompressor.decompress(pending, _OUTPUT_CHUNK)
                pending = decompressor.unconsumed_tail
                if out:
                    yield out
                elif not pending and position >= len(view) and not decompressor.eof:
                    raise _Refused(_BROKEN)  # the file ends inside the stream: truncated
        except zlib.error:
            raise _Refused(_BROKEN) from None
        self.consumed = position - start - len(decompressor.unused_data) - len(pending)


# Markup patterns over raw bytes. quick-xml compares local names only, so `<x:c>` is a cell to
# calamine as much as `<c>`.
_PREFIX = rb"(?:[^\s<>/=\"']*:)?"
_ATTRIBUTE = rb"""\s+[^\s=<>/"']+\s*=\s*(?:"[^"]*"|'[^']*')"""
# calamine never expands entities: quick-xml reports `&lol9;` or `&xxe;` as an unrecognised
# entity and the read fails, and nothing opens file:///etc/passwd (tests/test_reading.py checks
# it on the corpus); it cannot read UTF-16 parts at all. A DTD is still refused outright, with a
# message saying why: Excel never writes one, so it only comes from an attack.
_DTD = re.compile(rb"<!\s*(?:doctype|entity)", re.IGNORECASE)
# The fast path covers what Excel, openpyxl and LibreOffice write: unprefixed cells whose first
# attribute is r="A1". A cell without that (no `r`, a prefix, odd quoting) yields empty groups,
# and the sheet is bounded from counts instead.
_CELL = re.compile(rb'<c(?: r="([A-Z]{1,3})([0-9]{1,7})")?[\s/>]')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
# The same, telling `<c r="XFD9" s="1"/>` (a styled empty cell, which calamine skips) apart;
# attributes are matched as whole quoted values so that a `/>` inside one cannot fake the end.
_CELL_WITH_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?:' + _ATTRIBUTE + rb")*\s*(/?)>")
# For cells placed implicitly: every cell start, every `</row>`, every r="..." value, anywhere.
_ANY_CELL = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_ROW_END = re.compile(rb"</" + _PREFIX + rb"row[\s>]")
_ANY_REFERENCE = re.compile(rb"""\sr\s*=\s*(?:"([A-Za-z]*)([0-9]+)"|'([A-Za-z]*)([0-9]+)')""")
_SCAN_BLOCK = 1024 * 1024
# A whole tag, its end found as quick-xml finds it: the first `>` outside quotes.
_TAG = re.compile(rb"""<(?:[^<>"']|"[^"]*"|'[^']*')*+>""")
_UNIQUE_COUNT = re.compile(rb"""\suniqueCount\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_COUNT = re.compile(rb"\+?0*([0-9]+)")  # what Rust's usize parser accepts
_FAST, _PRECISE, _BOUND = "fast", "precise", "bound"


class _XmlScanner:
    """Scans one member as it is inflated, whole tags at a time, for what calamine cannot bear.

    calamine places a cell at its `r` reference, or else one column right of the previous cell
    (one row down after `</row>`), and allocates a dense grid from A1 to the farthest one. The
    `fast` mode reads the references when every cell has one, styled empty cells included;
    `_check_sheet` then looks again in `precise` mode (empty cells skipped) when that is too far,
    or in `bound` mode when some cell has no reference.
    """

    def __init__(self, mode: str = _FAST) -> None:
        self._mode = mode
        self._first: bytes | memoryview | None = None  # a small part is scanned without copies
        self._pending = bytearray()
        self._last_tag = -1  # where the last `<` of the pending bytes is
        self._retry_at = 0
        self._in_sheet = False
        self.implicit_cells = False
        self.farthest_row = 0
        self.farthest_column = 0
        self.cells = 0
        self.row_ends = 0

    @property
    def is_sheet(self) -> bool:
        return self._in_sheet

    def feed(self, chunk: bytes | memoryview) -> None:
        if self._first is None and not self._pending:
            self._first = chunk
            return
        pending = self._pending
        for piece in (self._first, chunk):
            if piece is not None:
                start = len(pending)
                pending += piece
                last = pending.rfind(b"<", start)
                if last >= 0:
                    self._last_tag = last
        self._first = None
        if len(pending) >= _SCAN_BLOCK:
            self._drain()

    def _drain(self) -> None:
        """Scans everything up to the last tag, so that no pattern is cut in two, and drops the
        text after it, so that a long run of text never piles up."""
        pending, cut = self._pending, self._last_tag
        if cut < 0:
            pending.clear()  # only text since the last whole tag
            return
        if cut == 0 and len(pending) < self._retry_at:
            return  # still one unfinished tag: looked at again once it has doubled, not per chunk
        tag = _TAG.match(pending, cut)
        if tag is not None:
            self._scan(bytes(pending[: tag.end()]))
            pending.clear()
            self._last_tag = -1
            return
        if cut > 0:
            self._scan(bytes(pending[:cut]))
            del pending[:cut]
            self._last_tag = 0
        self._retry_at = 2 * len(pending)

    def close(self) -> None:
        self._scan(bytes(self._first if self._first is not None else self._pending))
        self._first = None
        self._pending.clear()

    def _scan(self, markup: bytes) -> None:
        # Cheap byte searches first: `!` is rare in a sheet, `<` is everywhere.
        if b"!" in markup and _DTD.search(markup):
            raise _Refused(_XML_DTD)
        if b"uniqueCount" in markup:
            _check_shared_strings(markup)
        if not self._in_sheet:
            at = markup.find(b"sheetData")
            if at < 0:
                return
            self._in_sheet = True
            markup = markup[at:]
        if self.implicit_cells:
            return
        if self._mode == _BOUND:
            self._count(markup)
            return
        if self._mode == _PRECISE:
            found = _CELL_WITH_REF.findall(markup)
            if len(found) != len(_CELL.findall(markup)):
                self.implicit_cells = True
                return
            references = [(column, row) for column, row, empty in found if not empty]
        else:
            references = _CELL.findall(markup)
        if not references:
            return
        columns, rows = (set(part) for part in zip(*references, strict=True))
        if b"" in columns or _PREFIXED_CELL.search(markup):
            self.implicit_cells = True
            return
        self.farthest_row = max(self.farthest_row, *map(int, rows))
        self.farthest_column = max(self.farthest_column, *map(_column_number, columns))

    def _count(self, markup: bytes) -> None:
        self.cells += len(_ANY_CELL.findall(markup))
        self.row_ends += len(_ROW_END.findall(markup))
        for letters, digits, letters_in_single, digits_in_single in _ANY_REFERENCE.findall(markup):
            if not digits:
                letters, digits = letters_in_single, digits_in_single
            digits = digits.lstrip(b"0") or b"0"
            row = int(digits) if len(digits) <= 9 else EXCEL_MAX_ROWS + 1
            column = _column_number(letters) if len(letters) <= 3 else EXCEL_MAX_COLUMNS + 1
            self.farthest_row = max(self.farthest_row, row)
            self.farthest_column = max(self.farthest_column, column)


def _check_sheet(view: memoryview, member: zipfile.ZipInfo, scanner: _XmlScanner) -> None:
    """Refuses a sheet whose farthest cell would make calamine's dense grid too large."""
    if not scanner.implicit_cells:
        if _area_fits(scanner.farthest_row, scanner.farthest_column):
            return
        scanner = _rescan(view, member, _PRECISE)
        if not scanner.implicit_cells:
            _check_area(scanner.farthest_row, scanner.farthest_column)
            return
    # Some cell has no reference. calamine's row is some r="..." value of the sheet plus the
    # `</row>` seen since, its column some column of a reference plus the cells seen since: the
    # largest r values plus all those tags bound it, however the markup is nested.
    scanner = _rescan(view, member, _BOUND)
    _check_area(
        max(scanner.farthest_row, 1) + scanner.row_ends,
        scanner.farthest_column + scanner.cells,
    )


def _rescan(view: memoryview, member: zipfile.ZipInfo, mode: str) -> _XmlScanner:
    scanner = _XmlScanner(mode)
    for chunk in _Part(view, member).chunks():
        scanner.feed(chunk)
    scanner.close()
    return scanner


def _check_shared_strings(markup: bytes) -> None:
    # Every `uniqueCount` is checked, not only the one on <sst>: a decoy can only cause a refusal.
    for double, single in _UNIQUE_COUNT.findall(markup):
        value = html.unescape((double or single).decode("utf-8", "replace")).encode()
        count = _COUNT.fullmatch(value)
        if count and (len(count.group(1)) > 9 or int(count.group(1)) > MAX_SHARED_STRINGS):
            raise _Refused(_SHARED_STRINGS)


def _column_number(letters: bytes | str) -> int:
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _area_fits(farthest_row: int, farthest_column: int) -> bool:
    return (
        farthest_row <= EXCEL_MAX_ROWS
        and farthest_column <= EXCEL_MAX_COLUMNS
        and farthest_row * farthest_column <= MAX_SHEET_CELLS
    )


def _check_area(farthest_row: int, farthest_column: int) -> None:
    if not _area_fits(farthest_row, farthest_column):
        raise _Refused(_SHEET_AREA)


def _f1(name: str, reason: str = _NOT_XLSX) -> Problem:
    return Problem("F1", ERROR, f"Tệp «{name}» không đọc được: {reason}. {_ADVICE_RESAVE}")


def _as_named(reason: str, name: str) -> str:
    """A text or markup file's reason says "renamed to .xlsx" only when its name ends so."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx" or reason not in (_TEXT, _MARKUP):
        return reason
    if reason == _MARKUP:
        return _MARKUP_AS_NAMED
    return _TEXT_AS_NAMED.get(suffix, _TEXT_OTHER)


def failed_read(problem: Problem) -> FormRead:
    """What reading a file that could not be read (or was never opened) gives: its problem."""
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
    # A control character (NUL from `_x0000_`, say) means nothing in a report and cannot be
    # stored by PostgreSQL: the stated rule is to drop it, tab and line breaks kept.
    return without_controls(str(value)).strip() or None


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
