"""Reading submitted forms tolerantly (SPEC §3) and refusing unreadable files with F1 / F2."""

from __future__ import annotations

import io
import random
import struct
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from tonghop.reading import MAX_UNCOMPRESSED_BYTES, FormRow, normalise_number, read_form

HEADER = ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Giá trị", "Ghi chú"]


def _top(code: object = "CB0101", period: object = "2025Q1") -> list[list[object]]:
    """Rows 1–7 of the generated form."""
    return [
        ["BÁO CÁO KẾT QUẢ HỌC TẬP, QUÁN TRIỆT"],
        [None, "Mã đơn vị", code, "Chi bộ Phòng Tổ chức"],
        [None, "Kỳ báo cáo", period],
        [None, "Ngày lập", date(2025, 4, 8)],
        [None, "Người lập", "Nguyễn Văn An"],
        [None, "Phiên bản mẫu", "2025.1"],
        [],
    ]


def _save(path: Path, rows: list[list[object]], title: str = "BaoCao", *others: str) -> Path:
    workbook = openpyxl.Workbook()
    for name in others:
        workbook.create_sheet(name).append(["Mã chỉ tiêu", "Giá trị"])
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _values(path: Path) -> dict[str, str | None]:
    return {row.indicator_code: row.value for row in read_form(path).rows}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.117", "1117"),
        ("14.103", "14103"),
        ("1.117.000", "1117000"),
        ("1 117", "1117"),
        ("1\u00a0117", "1117"),
        ("1\u202f117", "1117"),
        ("14\u2009103", "14103"),
        ("1,5", "1.5"),
        ("1.117,5", "1117.5"),
        ("1,0", "1"),
        ("2.5", "2.5"),
        ("2.50", "2.5"),
        ("  42 ", "42"),
        ("\u00a042\u00a0", "42"),
        ("007", "7"),
        ("0", "0"),
        ("-3", "-3"),
        ("-0", "0"),
        ("+5", "5"),
        ("abc", "abc"),
        ("12 34", "12 34"),
        ("1..117", "1..117"),
        ("1.1170", "1.117"),
        ("5 người", "5 người"),
        ("", ""),
    ],
)
def test_normalise_number(text: str, expected: str) -> None:
    assert normalise_number(text) == expected


def test_reads_the_standard_layout(tmp_path: Path) -> None:
    rows = [
        *_top(),
        HEADER,
        ["A", None, "Tình hình tổ chức đảng và đảng viên"],
        [1, "members", "Tổng số đảng viên", "người", 14, None],
        [2, "members_exempt", "Số đảng viên được miễn", "người", None, "chưa có số liệu"],
        [3, "sessions_total", "Tổng số hội nghị", "hội nghị", "1.117", None],
        [4, "  essays ", "Số bài thu hoạch", "bài", 2.5, None],
        [5, "secretary_presented", "Bí thư trực tiếp quán triệt", None, True, None],
        [6, "highlights", "Kết quả nổi bật", None, "  Học tập 1.117 lượt  ", "  ghi chú "],
    ]
    form = read_form(_save(tmp_path / "f.xlsx", rows))
    assert form.problems == []
    assert form.unit_code == "CB0101"
    assert form.period == "2025Q1"
    assert form.prepared_on == "2025-04-08"
    assert form.preparer == "Nguyễn Văn An"
    assert form.template_version == "2025.1"
    assert form.rows == [
        FormRow(10, "members", "14", None),
        FormRow(11, "members_exempt", None, "chưa có số liệu"),
        FormRow(12, "sessions_total", "1117", None),
        FormRow(13, "essays", "2.5", None),
        FormRow(14, "secretary_presented", "1", None),
        FormRow(15, "highlights", "Học tập 1.117 lượt", "ghi chú"),
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (1117.0, "1117"),
        (1117, "1117"),
        (0, "0"),
        (-3, "-3"),
        (2.5, "2.5"),
        (0.1 + 0.2, "0.3"),
        (False, "0"),
        (datetime(2025, 4, 8), "2025-04-08"),
        ("1 117", "1117"),
        ("14.103", "14103"),
        ("1,5", "1.5"),
        ("  abc ", "abc"),
        ("   ", None),
        (None, None),
    ],
)
def test_count_cells_are_normalised(tmp_path: Path, cell: object, expected: str | None) -> None:
    path = _save(tmp_path / "f.xlsx", [*_top(), HEADER, [1, "members", "", "", cell]])
    assert _values(path) == {"members": expected}


def test_text_indicators_are_not_taken_for_numbers(tmp_path: Path) -> None:
    rows = [*_top(), HEADER, [1, "proposals", "", "", " 1.117 "], [2, "highlights", "", "", 3.0]]
    assert _values(_save(tmp_path / "f.xlsx", rows)) == {"proposals": "1.117", "highlights": "3"}


def test_rows_inserted_above_the_header_and_columns_moved(tmp_path: Path) -> None:
    rows = [
        ["ĐẢNG BỘ TỈNH"],
        ["CHI BỘ PHÒNG TỔ CHỨC", None, None, "Số: 12-BC/CB"],
        [],
        [None, None, "Mã đơn vị:", None, 1234.0],
        [None, None, "Kỳ báo cáo", "  2025Q1  "],
        [None, None, "Người lập", "Lê Văn Cường"],
        [None, None, "Ngày lập", "15/04/2025"],
        [],
        [],
        ["Ghi chú", "STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Giá trị"],
        [None, 1, "members", "Tổng số đảng viên", "người", 30],
        [None, 2, "sessions_total", "Tổng số hội nghị", "hội nghị", "2"],
    ]
    form = read_form(_save(tmp_path / "f.xlsx", rows))
    assert form.problems == []
    assert (form.unit_code, form.period) == ("1234", "2025Q1")
    assert (form.preparer, form.prepared_on) == ("Lê Văn Cường", "2025-04-15")
    assert form.template_version is None
    assert form.rows == [
        FormRow(11, "members", "30", None),
        FormRow(12, "sessions_total", "2", None),
    ]


@pytest.mark.parametrize(
    "header",
    [
        ["STT", "MÃ CHỈ TIÊU", "CHỈ TIÊU", "ĐƠN VỊ TÍNH", "GIÁ TRỊ", "GHI CHÚ"],
        [unicodedata.normalize("NFD", text) for text in HEADER],
        ["STT", "  Mã   chỉ\ntiêu ", "Chỉ tiêu", "Đơn vị tính", " giá trị", "Ghi chú"],
    ],
    ids=["capitals", "nfd", "spaces"],
)
def test_header_found_however_typed(tmp_path: Path, header: list[str]) -> None:
    assert unicodedata.normalize("NFD", "Mã") != "Mã"  # the NFD case really is decomposed
    rows = [*_top(), header, [1, "members", "", "", 9, "đủ"]]
    form = read_form(_save(tmp_path / "f.xlsx", rows))
    assert form.problems == []
    assert form.rows == [FormRow(9, "members", "9", "đủ")]


def test_nfd_field_labels_are_found(tmp_path: Path) -> None:
    rows = [[None, unicodedata.normalize("NFD", "MÃ ĐƠN VỊ"), "DB01"], HEADER]
    assert read_form(_save(tmp_path / "f.xlsx", rows)).unit_code == "DB01"


def test_blank_rows_and_headings_are_skipped_but_a_value_without_code_is_kept(
    tmp_path: Path,
) -> None:
    rows = [
        *_top(),
        HEADER,
        [],
        ["B", None, "Học tập, quán triệt nghị quyết"],
        [None, "   ", None, None, "   "],
        [1, "essays", "Số bài thu hoạch", "bài", 4],
        [2, None, "Dòng đơn vị tự thêm", None, 7, "không có mã"],
        [3, "members", "Tổng số đảng viên", "người"],
        [],
        [None, None, "Người lập biểu", None, None, "(ký, ghi rõ họ tên)"],
    ]
    form = read_form(_save(tmp_path / "f.xlsx", rows))
    assert form.rows == [
        FormRow(12, "essays", "4", None),
        FormRow(13, "", "7", "không có mã"),
        FormRow(14, "members", None, None),
    ]


@pytest.mark.parametrize("title", ["BaoCao", "baocao", "BAOCAO", "Báo cáo", " Bao Cao "])
def test_sheet_found_by_normalised_name(tmp_path: Path, title: str) -> None:
    rows = [*_top(), HEADER, [1, "members", "", "", 5]]
    path = _save(tmp_path / "f.xlsx", rows, title.strip(), "Hướng dẫn")
    form = read_form(path)
    assert form.problems == []
    assert form.rows == [FormRow(9, "members", "5", None)]


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.title = "BaoCao"
    workbook.active.append(HEADER)
    workbook.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _declared_huge() -> bytes:
    """A real workbook whose central directory claims every member is 2 GB once inflated."""
    content = bytearray(_xlsx_bytes())
    position = content.find(b"PK\x01\x02")
    while position >= 0:
        struct.pack_into("<I", content, position + 24, 0x7FFF_FFFF)
        position = content.find(b"PK\x01\x02", position + 4)
    return bytes(content)


def _high_ratio() -> bytes:
    """Sizes declared honestly, well under the limit, but 2 MB of zeros squeezed into ~2 KB."""
    workbook = zipfile.ZipFile(io.BytesIO(_xlsx_bytes()))
    members = {info.filename: workbook.read(info) for info in workbook.infolist()}
    members["xl/media/image1.png"] = b"\0" * (2 * 1024 * 1024)
    return _zip(members)


def _broken_workbook_xml() -> bytes:
    workbook = zipfile.ZipFile(io.BytesIO(_xlsx_bytes()))
    members = {info.filename: workbook.read(info) for info in workbook.infolist()}
    members["xl/workbook.xml"] = b"<workbook><sheets><sheet name='BaoCao'"
    return _zip(members)


BAD_FILES = {
    "empty": (b"", "rỗng"),
    "random": (random.Random(7).randbytes(4096), "không phải bảng tính Excel .xlsx"),
    "csv": ("Mã chỉ tiêu,Giá trị\nmembers,14\n".encode(), "CSV"),
    "ole2": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088), "mật khẩu"),
    "zip_without_workbook": (_zip({"hello.txt": b"xin chao"}), "không phải bảng tính Excel"),
    "truncated_zip": (_xlsx_bytes()[:1500], "không phải bảng tính Excel"),
    "declared_huge": (_declared_huge(), "bất thường"),
    "high_ratio": (_high_ratio(), "bất thường"),
    "broken_workbook_xml": (_broken_workbook_xml(), "không phải bảng tính Excel"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_unreadable_files_are_f1(tmp_path: Path, case: str) -> None:
    content, reason = BAD_FILES[case]
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(content)
    form = read_form(path)
    assert [(p.rule, p.severity) for p in form.problems] == [("F1", "error")]
    message = form.problems[0].message
    assert message.startswith("Tệp «bao-cao.xlsx» không đọc được: ")
    assert reason in message
    assert "lưu lại dưới dạng .xlsx và gửi lại" in message
    assert form.rows == [] and form.unit_code is None


def test_the_bomb_really_declares_more_than_the_limit() -> None:
    archive = zipfile.ZipFile(io.BytesIO(_declared_huge()))
    assert sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES
    assert len(_high_ratio()) < 100_000


def test_missing_file_is_f1(tmp_path: Path) -> None:
    assert read_form(tmp_path / "khong-co.xlsx").problems[0].rule == "F1"


def test_workbook_without_baocao_is_f2(tmp_path: Path) -> None:
    path = _save(tmp_path / "f.xlsx", [*_top(), HEADER, [1, "members", "", "", 5]], "Sheet1")
    form = read_form(path)
    assert [p.rule for p in form.problems] == ["F2"]
    assert "Không tìm thấy trang tính «BaoCao»" in form.problems[0].message
    assert "«Sheet1»" in form.problems[0].message
    assert form.rows == []


def test_sheet_without_header_row_is_f2(tmp_path: Path) -> None:
    rows = [*_top(), ["STT", "Mã", "Chỉ tiêu", "Đơn vị tính", "Số liệu"], [1, "members", "", "", 5]]
    form = read_form(_save(tmp_path / "f.xlsx", rows))
    assert [p.rule for p in form.problems] == ["F2"]
    assert form.problems[0].message.startswith(
        "Không tìm thấy dòng tiêu đề bảng chỉ tiêu (có cột «Mã chỉ tiêu» và «Giá trị»)"
    )
    assert form.rows == []
    assert form.unit_code == "CB0101"  # still known, so the feedback can name the unit
