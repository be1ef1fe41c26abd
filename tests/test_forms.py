"""The generated form (SPEC §3): what a person sees in Excel, and that it reads back as written."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from tonghop.catalogue import SECTION_TITLES_VI, load_catalogue
from tonghop.forms import TEMPLATE_VERSION, form_indicators, write_form
from tonghop.periods import Period
from tonghop.reading import read_form
from tonghop.registry import Unit

PERIOD = Period(2025, 1)
LEAF = Unit("CB0101", "Chi bộ Phòng Tổ chức", "DB01", "cell", None, None, None, None)
PARENT = Unit(
    "DB01", "Đảng bộ Sở Nội vụ", "HU01", "grassroots_committee", "agency", None, None, None
)
LEAF_ONLY = {i.code for i in load_catalogue() if i.reported_by == "leaf"}
KIND = {i.code: i.kind for i in load_catalogue()}


def _open(path: Path) -> Worksheet:
    return openpyxl.load_workbook(path)["BaoCao"]


def _indicator_rows(sheet: Worksheet) -> dict[str, int]:
    """Indicator code → Excel row, for the rows under the header that carry a code."""
    return {
        sheet.cell(row, 2).value: row
        for row in range(9, sheet.max_row + 1)
        if sheet.cell(row, 2).value
    }


@pytest.fixture
def leaf_sheet(tmp_path: Path) -> Worksheet:
    path = tmp_path / "leaf.xlsx"
    write_form(path, LEAF, PERIOD, has_children=False)
    return _open(path)


@pytest.fixture
def parent_sheet(tmp_path: Path) -> Worksheet:
    path = tmp_path / "parent.xlsx"
    write_form(path, PARENT, PERIOD, has_children=True)
    return _open(path)


def test_header_fields_are_where_the_spec_puts_them(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    write_form(path, LEAF, PERIOD, False, preparer="Nguyễn Văn An", prepared_on=date(2025, 4, 5))
    sheet = _open(path)
    labels = [sheet[f"B{row}"].value for row in range(2, 7)]
    assert labels == ["Mã đơn vị", "Kỳ báo cáo", "Ngày lập", "Người lập", "Phiên bản mẫu"]
    assert sheet["C2"].value == "CB0101"
    assert sheet["C3"].value == "2025Q1"
    assert sheet["C4"].value.date() == date(2025, 4, 5)
    assert sheet["C4"].number_format == "DD/MM/YYYY"
    assert sheet["C5"].value == "Nguyễn Văn An"
    assert sheet["C6"].value == TEMPLATE_VERSION == "2026.1"
    assert sheet["D2"].value == "Chi bộ Phòng Tổ chức"
    assert "NGHỊ QUYẾT" in sheet["A1"].value
    assert "QUÝ I NĂM 2025" in sheet["A1"].value


def test_preparer_and_date_stay_blank_when_not_given(leaf_sheet: Worksheet) -> None:
    assert leaf_sheet["C4"].value is None
    assert leaf_sheet["C5"].value is None
    # Nothing right of a blank C4/C5 that a reader could take for the value.
    assert all(leaf_sheet.cell(row, col).value is None for row in (4, 5) for col in (4, 5, 6))


def test_table_header_is_row_8(leaf_sheet: Worksheet) -> None:
    header = [leaf_sheet.cell(8, col).value for col in range(1, 7)]
    assert header == ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Giá trị", "Ghi chú"]


def test_leaf_form_lists_the_whole_catalogue_in_order(leaf_sheet: Worksheet) -> None:
    rows = _indicator_rows(leaf_sheet)
    assert list(rows) == [i.code for i in load_catalogue()]
    numbers = [leaf_sheet.cell(row, 1).value for row in rows.values()]
    assert numbers == list(range(1, len(rows) + 1))
    members = rows["members"]
    assert leaf_sheet.cell(members, 3).value == "Tổng số đảng viên"
    assert leaf_sheet.cell(members, 4).value == "người"


def test_parent_form_has_no_leaf_indicators(parent_sheet: Worksheet) -> None:
    codes = list(_indicator_rows(parent_sheet))
    leaf_only = {"members", "members_exempt", "members_attended", "members_absent"}
    assert leaf_only | {"members_makeup"} == LEAF_ONLY
    assert not LEAF_ONLY & set(codes)
    assert codes == [i.code for i in form_indicators(True)]
    assert "sessions_total" in codes


def test_section_headings_have_no_code(leaf_sheet: Worksheet) -> None:
    headings = {
        leaf_sheet.cell(row, 3).value
        for row in range(9, leaf_sheet.max_row + 1)
        if leaf_sheet.cell(row, 2).value is None
    }
    assert headings == set(SECTION_TITLES_VI.values())


def test_only_date_preparer_values_and_notes_are_unlocked(leaf_sheet: Worksheet) -> None:
    assert leaf_sheet.protection.sheet is True
    assert not leaf_sheet.protection.password
    for ref in ("C2", "C3", "C6", "B2", "A1"):
        assert leaf_sheet[ref].protection.locked, ref
    for ref in ("C4", "C5"):
        assert not leaf_sheet[ref].protection.locked, ref
    for row in _indicator_rows(leaf_sheet).values():
        for col in (1, 2, 3, 4):
            assert leaf_sheet.cell(row, col).protection.locked
        for col in (5, 6):
            assert not leaf_sheet.cell(row, col).protection.locked


@pytest.mark.parametrize(
    ("kind", "dv_type", "operator", "formula1", "formula2", "word"),
    [
        ("count", "whole", "greaterThanOrEqual", "0", None, "số nguyên không âm"),
        ("flag", "whole", "between", "0", "1", "1 (có) hoặc 0 (không)"),
        ("text", "textLength", "lessThanOrEqual", "10000", None, "10.000 ký tự"),
    ],
)
def test_value_cells_carry_excel_validation(
    leaf_sheet: Worksheet,
    kind: str,
    dv_type: str,
    operator: str,
    formula1: str,
    formula2: str | None,
    word: str,
) -> None:
    rows = _indicator_rows(leaf_sheet)
    validations = [dv for dv in leaf_sheet.data_validations.dataValidation if dv.type == dv_type]
    matching = [dv for dv in validations if dv.operator == operator]
    assert len(matching) == 1
    dv = matching[0]
    assert (dv.formula1, dv.formula2) == (formula1, formula2)
    assert dv.allow_blank and dv.showErrorMessage and dv.errorStyle == "stop"
    assert word in dv.error
    covered = {code for code, row in rows.items() if f"E{row}" in dv.sqref}
    assert covered == {code for code in rows if KIND[code] == kind}


def test_layout_is_readable(leaf_sheet: Worksheet) -> None:
    assert leaf_sheet.column_dimensions["C"].width >= 40
    assert leaf_sheet.column_dimensions["B"].width >= 18
    rows = _indicator_rows(leaf_sheet)
    assert leaf_sheet.cell(rows["members"], 3).alignment.wrap_text
    assert leaf_sheet.cell(rows["highlights"], 5).alignment.wrap_text
    assert leaf_sheet.cell(rows["highlights"], 5).number_format == "@"
    texts = [c.value for row in leaf_sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("chưa báo cáo" in t and "không phải bằng 0" in t for t in texts)


def test_values_are_written_as_given(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    values = {
        "members": 14,
        "sessions_total": "1.117",
        "essays": -3,
        "briefings": "abc",
        "secretary_presented": 1,
        "highlights": "=SUM(A1)",
        "limitations": "Nhiều dòng\nthứ hai",
    }
    write_form(path, LEAF, PERIOD, False, values)
    sheet = _open(path)
    rows = _indicator_rows(sheet)
    written = {code: sheet.cell(rows[code], 5).value for code in values}
    assert written == values
    assert sheet.cell(rows["highlights"], 5).data_type == "s"  # text, not a formula
    assert sheet.cell(rows["attendance"], 5).value is None


def test_codes_outside_the_form_are_appended(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    write_form(path, PARENT, PERIOD, True, {"essays": 2, "members": 30, "khong_co": "5"})
    sheet = _open(path)
    rows = _indicator_rows(sheet)
    last_catalogue_row = rows["proposals"]
    assert rows["members"] == last_catalogue_row + 1
    assert rows["khong_co"] == last_catalogue_row + 2
    assert sheet.cell(rows["members"], 5).value == 30
    assert sheet.cell(rows["khong_co"], 5).value == "5"
    assert sheet.cell(rows["khong_co"], 1).value == len(form_indicators(True)) + 2
    assert not sheet.cell(rows["khong_co"], 5).protection.locked


def test_round_trip_gives_back_the_values(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    values = {
        "members": 14,
        "members_attended": 13,
        "sessions_total": "1.117",
        "secretary_presented": True,
        "essays": 2.5,
        "highlights": "  Tổ chức học tập nghiêm túc.  ",
        "bogus": "x",
    }
    write_form(
        path, LEAF, PERIOD, False, values, preparer="Trần Thị Bình", prepared_on=date(2025, 4, 8)
    )
    form = read_form(path)
    assert form.problems == []
    assert (form.unit_code, form.period, form.template_version) == ("CB0101", "2025Q1", "2026.1")
    assert (form.prepared_on, form.preparer) == ("2025-04-08", "Trần Thị Bình")
    read = {row.indicator_code: row.value for row in form.rows}
    assert list(read) == [*(i.code for i in load_catalogue()), "bogus"]
    assert {code: value for code, value in read.items() if value is not None} == {
        "members": "14",
        "members_attended": "13",
        "sessions_total": "1117",
        "secretary_presented": "1",
        "essays": "2.5",
        "highlights": "Tổ chức học tập nghiêm túc.",
        "bogus": "x",
    }
    sheet = _open(path)
    assert all(sheet.cell(row.row_number, 2).value == row.indicator_code for row in form.rows)


def test_limitations_and_their_causes_are_two_rows(leaf_sheet: Worksheet) -> None:
    rows = _indicator_rows(leaf_sheet)
    assert leaf_sheet.cell(rows["limitations"], 3).value == "Hạn chế"
    assert leaf_sheet.cell(rows["causes"], 3).value == "Nguyên nhân của hạn chế"
    assert rows["causes"] == rows["limitations"] + 1


def test_a_form_of_the_earlier_template_is_still_read(tmp_path: Path) -> None:
    """Template 2025.1 had one row «Hạn chế và nguyên nhân» (`limitations`) and no `causes`."""
    path = tmp_path / "cu.xlsx"
    text = "Đường truyền chưa ổn định. Nguyên nhân do kinh phí hạn hẹp."
    write_form(path, LEAF, PERIOD, False, {"members": 14, "limitations": text})
    book = openpyxl.load_workbook(path)
    sheet = book["BaoCao"]
    rows = _indicator_rows(sheet)
    sheet.cell(rows["limitations"], 3).value = "Hạn chế và nguyên nhân"
    sheet.delete_rows(rows["causes"])
    sheet["C6"] = "2025.1"
    book.save(path)
    form = read_form(path)
    assert form.problems == [] and form.template_version == "2025.1"
    read = {row.indicator_code: row.value for row in form.rows}
    assert read["limitations"] == text and "causes" not in read
