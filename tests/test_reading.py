"""Reading submitted forms tolerantly (SPEC §3), and refusing every unreadable or hostile file
with one F1 (or F2) that says why, before calamine ever parses it (tests/corpus/)."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineError, CalamineWorkbook

from tests.corpus.make_corpus import (
    CASES,
    CORPUS_DIR,
    GOOD_VALUES,
    ROOT_RELS,
    Member,
    good_workbook,
    shared_strings_xml,
    sheet_xml,
    workbook_members,
    zip_bytes,
)
from tonghop.reading import (
    MAX_NESTED_ARCHIVES,
    MAX_UNCOMPRESSED_BYTES,
    FormRead,
    FormRow,
    normalise_number,
    read_form,
)

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


# --- files that are no readable form: refused with one F1 that says why -------------------------

CORPUS = {case.file_name: case for case in CASES}


def _write(tmp_path: Path, content: bytes, name: str = "bao-cao.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _assert_f1(form: FormRead, name: str, words: str) -> None:
    assert [(p.rule, p.severity) for p in form.problems] == [("F1", "error")]
    message = form.problems[0].message
    assert message.startswith(f"Tệp «{name}» không đọc được: ")
    assert words in message
    assert message.endswith("Đề nghị mở bằng Excel, lưu lại dưới dạng .xlsx và gửi lại.")
    assert form.rows == [] and form.unit_code is None and form.period is None


@pytest.mark.parametrize("file_name", CORPUS)
def test_every_corpus_file_is_refused_with_one_specific_f1(file_name: str) -> None:
    form = read_form(CORPUS_DIR / file_name)
    _assert_f1(form, file_name, CORPUS[file_name].expect)


def test_the_messages_tell_the_faults_apart() -> None:
    messages = {
        name: read_form(CORPUS_DIR / name).problems[0].message.split(": ", 1)[1] for name in CORPUS
    }
    assert "bom nén" in messages["bomb-nested.xlsx"]
    for name in ("bomb-declared-size.xlsx", "bomb-lying-sizes.xlsx", "bomb-high-ratio.xlsx"):
        assert "dung lượng sau giải nén" in messages[name] and "bất thường" in messages[name]
    assert ".xls" in messages["old-xls.xlsx"] and "mật khẩu" not in messages["old-xls.xlsx"]
    assert "mật khẩu" in messages["encrypted.xlsx"]
    # Ten kinds of wrong file get ten different explanations, not one catch-all.
    kinds = ["empty", "random-bytes", "csv-renamed", "pdf-renamed", "html-renamed", "old-xls"]
    kinds += ["encrypted", "zip-not-workbook", "word-renamed", "ods-renamed"]
    assert len({messages[f"{kind}.xlsx"] for kind in kinds}) == len(kinds)


def test_the_corpus_is_what_make_corpus_writes() -> None:
    for case in CASES:
        assert (CORPUS_DIR / case.file_name).read_bytes() == case.build(), case.file_name
    committed = {path.name for path in CORPUS_DIR.glob("*.xlsx")}
    assert committed == set(CORPUS)
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in CORPUS)


def test_the_control_form_reads_cleanly(tmp_path: Path) -> None:
    """The corpus's faults are the only reason its files fail: without them the form reads."""
    form = read_form(_write(tmp_path, good_workbook()))
    assert form.problems == []
    assert (form.unit_code, form.period, form.preparer) == ("DONVI", "2025Q3", "Nguyễn Văn An")
    assert {row.indicator_code: row.value for row in form.rows} == GOOD_VALUES


def test_bombs_are_inflated_in_chunks_never_whole() -> None:
    """A bomb is measured in 256 KB pieces and dropped at 50 MB; little of it is ever held."""
    for name in ("bomb-lying-sizes.xlsx", "bomb-overlapping.xlsx", "bomb-nested.xlsx"):
        tracemalloc.start()
        try:
            form = read_form(CORPUS_DIR / name)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert form.problems[0].rule == "F1"
        assert peak < 8 * 1024 * 1024, (name, peak)


def test_a_file_over_50_mb_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "lon.xlsx"
    with path.open("wb") as handle:
        handle.truncate(MAX_UNCOMPRESSED_BYTES + 1)  # sparse: nothing is written to disk
    _assert_f1(read_form(path), "lon.xlsx", "tệp quá lớn")


def test_missing_file_is_f1(tmp_path: Path) -> None:
    _assert_f1(read_form(tmp_path / "khong-co.xlsx"), "khong-co.xlsx", "không mở được tệp")


def test_the_name_the_unit_sent_is_the_one_named(tmp_path: Path) -> None:
    path = _write(tmp_path, b"", "3f9a0c.xlsx")
    _assert_f1(read_form(path, "Báo cáo quý 3.xlsx"), "Báo cáo quý 3.xlsx", "tệp rỗng")


def test_a_workbook_calamine_cannot_parse_is_f1(tmp_path: Path) -> None:
    broken = zip_bytes(workbook_members(workbook="<workbook><sheets><sheet name='BaoCao'"))
    _assert_f1(read_form(_write(tmp_path, broken)), "bao-cao.xlsx", "không phải bảng tính Excel")


# --- the sheet scanner: what it lets through, and what it cannot be fooled by -------------------


def _with_sheet(tmp_path: Path, extra_rows: str = "", **replace: str) -> FormRead:
    if "sheet" not in replace:
        replace["sheet"] = sheet_xml(extra_rows=extra_rows)
    return read_form(_write(tmp_path, zip_bytes(workbook_members(**replace))))


def test_cells_without_references_are_read_when_the_sheet_is_small(tmp_path: Path) -> None:
    # Some writers leave `r` out; calamine places such cells one after another.
    rows = '<row><c t="inlineStr"><is><t>Mã chỉ tiêu</t></is></c>'
    rows += '<c t="inlineStr"><is><t>Giá trị</t></is></c></row>'
    rows += '<row><c t="inlineStr"><is><t>members</t></is></c><c><v>7</v></c></row>'
    sheet = sheet_xml([]).replace("<sheetData>", "<sheetData>" + rows)
    form = _with_sheet(tmp_path, sheet=sheet)
    assert form.problems == []
    assert [(row.indicator_code, row.value) for row in form.rows] == [("members", "7")]


def test_styled_empty_cells_far_away_do_not_count(tmp_path: Path) -> None:
    # Excel writes a formatted but empty cell as <c r=".." s=".."/>; calamine skips it.
    far = '<row r="900"><c r="XFD900" s="0"/></row>'
    form = _with_sheet(tmp_path, far)
    assert form.problems == []
    assert {row.indicator_code: row.value for row in form.rows} == GOOD_VALUES


def test_a_long_sheet_is_not_taken_for_an_attack(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{row}"><c r="A{row}"><v>{row}</v></c><c r="F{row}"><v>1</v></c></row>'
        for row in range(20, 20_000)
    )
    assert _with_sheet(tmp_path, rows).problems == []


@pytest.mark.parametrize(
    "far",
    [
        # a `/>` inside an attribute value must not make the cell look empty
        '<row r="1048576"><c r="XFD1048576" x="/>"><v>1</v></c></row>',
        # a prefixed cell is a cell to calamine
        '<row r="1048576"><x:c xmlns:x="urn:x" r="XFD1048576"><v>1</v></x:c></row>',
        # lower-case references and ones where `r` is not the first attribute
        '<row r="5000"><c r="xfd5000"><v>1</v></c></row>',
        '<row r="5000"><c t="n" r="XFD5000"><v>1</v></c></row>',
        "<row r=\"5000\"><c r='XFD5000'><v>1</v></c></row>",
        # a row beyond Excel's last, and a column beyond XFD
        '<row><c r="A12345678"><v>1</v></c></row>',
        '<row><c r="ZZZZ14"><v>1</v></c></row>',
        # a row that resets the count without being seen by calamine, then implicit cells
        '<row r="1048000"></row><row r="1"/>' + '<row><c/><c r="XFD13"><v>1</v></c></row>',
    ],
    ids=["decoy", "prefix", "lowercase", "not-first", "quotes", "row", "column", "reset"],
)
def test_a_far_cell_is_found_however_it_is_written(tmp_path: Path, far: str) -> None:
    form = _with_sheet(tmp_path, far)
    _assert_f1(form, "bao-cao.xlsx", "ô dữ liệu ở vị trí bất thường")


@pytest.mark.parametrize("count", ['"&#52;000000000"', "'4000000000'", '"+0004000000000"'])
def test_a_shared_strings_count_is_read_as_calamine_would(tmp_path: Path, count: str) -> None:
    shared = shared_strings_xml().replace('uniqueCount="7"', f"uniqueCount={count}")
    assert shared != shared_strings_xml()
    form = _with_sheet(tmp_path, shared_strings=shared)
    _assert_f1(form, "bao-cao.xlsx", "sharedStrings.xml")


def test_a_dtd_is_refused_in_any_part_in_any_case(tmp_path: Path) -> None:
    rels = ROOT_RELS.replace("<Relationships", '<!doctype r SYSTEM "x.dtd"><Relationships')
    _assert_f1(_with_sheet(tmp_path, root_rels=rels), "bao-cao.xlsx", "DOCTYPE/ENTITY")


def test_an_embedded_document_is_fine_but_deep_nesting_is_not(tmp_path: Path) -> None:
    docx = zip_bytes([Member("word/document.xml", b"<w:document/>")])
    embedded = [*workbook_members(), Member("xl/embeddings/Document.docx", docx)]
    assert read_form(_write(tmp_path, zip_bytes(embedded))).problems == []
    nested = docx
    for depth in range(MAX_NESTED_ARCHIVES + 1):
        nested = zip_bytes([Member(f"level{depth}.zip", nested)])
    deep = [*workbook_members(), Member("xl/embeddings/Document.docx", nested)]
    _assert_f1(read_form(_write(tmp_path, zip_bytes(deep))), "bao-cao.xlsx", "lồng nhau")


# --- why the checks run before calamine: what calamine itself does -------------------------------


def _calamine(path: Path) -> list[list[object]]:
    with CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())) as workbook:
        sheet = workbook.get_sheet_by_name(workbook.sheet_names[0])
        return sheet.to_python(skip_empty_area=False)


@pytest.mark.parametrize("attack", ["laughs", "xxe"])
def test_calamine_expands_no_entity_and_reads_no_local_file(attack: str) -> None:
    """What reading.py's comment says: quick-xml leaves `&xxe;` unresolved and fails."""
    with pytest.raises(CalamineError, match="unrecognized entity"):
        _calamine(CORPUS_DIR / f"xml-{attack}-sheet.xlsx")
    for part in ("shared-strings", "workbook"):
        with pytest.raises(CalamineError):
            _calamine(CORPUS_DIR / f"xml-{attack}-{part}.xlsx")


def test_calamine_stops_a_member_at_its_declared_size() -> None:
    with pytest.raises(CalamineError, match="larger than its declared uncompressed size"):
        _calamine(CORPUS_DIR / "bomb-lying-sizes.xlsx")


_CALAMINE_ALONE = """
import io, resource, sys
from python_calamine import CalamineWorkbook
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
data = open(sys.argv[1], "rb").read()
with CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
    workbook.get_sheet_by_name("BaoCao").to_python(skip_empty_area=False)
print("survived")
"""


@pytest.mark.parametrize("file_name", ["sheet-far-cell.xlsx", "shared-strings-count.xlsx"])
def test_calamine_alone_would_abort_the_whole_process(file_name: str) -> None:
    """No exception to catch: Rust aborts on the failed allocation, killing a read worker."""
    result = subprocess.run(
        [sys.executable, "-c", _CALAMINE_ALONE, str(CORPUS_DIR / file_name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0 and "survived" not in result.stdout
    assert "memory allocation of" in result.stderr and "failed" in result.stderr


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
