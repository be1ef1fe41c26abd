"""Tests of the published outputs (SPEC §7) and of the Vietnamese formatting helpers."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tonghop import catalogue
from tonghop.consolidation import (
    PROBLEM_COLUMNS,
    SECTOR_COLUMNS,
    STATUS_COLUMNS,
    TEXT_COLUMNS,
    Consolidation,
    ConsolidationView,
)
from tonghop.exports import CONSOLIDATED_HEADER, _csv_number, write_consolidated_csv
from tonghop.formatting import format_count, format_date, format_datetime, format_percent
from tonghop.layout import (
    PublicationFolders,
    commit_stage,
    feedback_name,
    workbook_path,
    write_all_atomically,
    write_atomically,
)
from tonghop.parallel import process_pool
from tonghop.periods import Period
from tonghop.publishing import PublishedFiles, publish, workbook_consolidation, write_workbooks
from tonghop.sheets import COUNT_FORMAT

PERIOD = Period(2025, 3)
EVIL_MESSAGE = '=HYPERLINK("http://x","Tổng số hội nghị không khớp")'
EVIL_TEXT = "=cmd|' /C calc'!A0"

UNITS = [
    # code, name, kind, sector, parent_code, level
    ("TU", "Tỉnh ủy Thái Nguyên", "province", None, None, 0),
    ("DUK", "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh", "upper", None, "TU", 1),
    ("G1", "Đảng bộ Sở Tư pháp", "grassroots_committee", "agency", "DUK", 2),
    ("C1", "Chi bộ Văn phòng Sở", "cell", None, "G1", 3),
    ("G2", "Chi bộ Công ty Điện lực", "grassroots_cell", "soe_full", "DUK", 2),
    ("HPB", "Huyện ủy Phú Bình", "upper", None, "TU", 1),
    ("G3", "Đảng bộ xã Kha Sơn", "grassroots_committee", "commune", "HPB", 2),
]
VALUES = [
    # unit_code, indicator_code, number
    ("TU", "members", 14103),
    ("TU", "news_items", 1234567),
    ("TU", "sessions_total", 0),
    ("TU", "secretary_presented", 2),
    ("TU", "attendance_rate", 0.973),
    ("TU", "makeup_rate", math.nan),
    ("TU", "expected_units", 7),
    ("TU", "accepted_units", 5),
    ("TU", "reporting_completeness", 5 / 7),
    ("DUK", "members", 1617),
    ("DUK", "contests", math.nan),
    ("DUK", "attendance_rate", 1.0),
    ("G1", "members", 500),
    ("G1", "attendance_rate", 0.95),
    ("C1", "members", 500),
    ("HPB", "members", 12486),
]
SECTORS = [
    ("agency", "grassroots_units", 1),
    ("agency", "grassroots_reporting", 1),
    ("agency", "members", 500),
    ("agency", "members_exempt", 0),
    ("agency", "members_attended", 475),
    ("agency", "attendance_rate", 0.95),
    ("agency", "grassroots_online", 1),
    ("soe_full", "grassroots_units", 1),
    ("soe_full", "grassroots_reporting", 0),
    ("commune", "grassroots_units", 1),
    ("commune", "grassroots_reporting", 0),
    ("commune", "members", 300),
    ("commune", "members_attended", 290),
    ("commune", "attendance_rate", 290 / 300),
    ("commune", "grassroots_online", 0),
]
RECEIVED = datetime(2025, 10, 8, 9, 15)
STATUS = [
    # unit_code, status, on_time, received_at, file_name, errors, warnings
    ("TU", "accepted", True, datetime(2025, 10, 2, 8, 0), "tu.xlsx", 0, 0),
    ("DUK", "accepted_with_warnings", True, datetime(2025, 10, 3, 14, 30), "duk.xlsx", 0, 1),
    ("G1", "accepted", True, datetime(2025, 10, 4, 7, 45), "g1.xlsx", 0, 0),
    ("C1", "accepted", False, datetime(2025, 10, 12, 16, 5), "c1.xlsx", 0, 0),
    ("G2", "rejected", None, RECEIVED, "=g2.xlsx", 2, 0),
    ("HPB", "accepted", True, datetime(2025, 10, 5, 10, 0), "hpb.xlsx", 0, 0),
    ("G3", "missing", None, None, None, 0, 0),
]
PROBLEMS = [
    # unit_code, file_name, received_at, rule, severity, indicator_code, row_number, message
    ("G2", "=g2.xlsx", RECEIVED, "R1", "error", "sessions_total", 14, EVIL_MESSAGE),
    ("G2", "=g2.xlsx", RECEIVED, "V1", "error", "members", 9, "Giá trị phải là số nguyên."),
    (
        "DUK",
        "duk.xlsx",
        datetime(2025, 10, 3, 14, 30),
        "R4w",
        "warning",
        "members_attended",
        17,
        "Còn đảng viên chưa được thống kê.",
    ),
]
TEXTS = [
    ("G1", "proposals", "Đề nghị tổ chức thêm lớp bồi dưỡng."),
    ("DUK", "highlights", EVIL_TEXT),
    ("DUK", "limitations", "-Một số chi bộ báo cáo chậm."),
]


def make_consolidation(**changes: object) -> Consolidation:
    units = pd.DataFrame(
        UNITS, columns=["code", "name", "kind", "sector", "parent_code", "level"]
    ).assign(position=range(len(UNITS)))
    values = pd.DataFrame(VALUES, columns=["unit_code", "indicator_code", "number"]).assign(
        number=lambda frame: frame["number"].astype(float), text=None
    )
    consolidation = Consolidation(
        period=PERIOD,
        generated_at=datetime(2025, 10, 9, 6, 30),
        deadline=date(2025, 10, 10),
        # Shuffled on purpose: the output follows `position`, not the frame's order.
        units=units.iloc[::-1].reset_index(drop=True),
        values=values,
        sectors=pd.DataFrame(SECTORS, columns=list(SECTOR_COLUMNS)),
        status=pd.DataFrame(STATUS, columns=list(STATUS_COLUMNS)),
        problems=pd.DataFrame(
            # every problem here is about the unit's first file of the period
            [(unit_code, 1, *problem) for unit_code, *problem in PROBLEMS],
            columns=list(PROBLEM_COLUMNS),
        ),
        texts=pd.DataFrame(TEXTS, columns=list(TEXT_COLUMNS)),
    )
    return replace(consolidation, **changes)


def publish_now(
    consolidation: Consolidation, out_dir: Path, *, rewrite: bool = True
) -> PublishedFiles:
    """Publish a version the way the consolidate flow does: staged, then moved into place."""
    folders = PublicationFolders.of(out_dir, consolidation.version)
    files = publish(consolidation, folders, rewrite=rewrite)
    commit_stage(folders)
    return files


@pytest.fixture
def published(tmp_path: Path):
    return publish_now(make_consolidation(), tmp_path / "published" / str(PERIOD))


@pytest.fixture
def workbook(published):
    return openpyxl.load_workbook(published.workbook)


def find_row(sheet, column: int, value: object) -> int:
    for row in sheet.iter_rows(min_col=column, max_col=column):
        if row[0].value == value:
            return row[0].row
    raise AssertionError(f"{value!r} not found in column {column} of {sheet.title}")


def header_row(sheet, first_header: str) -> int:
    return find_row(sheet, 1, first_header)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --------------------------------------------------------------------------- the workbook


def test_files_are_named_after_the_period(published, tmp_path):
    folder = tmp_path / "published" / "2025Q3"
    assert published.workbook == folder / "tong-hop-2025Q3.xlsx"
    assert published.consolidated_csv == folder / "consolidated-2025Q3.csv"
    assert published.status_csv == folder / "status-2025Q3.csv"
    assert all(path.is_file() for path in (published.workbook, published.status_csv))


def test_sheet_titles(workbook):
    assert workbook.sheetnames == [
        "Tổng hợp theo cấp",
        "Tổ chức cơ sở đảng",
        "Theo loại hình",
        "Tiến độ báo cáo",
        "Lỗi và cảnh báo",
        "Ý kiến đơn vị",
    ]


# The levels sheet: label, measure, the province and each upper level, then the code.
CODE_COLUMN = 6


def code_row(sheet, code: str) -> int:
    """The row of an indicator, by its code in the last column."""
    return find_row(sheet, CODE_COLUMN, code)


def test_levels_sheet_puts_the_province_first_then_the_uppers(workbook):
    sheet = workbook["Tổng hợp theo cấp"]
    top = header_row(sheet, "Chỉ tiêu")
    headers = [cell.value for cell in sheet[top]]
    # what a person reads first; the codes, for machines, last
    assert headers == [
        "Chỉ tiêu",
        "Đơn vị tính",
        "Tỉnh ủy Thái Nguyên",
        "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
        "Huyện ủy Phú Bình",
        "Mã chỉ tiêu",
    ]
    assert sheet.cell(row=code_row(sheet, "members"), column=1).value == "Tổng số đảng viên"
    assert "Quý III năm 2025" in sheet["A3"].value and "Tỉnh ủy Thái Nguyên" in sheet["A3"].value
    assert "09/10/2025 06:30" in sheet["A4"].value


def test_levels_sheet_counts_are_numbers_shown_with_dots_and_blank_stays_blank(workbook):
    sheet = workbook["Tổng hợp theo cấp"]
    members = sheet.cell(row=code_row(sheet, "members"), column=3)
    assert members.value == 14103
    assert members.data_type == "n"
    assert members.number_format == COUNT_FORMAT
    assert sheet.cell(row=code_row(sheet, "news_items"), column=3).value == 1234567
    # A reported zero is a zero; a value nobody reported is blank, not 0.
    assert sheet.cell(row=code_row(sheet, "sessions_total"), column=3).value == 0
    assert sheet.cell(row=code_row(sheet, "sessions_total"), column=4).value is None
    assert sheet.cell(row=code_row(sheet, "contests"), column=4).value is None
    assert sheet.cell(row=code_row(sheet, "members"), column=5).value == 12486


def test_levels_sheet_groups_rows_by_section_then_rates(workbook):
    sheet = workbook["Tổng hợp theo cấp"]
    first_column = [cell.value for cell in sheet["A"]]
    codes = [cell.value for cell in sheet["F"]]
    section_a = first_column.index(f"A. {catalogue.SECTION_TITLES_VI['A']}")
    assert codes[section_a + 1] == "members"
    assert first_column.index(f"B. {catalogue.SECTION_TITLES_VI['B']}") < codes.index(
        "sessions_in_person"
    )
    assert codes.index("members") < codes.index("attendance_rate")
    # Text indicators are read in their own sheet, not here.
    assert "highlights" not in codes
    flag_row = code_row(sheet, "secretary_presented")
    assert sheet.cell(row=flag_row, column=3).value == 2
    assert sheet.cell(row=flag_row, column=2).value == "đơn vị"
    assert sheet.cell(row=flag_row, column=1).value == (
        "Số đơn vị có bí thư cấp ủy trực tiếp quán triệt"
    )
    # The figures behind the rates come right before the rates, where given.
    expected_units = code_row(sheet, "expected_units")
    assert sheet.cell(row=expected_units, column=3).value == 7
    assert expected_units < code_row(sheet, "attendance_rate")
    assert "on_time_units" not in codes


def test_rates_are_numbers_shown_as_percentages(workbook):
    sheet = workbook["Tổng hợp theo cấp"]
    attendance = code_row(sheet, "attendance_rate")
    cell = sheet.cell(row=attendance, column=3)
    # a number that sorts, sums and charts; Excel shows it as 97,3% in Vietnamese
    assert cell.value == 0.973 and cell.data_type == "n" and cell.number_format == "0.0%"
    assert sheet.cell(row=attendance, column=4).value == 1.0
    assert sheet.cell(row=attendance, column=5).value is None
    # NaN means undefined: blank, never 0%.
    assert sheet.cell(row=code_row(sheet, "makeup_rate"), column=3).value is None


def test_every_rate_column_of_every_sheet_holds_numbers(workbook):
    labels = {rate.label_vi for rate in catalogue.RATES}
    checked: set[str] = set()
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value not in labels or not cell.font.bold:
                    continue
                for below in sheet.iter_rows(
                    min_row=cell.row + 1, min_col=cell.column, max_col=cell.column
                ):
                    value = below[0].value
                    assert value is None or isinstance(value, int | float), (sheet.title, value)
                    if value is not None:
                        assert below[0].number_format == "0.0%"
                        checked.add(sheet.title)
    assert checked == {"Tổ chức cơ sở đảng", "Theo loại hình"}


def test_every_sheet_prints_its_title_and_page_numbers(workbook):
    for sheet in workbook.worksheets:
        assert sheet.title in sheet.oddHeader.center.text
        assert "Quý III năm 2025" in sheet.oddHeader.center.text
        assert sheet.oddFooter.center.text == "Trang &P/&N"


def test_grassroots_sheet_lists_each_organisation_with_subtotals_per_khoi(workbook):
    sheet = workbook["Tổ chức cơ sở đảng"]
    top = header_row(sheet, "STT")
    rows = [[cell.value for cell in row[:7]] for row in sheet.iter_rows(min_row=top + 1)]
    assert rows == [
        [
            1,
            "G1",
            "Đảng bộ Sở Tư pháp",
            "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
            "Đảng bộ cơ sở",
            "Cơ quan hành chính, đơn vị sự nghiệp, hội",
            "Đã tiếp nhận",
        ],
        [
            2,
            "G2",
            "Chi bộ Công ty Điện lực",
            "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
            "Chi bộ cơ sở",
            "Doanh nghiệp 100% vốn Nhà nước",
            "Bị trả lại",
        ],
        [
            None,
            None,
            "Cộng Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh (2 tổ chức)",
            None,
            None,
            None,
            "Đã tiếp nhận 1/2",
        ],
        [
            3,
            "G3",
            "Đảng bộ xã Kha Sơn",
            "Huyện ủy Phú Bình",
            "Đảng bộ cơ sở",
            "Xã, phường, thị trấn",
            "Chưa nộp",
        ],
        [None, None, "Cộng Huyện ủy Phú Bình (1 tổ chức)", None, None, None, "Đã tiếp nhận 0/1"],
        [None, None, "Tổng cộng (3 tổ chức)", None, None, None, "Đã tiếp nhận 1/3"],
    ]
    headers = [cell.value for cell in sheet[top]]
    members = headers.index("Tổng số đảng viên") + 1
    rate = headers.index(catalogue.label_vi("attendance_rate")) + 1
    assert sheet.cell(row=top + 1, column=members).value == 500
    assert sheet.cell(row=top + 1, column=rate).value == 0.95
    assert sheet.cell(row=top + 2, column=members).value is None
    # subtotals add up the organisations above them, in bold; the rows fold under them
    assert sheet.cell(row=top + 3, column=members).value == 500
    assert sheet.cell(row=top + 3, column=members).font.bold
    assert sheet.cell(row=top + 6, column=members).value == 500
    assert sheet.row_dimensions[top + 1].outlineLevel == 1
    assert sheet.row_dimensions[top + 3].outlineLevel == 0


def test_sectors_sheet_has_a_row_per_sector_and_a_recomputed_total(workbook):
    sheet = workbook["Theo loại hình"]
    top = header_row(sheet, "Loại hình")
    headers = [cell.value for cell in sheet[top]]
    labels = [sheet.cell(row=r, column=1).value for r in range(top + 1, top + 5)]
    assert labels == [
        "Cơ quan hành chính, đơn vị sự nghiệp, hội",
        "Doanh nghiệp 100% vốn Nhà nước",
        "Xã, phường, thị trấn",
        "Tổng cộng",
    ]
    total = top + 4
    assert sheet.cell(row=total, column=2).value == 3
    assert sheet.cell(row=total, column=3).value == 1
    assert sheet.cell(row=total, column=headers.index("Tổng số đảng viên") + 1).value == 800
    rate = headers.index(catalogue.label_vi("attendance_rate")) + 1
    assert sheet.cell(row=total, column=rate).value == pytest.approx(765 / 800)
    online = headers.index(catalogue.label_vi("grassroots_online")) + 1
    assert [sheet.cell(row=r, column=online).value for r in range(top + 1, top + 5)] == [
        1,
        None,
        0,
        1,
    ]
    share = headers.index(catalogue.label_vi("grassroots_online_share")) + 1
    assert sheet.cell(row=total, column=share).value == 1.0
    # No figure to compute it from: blank, not 0%.
    timeliness = headers.index(catalogue.label_vi("reporting_timeliness")) + 1
    assert sheet.cell(row=total, column=timeliness).value is None
    assert sheet.cell(row=top + 2, column=rate).value is None


def test_sectors_total_row_uses_the_given_total_when_there_is_one(tmp_path):
    sectors = pd.concat(
        [
            pd.DataFrame(SECTORS, columns=["sector", "indicator_code", "number"]),
            pd.DataFrame(
                [(None, "grassroots_units", 3), (None, "reporting_completeness", 0.5)],
                columns=["sector", "indicator_code", "number"],
            ),
        ]
    )
    files = publish_now(make_consolidation(sectors=sectors), tmp_path)
    sheet = openpyxl.load_workbook(files.workbook)["Theo loại hình"]
    top = header_row(sheet, "Loại hình")
    headers = [cell.value for cell in sheet[top]]
    total = find_row(sheet, 1, "Tổng cộng")
    assert sheet.cell(row=total, column=2).value == 3
    assert (
        sheet.cell(
            row=total, column=headers.index(catalogue.label_vi("reporting_completeness")) + 1
        ).value
        == 0.5
    )


def test_progress_sheet_shows_every_expected_unit_in_vietnamese(workbook):
    sheet = workbook["Tiến độ báo cáo"]
    top = header_row(sheet, "STT")
    headers = [cell.value for cell in sheet[top]]
    assert headers == [
        "STT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại tổ chức",
        "Trực thuộc",
        "Tình trạng",
        "Đúng hạn?",
        "Thời điểm nhận",
        "Tệp đã nhận",
        "Số lỗi",
        "Số cảnh báo",
    ]
    table = {
        row[1].value: [cell.value for cell in row]
        for row in sheet.iter_rows(min_row=top + 1)
        if row[1].value
    }
    assert list(table) == ["TU", "DUK", "G1", "C1", "G2", "HPB", "G3"]
    assert table["DUK"][3:7] == [
        "Đảng bộ cấp trên cơ sở",
        "Tỉnh ủy Thái Nguyên",
        "Đã tiếp nhận, có cảnh báo",
        "Có",
    ]
    assert table["C1"][5:7] == ["Đã tiếp nhận", "Không"]
    assert table["G2"][5:11] == ["Bị trả lại", None, RECEIVED, "=g2.xlsx", 2, 0]
    assert table["G3"][5:9] == ["Chưa nộp", None, None, None]
    received = sheet.cell(row=find_row(sheet, 2, "G2"), column=8)
    assert received.number_format == r"dd\/mm\/yyyy hh:mm"
    assert sheet.auto_filter.ref == f"A{top}:K{top + 7}"
    summary = [sheet.cell(row=r, column=2).value for r in range(1, top)]
    assert "Số đơn vị phải báo cáo: 7" in summary
    assert "Đã tiếp nhận: 5 (trong đó có cảnh báo: 1) — đạt 71,4%" in summary
    assert "Bị trả lại: 1" in summary
    assert "Chưa nộp: 1" in summary
    assert "Nộp quá hạn: 1" in summary
    # the units whose report does not count stand out, and sort first from A to Z
    rejected, missing = find_row(sheet, 2, "G2"), find_row(sheet, 2, "G3")
    assert sheet.cell(row=rejected, column=3).fill.fgColor.rgb.endswith("F8CBAD")
    assert sheet.cell(row=missing, column=11).fill.fgColor.rgb.endswith("FCE4D6")
    assert sheet.cell(row=find_row(sheet, 2, "G1"), column=3).fill.fill_type is None
    assert sorted(["Đã tiếp nhận", "Bị trả lại", "Chưa nộp"])[:2] == ["Bị trả lại", "Chưa nộp"]


def test_problems_sheet_lists_every_problem_with_labels(workbook):
    sheet = workbook["Lỗi và cảnh báo"]
    top = header_row(sheet, "STT")
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=top + 1)]
    # Hierarchy order (DUK before G2), then by row in the form.
    assert [row[1] for row in rows] == ["DUK", "G2", "G2"]
    assert rows[0][6] == "Cảnh báo"
    assert rows[1][5:11] == ["V1", "Lỗi", 9, "members", "Tổng số đảng viên", rows[1][10]]
    assert rows[2][2] == "Chi bộ Công ty Điện lực"
    assert rows[2][10] == EVIL_MESSAGE


def test_texts_sheet_holds_units_own_texts_in_hierarchy_order(workbook):
    sheet = workbook["Ý kiến đơn vị"]
    top = header_row(sheet, "Mã đơn vị")
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=top + 1)]
    assert rows == [
        [
            "DUK",
            "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
            "Kết quả nổi bật mô hình cách làm hay",
            EVIL_TEXT,
        ],
        [
            "DUK",
            "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
            "Hạn chế",
            "-Một số chi bộ báo cáo chậm.",
        ],
        [
            "G1",
            "Đảng bộ Sở Tư pháp",
            "Kiến nghị đề xuất",
            "Đề nghị tổ chức thêm lớp bồi dưỡng.",
        ],
    ]


def test_no_cell_anywhere_holds_a_formula(published):
    paths = [published.workbook, *published.feedback.values()]
    seen_evil = 0
    for path in paths:
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name}!{sheet.title}!{cell.coordinate}"
                    if cell.value in (EVIL_TEXT, EVIL_MESSAGE, "=g2.xlsx"):
                        assert cell.data_type == "s"
                        seen_evil += 1
    # Text, message and file name in the workbook; message and file name in G2's feedback.
    assert seen_evil >= 6


def test_headers_are_frozen_and_styled_for_reading_and_printing(workbook):
    expected = {
        "Tổng hợp theo cấp": "C8",
        "Tổ chức cơ sở đảng": "D8",
        "Theo loại hình": "B8",
        "Ý kiến đơn vị": "C8",
    }
    for title, pane in expected.items():
        assert workbook[title].freeze_panes == pane
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes is not None
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToHeight == 0
    assert workbook["Tổng hợp theo cấp"].page_setup.fitToWidth == 1
    # Forty indicator columns cannot be read on one page: a few pages across, names repeated.
    wide = workbook["Tổ chức cơ sở đảng"]
    assert wide.page_setup.fitToWidth > 1
    assert wide.print_title_cols == "$A:$C"
    sheet = workbook["Tổng hợp theo cấp"]
    header = sheet.cell(row=header_row(sheet, "Chỉ tiêu"), column=4)
    assert header.font.bold
    assert header.alignment.wrap_text
    assert header.border.bottom.style == "thin"
    assert sheet.column_dimensions["A"].width >= 40
    # A wrapped header too long for one line gets the height of the lines it needs.
    assert sheet.row_dimensions[header.row].height >= 45


# --------------------------------------------------------------------------- the CSVs


def test_consolidated_csv_rows(published):
    rows = read_csv(published.consolidated_csv)
    assert rows[0] == ["unit_code", "unit_name", "kind", "indicator_code", "value"]
    numeric = [i.code for i in catalogue.load_catalogue() if i.kind in ("count", "flag")]
    codes = numeric + [rate.code for rate in catalogue.RATES]
    assert len(rows) == 1 + len(UNITS) * len(codes)
    unit_order = list(dict.fromkeys(row[0] for row in rows[1:]))
    assert unit_order == ["TU", "DUK", "G1", "C1", "G2", "HPB", "G3"]

    given = {
        "members": "14103",
        "news_items": "1234567",
        "sessions_total": "0",
        "secretary_presented": "2",
        "attendance_rate": "0.973",
        "reporting_completeness": "0.714286",
    }
    expected = [
        ["TU", "Tỉnh ủy Thái Nguyên", "province", code, given.get(code, "")] for code in codes
    ]
    assert [row for row in rows if row[0] == "TU"] == expected
    duk = {row[3]: row[4] for row in rows if row[0] == "DUK"}
    assert duk["attendance_rate"] == "1"
    assert duk["contests"] == ""
    assert {row[4] for row in rows if row[0] == "G3"} == {""}


@pytest.mark.parametrize(
    "name",
    ['Chi bộ "Thôn 5", xã Đông', "Đảng bộ\nKhối cơ quan", "Đảng bộ\r", "Đảng ủy Khối; 'A'"],
)
def test_the_consolidated_csvs_are_what_the_csv_module_writes(tmp_path: Path, name: str) -> None:
    consolidation = make_consolidation()
    units = consolidation.units.copy()
    units.loc[units["code"] == "DUK", "name"] = name
    view = ConsolidationView(replace(consolidation, units=units))
    plain, people = tmp_path / "plain.csv", tmp_path / "people.csv"
    write_consolidated_csv(view, plain, also=people)

    codes = [(i.code, False) for i in view.numeric] + [(r.code, True) for r in catalogue.RATES]
    rows = [list(CONSOLIDATED_HEADER)] + [
        [unit["code"], unit["name"] or "", unit["kind"], code, _csv_number(figure, rate=rate)]
        for unit in view.units
        for code, rate in codes
        for figure in [view.figures_of(unit["code"]).get(code)]
    ]
    # The copy for people is what the csv module writes in Excel's dialect; both read back as
    # the rows they hold, whatever line break a name has (the module's plain dialect would leave
    # a lone carriage return bare, and a reader would cut the row there).
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(rows)
    assert people.read_bytes() == expected.getvalue().encode("utf-8-sig")
    for path, encoding in ((plain, "utf-8"), (people, "utf-8-sig")):
        with path.open(encoding=encoding, newline="") as handle:
            read = list(csv.reader(handle))
        assert read == rows and next(row[1] for row in read if row[0] == "DUK") == name
    assert plain.read_bytes().count(b"\n") == len(rows) + sum(row[1].count("\n") for row in rows)


def test_status_csv_rows(published):
    assert read_csv(published.status_csv) == [
        ["unit_code", "status", "on_time", "errors", "warnings"],
        ["TU", "accepted", "true", "0", "0"],
        ["DUK", "accepted_with_warnings", "true", "0", "1"],
        ["G1", "accepted", "true", "0", "0"],
        ["C1", "accepted", "false", "0", "0"],
        ["G2", "rejected", "", "2", "0"],
        ["HPB", "accepted", "true", "0", "0"],
        ["G3", "missing", "", "0", "0"],
    ]


# --------------------------------------------------------------------------- feedback


def test_feedback_exists_exactly_for_rejected_and_warned_units(published, tmp_path):
    folder = tmp_path / "published" / "2025Q3" / "phan-hoi"
    assert published.feedback == {
        "DUK": folder / "DUK-2025Q3.xlsx",
        "G2": folder / "G2-2025Q3.xlsx",
    }
    assert sorted(path.name for path in folder.iterdir()) == ["DUK-2025Q3.xlsx", "G2-2025Q3.xlsx"]


def sheet_texts(path: Path) -> list[object]:
    sheet = openpyxl.load_workbook(path).active
    return [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_feedback_for_a_rejected_unit_lists_what_to_fix(published):
    sheet = openpyxl.load_workbook(published.feedback["G2"]).active
    texts = sheet_texts(published.feedback["G2"])
    assert "Chi bộ Công ty Điện lực — Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh (mã G2)" in texts
    assert "Quý III năm 2025" in texts
    assert "=g2.xlsx" in texts
    assert "08/10/2025 09:15" in texts
    assert "Bị trả lại" in texts
    assert (
        "Báo cáo bị trả lại, chưa được tiếp nhận: tệp có 2 lỗi cần sửa (liệt kê ở bảng dưới đây)."
    ) in texts
    assert "Thời hạn gửi lại: chậm nhất ngày 10/10/2025." in texts
    assert any("giữ nguyên tên trang «BaoCao»" in str(text) for text in texts)
    top = find_row(sheet, 1, "STT")
    assert [cell.value for cell in sheet[top]] == [
        "STT",
        "Dòng (trang BaoCao)",
        "Chỉ tiêu",
        "Nội dung",
        "Cần sửa thế nào",
        "Mức độ",
        "Dành cho cán bộ tổng hợp: mã quy tắc",
        "Dành cho cán bộ tổng hợp: chi tiết kiểm tra",
    ]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=top + 1)] == [
        [
            1,
            9,
            "Tổng số đảng viên",
            "Giá trị phải là số nguyên.",
            "Ghi một số nguyên không âm (ví dụ 12 hoặc 1.117), không kèm chữ, không có phần thập"
            " phân; để trống nếu không có số liệu.",
            "Lỗi",
            "V1",
            None,
        ],
        [
            2,
            14,
            "Tổng số hội nghị học tập quán triệt",
            EVIL_MESSAGE,
            "Ghi lại các số sao cho tổng số hội nghị học tập, quán triệt bằng số hội nghị trực"
            " tiếp cộng số hội nghị trực tuyến cộng số hội nghị kết hợp.",
            "Lỗi",
            "R1",
            None,
        ],
    ]
    assert sheet.freeze_panes == f"A{top + 1}"


def test_feedback_for_a_warned_unit_says_it_was_accepted(published):
    texts = sheet_texts(published.feedback["DUK"])
    assert "Báo cáo đã được tiếp nhận, có 1 cảnh báo (liệt kê ở bảng dưới đây)." in texts
    assert "Báo cáo đã được tiếp nhận; đơn vị không cần gửi lại." in texts
    assert not any("chưa được tiếp nhận" in str(t) or "Thời hạn" in str(t) for t in texts)
    assert "Còn đảng viên chưa được thống kê." in texts


def test_feedback_after_the_deadline_and_with_an_earlier_accepted_version(tmp_path):
    # HPB's earlier file counts; its newer file was rejected and it is told so.
    problems = pd.concat(
        [
            make_consolidation().problems,
            pd.DataFrame(
                [
                    {
                        "unit_code": "HPB",
                        "submission_number": 2,
                        "file_name": "hpb-v2.xlsx",
                        "received_at": datetime(2025, 10, 11, 9, 0),
                        "rule": "R3",
                        "severity": "error",
                        "indicator_code": "members_exempt",
                        "row_number": 10,
                        "message": "Số đảng viên được miễn vượt quá tổng số đảng viên.",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    consolidation = make_consolidation(problems=problems, generated_at=datetime(2025, 10, 12, 6, 0))
    files = publish_now(consolidation, tmp_path)
    assert set(files.feedback) == {"DUK", "G2", "HPB"}
    assert files.feedback["HPB"].name == "HPB-2025Q3-lan2.xlsx"  # its second file's answer
    texts = sheet_texts(files.feedback["HPB"])
    assert "hpb-v2.xlsx" in texts
    assert "Huyện ủy Phú Bình — Tỉnh ủy Thái Nguyên (mã HPB)" in texts
    assert "Hạn gửi báo cáo (ngày 10/10/2025) đã qua; đề nghị gửi lại sớm nhất có thể." in texts
    assert (
        "Báo cáo đơn vị gửi trước đó (tệp «hpb.xlsx», nhận lúc 05/10/2025 10:00) đã được tiếp"
        " nhận và vẫn được dùng để tổng hợp; tệp bị trả lại lần này không thay thế báo cáo đó."
    ) in texts


def test_republishing_keeps_every_feedback_already_published(tmp_path):
    first = publish_now(make_consolidation(), tmp_path)
    consolidated = first.consolidated_csv.read_bytes()
    fixed_status = make_consolidation().status.assign(
        status=lambda frame: frame["status"].replace("accepted_with_warnings", "accepted"),
        warnings=0,
    )
    fixed = make_consolidation(
        status=fixed_status,
        problems=make_consolidation().problems.query("unit_code != 'DUK'"),
    )
    answered = {code: path.read_bytes() for code, path in first.feedback.items()}
    second = publish_now(fixed, tmp_path)
    assert set(second.feedback) == {"G2"}
    # DUK's answer to the file it sent stays published, byte for byte, and so does G2's
    assert {code: path.read_bytes() for code, path in first.feedback.items()} == answered
    assert second.consolidated_csv.read_bytes() == consolidated


def test_no_temporary_files_remain(published, tmp_path):
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []
    assert oct(published.workbook.stat().st_mode & 0o777) == oct(0o644)


@pytest.mark.parametrize("code", ["../TU", "a/b", "", ".hidden", "TU\\x", "TU\n", "x" * 101])
def test_feedback_name_refuses_codes_that_are_not_plain_names(code):
    with pytest.raises(ValueError):
        feedback_name(code, PERIOD)


# --------------------------------------------------------------------------- write_atomically


def test_write_atomically_replaces_the_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    write_atomically(target, lambda path: path.write_text("new", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_atomically_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")

    def half_then_fail(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_many_files_written_at_once_each_appear_whole_and_a_failure_is_theirs_alone(tmp_path):
    (tmp_path / "b.eml").mkdir()  # where b goes, nothing can be written

    def writer(text: str):
        return lambda path: path.write_text(text, encoding="utf-8")

    failed = write_all_atomically(
        (tmp_path / name, writer(name.upper())) for name in ("a.eml", "b.eml", "c.eml")
    )
    assert list(failed) == [tmp_path / "b.eml"] and isinstance(failed[tmp_path / "b.eml"], OSError)
    assert (tmp_path / "a.eml").read_text(encoding="utf-8") == "A.EML"
    assert (tmp_path / "c.eml").read_text(encoding="utf-8") == "C.EML"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.eml", "b.eml", "c.eml"]


def test_many_files_interrupted_leave_nothing_half_written(tmp_path):
    def files():
        yield tmp_path / "a.eml", lambda path: path.write_text("A", encoding="utf-8")
        raise KeyboardInterrupt  # the run stopped before the others were written

    with pytest.raises(KeyboardInterrupt):
        write_all_atomically(files())
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (14103, "14.103"),
        (14103.0, "14.103"),
        (1117, "1.117"),
        (999, "999"),
        (0, "0"),
        (1234567, "1.234.567"),
        (None, ""),
        (math.nan, ""),
        (pd.NA, ""),
    ],
)
def test_format_count(value, expected):
    assert format_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.973, "97,3%"),
        (0.68, "68,0%"),
        (1, "100,0%"),
        (0, "0,0%"),
        (0.00049, "0,0%"),
        (None, ""),
        (math.nan, ""),
    ],
)
def test_format_percent(value, expected):
    assert format_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2025, 10, 5), "05/10/2025"),
        (datetime(2025, 1, 31, 23, 59), "31/01/2025"),
        (pd.Timestamp("2025-12-01"), "01/12/2025"),
        (None, ""),
        (pd.NaT, ""),
    ],
)
def test_format_date(value, expected):
    assert format_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 10, 5, 8, 3), "05/10/2025 08:03"),
        (datetime(2025, 10, 5, 23, 59, 59), "05/10/2025 23:59"),
        (pd.Timestamp("2025-10-05 14:30"), "05/10/2025 14:30"),
        (None, ""),
        (pd.NaT, ""),
    ],
)
def test_format_datetime(value, expected):
    assert format_datetime(value) == expected


def test_a_quiet_period_publishes_without_problems_or_texts(tmp_path):
    consolidation = make_consolidation(
        problems=make_consolidation().problems.iloc[0:0],
        texts=pd.DataFrame(
            [("G1", "highlights", "Chuông\x07 báo\x00 lạ")],
            columns=["unit_code", "indicator_code", "text"],
        ),
        sectors=pd.DataFrame(columns=["sector", "indicator_code", "number"]),
        status=make_consolidation().status.assign(status="accepted", on_time=True, warnings=0),
    )
    files = publish_now(consolidation, tmp_path)
    assert files.feedback == {}
    book = openpyxl.load_workbook(files.workbook)
    problems = book["Lỗi và cảnh báo"]
    assert "Không có lỗi hoặc cảnh báo." in [cell.value for cell in problems["B"]]
    # Control characters a unit pasted in cannot be stored in a workbook; they are dropped.
    assert "Chuông báo lạ" in [cell.value for cell in book["Ý kiến đơn vị"]["D"]]
    sectors = book["Theo loại hình"]
    total = find_row(sectors, 1, "Tổng cộng")
    assert all(cell.value is None for cell in sectors[total][1:])


# --------------------------------------------------------------------------- each upper level's


def test_each_upper_level_gets_a_workbook_of_its_own_subtree(published, workbook):
    assert sorted(published.unit_workbooks) == ["DUK", "HPB"]
    path = published.unit_workbooks["DUK"]
    assert path.name == "tong-hop-2025Q3-DUK.xlsx"
    assert published.workbook_for("DUK") == path and published.workbook_for("TU") == (
        published.workbook
    )
    own = openpyxl.load_workbook(path)
    assert own.sheetnames == workbook.sheetnames  # the same layout
    levels = own["Tổng hợp theo cấp"]
    top = header_row(levels, "Chỉ tiêu")
    assert [cell.value for cell in levels[top]] == [
        "Chỉ tiêu",
        "Đơn vị tính",
        "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh",
        "Mã chỉ tiêu",
    ]
    assert "Đơn vị: Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh" in levels["A3"].value
    progress = own["Tiến độ báo cáo"]
    codes = [row[1].value for row in progress.iter_rows(min_row=header_row(progress, "STT") + 1)]
    assert codes == ["DUK", "G1", "C1", "G2"]  # nothing of the district's
    assert "Số đơn vị phải báo cáo: 4" in [
        progress.cell(row=r, column=2).value for r in range(1, 14)
    ]
    sectors = own["Theo loại hình"]
    labels = [row[0].value for row in sectors.iter_rows(min_row=header_row(sectors, "Loại hình"))]
    assert "Xã, phường, thị trấn" not in labels and "Tổng cộng" in labels
    texts = own["Ý kiến đơn vị"]
    first = header_row(texts, "Mã đơn vị") + 1
    assert {row[0].value for row in texts.iter_rows(min_row=first)} == {"DUK", "G1"}


def test_the_csvs_have_a_copy_people_open_in_excel(published):
    machine, people = published.consolidated_csv, published.excel_csvs[0]
    assert people.name == "consolidated-2025Q3-excel.csv"
    assert people.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in people.read_bytes()
    assert not machine.read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in machine.read_bytes()
    with people.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == read_csv(machine)
    assert published.excel_csvs[1].name == "status-2025Q3-excel.csv"
    assert "Tỉnh ủy Thái Nguyên" in people.read_text(encoding="utf-8-sig")


def _sheets(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


def test_workbooks_written_in_another_process_are_the_ones_written_here(tmp_path):
    consolidation = make_consolidation()
    here = publish_now(consolidation, tmp_path / "here")
    folders = PublicationFolders.of(tmp_path / "pool", consolidation.version)
    with process_pool(1) as pool:
        pooled = publish(consolidation, folders, pool=pool)
    commit_stage(folders)
    assert sorted(path.name for path in (tmp_path / "pool").rglob("*")) == sorted(
        path.name for path in (tmp_path / "here").rglob("*")
    )
    for mine, theirs in [
        (here.workbook, pooled.workbook),
        *((here.unit_workbooks[code], pooled.unit_workbooks[code]) for code in ("DUK", "HPB")),
    ]:
        assert theirs.is_file() and _sheets(theirs) == _sheets(mine)


def test_a_workbook_that_fails_in_another_process_fails_the_publication(tmp_path):
    consolidation = make_consolidation()
    folders = PublicationFolders.of(tmp_path / "pool", consolidation.version)
    # A folder where the province's workbook goes: only that file cannot be written.
    blocked = folders.staged(workbook_path(folders.final, PERIOD, consolidation.version))
    blocked.mkdir(parents=True)
    with process_pool(1) as pool, pytest.raises(IsADirectoryError):
        publish(consolidation, folders, pool=pool)
    assert blocked.is_dir() and not list(blocked.parent.glob(".tong-hop-*.tmp"))


def test_the_index_of_a_consolidation_follows_a_frame_replaced_after_it_was_built():
    consolidation = make_consolidation()
    assert consolidation.view is consolidation.view  # built once
    consolidation.units = consolidation.units[consolidation.units["code"] != "HPB"]
    assert "HPB" not in consolidation.view.by_code


def test_a_workbook_needs_no_figure_below_the_grassroots_organisations(tmp_path):
    consolidation = make_consolidation()
    assert "C1" in set(consolidation.values["unit_code"])  # a cell's figures, in the CSVs
    sent = workbook_consolidation(consolidation)
    assert "C1" not in set(sent.values["unit_code"]) and len(sent.units) == len(UNITS)
    books = [(None, "tong-hop.xlsx"), ("DUK", "tong-hop-DUK.xlsx")]
    write_workbooks(consolidation, [(code, tmp_path / "all" / name) for code, name in books])
    write_workbooks(sent, [(code, tmp_path / "sent" / name) for code, name in books])
    for _, name in books:
        assert _sheets(tmp_path / "sent" / name) == _sheets(tmp_path / "all" / name)
