"""Tests of the narrative report: its Vietnamese sentences, the figures in them, what units wrote
as the issuer relays it, the issuer's settings file, and the Word and HTML renderings (escaping
of units' texts included)."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

import docx
import lxml.html
import pandas as pd
import pytest
from PIL import Image

from tests.test_publishing import publish_now
from tonghop import drafting
from tonghop.consolidation import PROBLEM_COLUMNS, SECTOR_COLUMNS, Consolidation
from tonghop.drafting import ReportInputs, draft_reports_side_by_side
from tonghop.formatting import format_count, format_percent
from tonghop.parallel import process_pool
from tonghop.periods import Period
from tonghop.quarter_figures import QuarterFigures
from tonghop.report import (
    DOCX_TEMPLATE,
    change_vi,
    count_vi,
    date_vi,
    period_words,
    report_context,
    section_texts,
    template_tasks,
    write_report,
    write_reports,
)

PERIOD = Period(2025, 3)
EVIL = "{{ 7*7 }} <script>alert('x')</script> & =cmd|' /C calc'!A0 {% raw %}"

UNITS = [
    # code, name, kind, sector, parent_code, level
    ("TU", "Tỉnh ủy Thái Nguyên", "province", None, None, 0),
    ("DUK", "Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh", "upper", None, "TU", 1),
    ("G1", "Đảng bộ Sở Tư pháp", "grassroots_committee", "agency", "DUK", 2),
    ("P1", "Đảng bộ bộ phận Văn phòng", "partial_committee", None, "G1", 3),
    ("C1", "Chi bộ Văn phòng Sở", "cell", None, "P1", 4),
    ("G2", "Chi bộ Công ty Điện lực", "grassroots_cell", "soe_full", "DUK", 2),
    ("HPB", "Huyện ủy Phú Bình", "upper", None, "TU", 1),
    ("G3", "Đảng bộ xã Kha Sơn", "grassroots_committee", "commune", "HPB", 2),
]
TU_FIGURES = {
    "members": 14103,
    "members_exempt": 0,
    "sessions_in_person": 1203,
    "sessions_online": 804,
    "sessions_hybrid": 502,
    "sessions_total": 2509,
    "connection_points": 1024,
    "attendance": 45512,
    "members_attended": 13722,
    "members_absent": 381,
    "members_makeup": 350,
    "essays": 12000,
    "essays_excellent": 2400,
    "action_programs": 9,
    "secretary_presented": 3,
    "awareness_classes": 30,
    "awareness_trainees": 3728,
    "newmember_classes": 10,
    "newmember_trainees": 1555,
    "news_items": 323,
    "briefings": 19,
    "briefing_attendance": 2850,
    "orgs_inspected": 12,
    "collectives_commended": 460,
    "individuals_commended": 1160,
    "members_reprimanded": 0,
    "attendance_rate": 13722 / 14103,
    "makeup_rate": 350 / 381,
    "excellent_essay_rate": 0.2,
    "grassroots_units": 3,
    "grassroots_reporting": 3,
    "grassroots_online": 2,
    "grassroots_online_share": 2 / 3,
    "secretary_presented_reporting": 4,
    "secretary_presented_share": 0.75,
    "expected_units": 8,
    "accepted_units": 5,
    "on_time_units": 4,
    "reporting_completeness": 5 / 8,
    "reporting_timeliness": 4 / 8,
}
OTHER_FIGURES = [
    ("DUK", "members", 1617),
    ("DUK", "attendance_rate", 0.95),
    ("G1", "attendance_rate", 0.95),
    ("G3", "attendance_rate", 0.853),
    ("HPB", "attendance_rate", 0.88),
]
STATUS = [
    # unit_code, status, on_time
    ("TU", "accepted", True),
    ("DUK", "accepted", True),
    ("G1", "accepted", True),
    ("P1", "accepted", True),
    ("C1", "accepted", False),
    ("G2", "rejected", None),
    ("HPB", "accepted", True),
    ("G3", "missing", None),
]
TEXTS = [
    ("TU", "limitations", "Một số chi bộ báo cáo chậm, số liệu chưa đầy đủ."),
    ("TU", "proposals", "Đề nghị Ban Tuyên giáo và Dân vận Trung ương sớm cấp tài liệu."),
    ("G1", "limitations", "Một số chi bộ báo cáo chậm."),
    ("G1", "causes", "Cán bộ kiêm nhiệm nhiều việc."),
    ("G3", "limitations", EVIL),
    ("G3", "causes", "- Cán bộ kiêm nhiệm nhiều việc"),
    # addressed to its parent: the bloc committee relays it, the province does not
    ("G1", "proposals", "Đề nghị Ban Tuyên giáo Tỉnh ủy mở thêm lớp bồi dưỡng."),
    # to the Centre, in two wordings: relayed by both, as one point of two units
    ("G2", "proposals", "Đề nghị Trung ương sớm phát hành tài liệu hỏi - đáp."),
    ("G3", "proposals", "đề nghị Trung ương sớm phát hành tài liệu hỏi đáp"),
    # to its own parent (the district), and naming no one: never relayed to the province
    ("HPB", "proposals", "Đề nghị Huyện ủy Phú Bình hỗ trợ thiết bị."),
    ("C1", "proposals", "Đề nghị hỗ trợ thiết bị cho điểm cầu."),
    ("DUK", "highlights", "Tổ chức hội nghị trực tuyến đến tận chi bộ."),
    ("DUK", "proposals", "Đề nghị Ban Tuyên giáo và Dân vận Tỉnh ủy cử báo cáo viên."),
]


def make_consolidation(figures: dict[str, float] | None = None, texts=TEXTS) -> Consolidation:
    units = pd.DataFrame(
        UNITS, columns=["code", "name", "kind", "sector", "parent_code", "level"]
    ).assign(position=range(len(UNITS)))
    rows = [("TU", code, value) for code, value in (figures or TU_FIGURES).items()]
    values = pd.DataFrame(
        rows + OTHER_FIGURES, columns=["unit_code", "indicator_code", "number"]
    ).assign(number=lambda frame: frame["number"].astype(float), text=None)
    status = pd.DataFrame(STATUS, columns=["unit_code", "status", "on_time"]).assign(
        received_at=None, file_name=None, errors=0, warnings=0
    )
    problems = pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    return Consolidation(
        period=PERIOD,
        generated_at=datetime(2025, 10, 9, 6, 30),
        deadline=date(2025, 10, 10),
        units=units,
        values=values,
        sectors=pd.DataFrame(columns=list(SECTOR_COLUMNS)),
        status=status,
        problems=problems,
        texts=pd.DataFrame(texts, columns=["unit_code", "indicator_code", "text"]),
    )


def previous_consolidation() -> Consolidation:
    figures = dict(TU_FIGURES)
    figures.update(sessions_total=2230, attendance_rate=0.961, action_programs=9, news_items=380)
    return make_consolidation(figures)


def lines(context: dict, section: str) -> str:
    return "\n".join(section_texts(context[section]))


def docx_paragraphs(path: Path) -> list[str]:
    document = docx.Document(str(path))
    found = [p.text for p in document.paragraphs]
    for table in document.tables:
        for cell in table._cells:
            found += [p.text for p in cell.paragraphs]
    return found


def section_two(paragraphs: list[str]) -> list[str]:
    start = paragraphs.index("II. KẾT QUẢ ĐẠT ĐƯỢC")
    end = next(i for i, text in enumerate(paragraphs) if text.startswith("III. "))
    return paragraphs[start + 1 : end]


def styled(path: Path) -> list[tuple[str, str]]:
    """(style name, text) of the body's paragraphs."""
    return [(p.style.name, p.text) for p in docx.Document(str(path)).paragraphs]


def numbers_in(text: str) -> list[str]:
    """Vietnamese-formatted numbers: 14.103, 97,3%, 04."""
    return re.findall(r"\d{1,3}(?:\.\d{3})*(?:,\d+)?%?", text)


# --------------------------------------------------------------------------- wording


def test_counts_dates_and_changes_in_vietnamese_style() -> None:
    assert count_vi(14103) == "14.103"
    assert count_vi(4) == "04"  # as the seeds write small counts
    assert count_vi(0) == "0"
    assert count_vi(None) == ""
    assert change_vi(2509, 2230) == "tăng 12,5% so với quý trước"
    assert change_vi(90, 100) == "giảm 10,0% so với quý trước"
    assert change_vi(9, 9) == "bằng quý trước"
    assert change_vi(9, None) == "" and change_vi(None, 9) == ""
    assert change_vi(0.973, 0.961, rate=True) == "tăng 1,2 điểm phần trăm so với quý trước"
    assert change_vi(90, 100, compared="cùng kỳ năm trước") == "giảm 10,0% so với cùng kỳ năm trước"
    assert change_vi(9, 9, compared="cùng kỳ năm trước") == "bằng cùng kỳ năm trước"
    # days under 10 and months under 3 with a zero, as Party documents write them
    assert date_vi(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert date_vi(date(2026, 12, 6)) == "ngày 06 tháng 12 năm 2026"


def test_heading_block_defaults_come_from_the_registry() -> None:
    context = report_context(make_consolidation(), "DUK", issued_on=date(2025, 10, 15))
    assert context["superior"] == "ĐẢNG BỘ TỈNH THÁI NGUYÊN"
    assert context["issuer"] == "ĐẢNG ỦY KHỐI CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
    assert context["number"] == "Số      -BC/ĐUK"
    assert context["place_date"] == "Thái Nguyên, ngày 15 tháng 10 năm 2025"
    assert context["recipients"] == [
        "Ban Thường vụ Tỉnh ủy (b/c),",
        "Ban Tuyên giáo và Dân vận Tỉnh ủy (b/c),",
        "Các tổ chức cơ sở đảng trực thuộc,",
        "Lưu VT.",
    ]
    province = report_context(make_consolidation(), "TU")
    assert province["superior"] == "" and province["number"].endswith("-BC/TU")
    # the draft is dated the day it was drafted
    assert province["place_date"] == "Thái Nguyên, ngày 09 tháng 10 năm 2025"
    assert "quý III năm 2025" in province["title"]
    assert province["recipients"][0] == "Ban Tuyên giáo và Dân vận Trung ương (b/c),"
    assert province["recipients"][-1] == "Lưu VT."
    district = report_context(make_consolidation(), "HPB")
    assert district["number"].endswith("-BC/HU")
    assert district["place_date"].startswith("Phú Bình, ngày")


def test_the_issuer_settings_file_is_written_once_then_read(tmp_path: Path) -> None:
    folder = tmp_path / "thiet-lap-bao-cao"
    report_context(make_consolidation(), "TU", settings_folder=folder)
    settings = folder / "TU.toml"
    assert (folder / "mau-bao-cao.docx").is_file()
    text = settings.read_text(encoding="utf-8")
    assert 'dia_danh = "Thái Nguyên"' in text and "# Địa danh ở dòng ngày tháng" in text
    edited = (
        text.replace('so = ""', 'so = "27"')
        .replace('nguoi_ky = ""', 'nguoi_ky = "Nguyễn Văn An"')
        .replace('chuc_vu = "BÍ THƯ"', 'chuc_vu = "PHÓ BÍ THƯ"')
        .replace('"Lưu VT",', '"Ban Thường vụ Tỉnh ủy",\n    "Lưu VT",')
    )
    settings.write_text(edited, encoding="utf-8")
    context = report_context(make_consolidation(), "TU", settings_folder=folder)
    assert context["number"] == "Số 27-BC/TU"
    assert (context["signer_title"], context["signer_name"]) == ("PHÓ BÍ THƯ", "Nguyễn Văn An")
    assert context["recipients"][-2:] == ["Ban Thường vụ Tỉnh ủy,", "Lưu VT."]
    # a file the operator broke: the draft still comes, with the defaults, and says why
    settings.write_text('so = "27\n', encoding="utf-8")
    broken = report_context(make_consolidation(), "TU", settings_folder=folder)
    assert broken["number"] == "Số      -BC/TU"
    assert any("TU.toml" in line and "có lỗi" in line for line in broken["draft_note"])


def test_units_are_named_with_their_organisation_and_never_alike() -> None:
    units = [*UNITS, ("G4", "Đảng bộ Sở Y tế", "grassroots_committee", "agency", "DUK", 2)]
    units += [("C4", "Chi bộ Văn phòng Sở", "cell", None, "G4", 3)]
    consolidation = make_consolidation()
    consolidation.units = pd.DataFrame(
        units, columns=["code", "name", "kind", "sector", "parent_code", "level"]
    ).assign(position=range(len(units)))
    from tonghop.consolidation import ConsolidationView

    names = ConsolidationView(consolidation).display_names
    assert names["C1"] == "Chi bộ Văn phòng Sở (Đảng bộ Sở Tư pháp)"
    assert names["C4"] == "Chi bộ Văn phòng Sở (Đảng bộ Sở Y tế)"
    assert names["G1"] == "Đảng bộ Sở Tư pháp"
    assert len(set(names.values())) == len(names)


def test_situation_and_results_state_the_basis_of_each_sum() -> None:
    context = report_context(make_consolidation(), "TU")
    situation = lines(context, "situation")
    assert "Theo báo cáo của 5/8 đơn vị, tổng số đảng viên là 14.103 đồng chí." in situation
    assert "03 tổ chức cơ sở đảng, trong đó: 02 đảng bộ cơ sở, 01 chi bộ cơ sở" in situation
    assert "01 đảng bộ bộ phận" in situation and "01 chi bộ trực thuộc" in situation
    assert "có 5/8 đơn vị đã gửi báo cáo được tiếp nhận (đạt 62,5%)" in situation
    results = lines(context, "results")
    assert results.startswith("Theo báo cáo của 5/8 đơn vị, kết quả cụ thể như sau:")
    assert (
        "Trong quý, toàn Đảng bộ tổ chức 2.509 hội nghị nghiên cứu, học tập, quán triệt, trong "
        "đó 1.203 hội nghị trực tiếp, 804 hội nghị trực tuyến và 502 hội nghị trực tiếp kết hợp "
        "trực tuyến (các hội nghị trực tuyến, trực tiếp kết hợp trực tuyến có 1.024 điểm cầu), "
        "thu hút 45.512 lượt cán bộ, đảng viên, người lao động tham gia."
    ) in results
    assert "13.722 đồng chí, đạt 97,3%" in results
    assert "2/3 tổ chức cơ sở đảng có báo cáo (66,7%) đã tổ chức học tập" in results
    assert "12.000 bài thu hoạch, trong đó 2.400 bài xếp loại xuất sắc, chiếm 20,0%" in results
    assert "30 lớp bồi dưỡng nhận thức về Đảng cho 3.728 quần chúng ưu tú" in results
    assert "10 lớp bồi dưỡng lý luận chính trị cho 1.555 đảng viên mới" in results
    assert "Có 460 tập thể và 1.160 cá nhân được biểu dương" in results
    assert "Đồng chí bí thư cấp ủy trực tiếp quán triệt tại 03 đơn vị, chiếm 75,0%" in results
    # a 0 is said plainly; figures nobody reported are left out, not written as 0
    assert "Có 0 đảng viên bị phê bình" in results
    assert "quán triệt tại 12 tổ chức đảng." in results  # no supervision figures: no clause
    assert "cuộc thi" not in results
    assert "so với quý trước" not in results  # no previous quarter given
    # the wording slips of earlier drafts
    assert "Có 03 đơn vị có" not in results and "Còn " not in lines(context, "limitations")


def test_unit_without_figures_says_nothing_about_them() -> None:
    results = lines(report_context(make_consolidation(), "HPB"), "results")
    assert "hội nghị" not in results and "bài thu hoạch" not in results
    assert "tham gia học tập đạt 88,0%" in results


def test_change_from_previous_quarter() -> None:
    context = report_context(make_consolidation(), "TU", previous=previous_consolidation())
    results = lines(context, "results")
    assert "số hội nghị tăng 12,5% so với quý trước" in results
    assert "(tăng 1,2 điểm phần trăm so với quý trước)" in results
    assert "kế hoạch thực hiện, bằng quý trước" in results
    assert "323 tin, bài tuyên truyền (giảm 15,0% so với quý trước)" in results


def test_limitations_count_by_branch_and_name_units_in_the_appendix() -> None:
    context = report_context(make_consolidation(), "TU", attendance_threshold=0.9)
    limitations = lines(context, "limitations")
    assert limitations.startswith("1. Hạn chế\n")
    assert (
        "- Có 01 đơn vị chưa gửi báo cáo (Huyện ủy Phú Bình: 01), danh sách tại Phụ lục 1."
    ) in limitations
    assert "Có 01 đơn vị gửi báo cáo chậm so với thời hạn (Đảng ủy Khối Cơ quan và" in limitations
    assert "dưới 90,0% (Huyện ủy Phú Bình: 02), danh sách tại Phụ lục 2." in limitations
    # the body names no unit below the issuer's children: they are in the appendix
    assert "Kha Sơn" not in limitations and "Chi bộ Văn phòng Sở" not in limitations
    # the issuer's own limitation is its own statement; a unit's near-identical one merges
    # into it, the others are counted
    assert "- Một số chi bộ báo cáo chậm, số liệu chưa đầy đủ." in limitations
    assert "Một số chi bộ báo cáo chậm. (" not in limitations
    assert f"- {EVIL} (01 đơn vị nêu)." in limitations
    # causes follow, the same point from two units once
    causes = limitations.split("2. Nguyên nhân\n")[1]
    assert causes == "- Cán bộ kiêm nhiệm nhiều việc (02 đơn vị nêu)."
    appendix = context["appendix"]
    assert [table["title"] for table in appendix] == [
        "Đơn vị chưa gửi báo cáo, bị trả lại hoặc gửi chậm",
        "Tổ chức đảng có tỷ lệ đảng viên tham gia học tập dưới 90,0%",
        "Ý kiến của các đơn vị đã tổng hợp trong báo cáo",
    ]
    rows = [(row["text"], row["value"]) for row in appendix[0]["rows"]]
    assert ("Đảng bộ xã Kha Sơn", "") in rows
    # a cell carries its grassroots organisation, even under a partial committee
    assert ("Chi bộ Văn phòng Sở (Đảng bộ Sở Tư pháp)", "") in rows
    assert [row["text"] for row in appendix[1]["rows"]] == [
        "Huyện ủy Phú Bình",
        "Đảng bộ xã Kha Sơn",
    ]
    opinions = {row["text"]: row["value"] for row in appendix[2]["rows"]}
    assert opinions["Cán bộ kiêm nhiệm nhiều việc."] == "02: Đảng bộ Sở Tư pháp; Đảng bộ xã Kha Sơn"
    # only the unit's own subtree
    duk = lines(report_context(make_consolidation(), "DUK"), "limitations")
    assert "Huyện ủy Phú Bình" not in duk and "Một số chi bộ báo cáo chậm (01 đơn vị nêu)." in duk


def test_a_form_of_the_old_template_keeps_its_text_under_limitations() -> None:
    combined = "Đường truyền chưa ổn định. Nguyên nhân do kinh phí hạn hẹp."
    context = report_context(make_consolidation(texts=[("G1", "limitations", combined)]), "DUK")
    limitations, causes = lines(context, "limitations").split("2. Nguyên nhân\n")
    assert "Đường truyền chưa ổn định (01 đơn vị nêu)." in limitations
    assert "Nguyên nhân do kinh phí hạn hẹp (01 đơn vị nêu)." in limitations
    assert causes.startswith("Các đơn vị chưa nêu nguyên nhân")


def test_only_proposals_addressed_above_the_issuer_are_relayed() -> None:
    province = lines(report_context(make_consolidation(), "TU"), "proposals")
    assert province.split("\n") == [
        "Đề nghị Ban Tuyên giáo và Dân vận Trung ương sớm cấp tài liệu.",
        "- Có 02 đơn vị đề nghị Trung ương sớm phát hành tài liệu hỏi - đáp.",
    ]
    context = report_context(make_consolidation(), "DUK")
    assert lines(context, "proposals").split("\n") == [
        "Đề nghị Ban Tuyên giáo và Dân vận Tỉnh ủy cử báo cáo viên.",
        "- Có 01 đơn vị đề nghị Ban Tuyên giáo Tỉnh ủy mở thêm lớp bồi dưỡng.",
        "- Có 01 đơn vị đề nghị Trung ương sớm phát hành tài liệu hỏi - đáp.",
    ]
    # what stays with the issuer is counted in the draft's note, not relayed
    assert any("kiến nghị của các đơn vị gửi" in line for line in context["draft_note"])
    assert "Trên đây là báo cáo kết quả nghiên cứu" in context["closing"]
    assert context["closing"].endswith(
        "quý III năm 2025, Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh báo cáo Ban Thường vụ Tỉnh ủy."
    )


# --------------------------------------------------------------------------- rendering


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    path = tmp_path / "charts" / "bieu-do-attendance.png"
    path.parent.mkdir()
    Image.new("RGB", (60, 30), "steelblue").save(path)
    return path


def test_word_report_is_made_the_way_people_use_word(tmp_path: Path, chart: Path) -> None:
    out = tmp_path / "published" / str(PERIOD)
    docx_path, html_path = write_report(
        make_consolidation(), "TU", out, charts={"attendance": chart}
    )
    assert docx_path.name == "bao-cao-2025Q3-TU.docx"
    assert html_path.name == "bao-cao-2025Q3-TU.html"
    document = docx.Document(str(docx_path))
    assert len(document.inline_shapes) == 1
    text = "\n".join(docx_paragraphs(docx_path))
    assert "BÁO CÁO" in text and "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "Nơi nhận:" in text
    # no placeholder left unrendered
    assert "{{" not in text.replace(EVIL, "") and "{%" not in text.replace(EVIL, "")
    paragraphs = styled(docx_path)
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == [
        "I. TÌNH HÌNH CHUNG",
        "II. KẾT QUẢ ĐẠT ĐƯỢC",
        "III. MỘT SỐ HẠN CHẾ VÀ NGUYÊN NHÂN",
        "IV. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI",
        "V. KIẾN NGHỊ, ĐỀ XUẤT",
        "PHỤ LỤC",
    ]
    assert ("Heading 2", "2. Nguyên nhân") in paragraphs
    assert ("Title", "BÁO CÁO") in paragraphs
    tasks = [text for style, text in paragraphs if style == "List Number"]
    assert len(tasks) == 5 and tasks == template_tasks(DOCX_TEMPLATE)
    # the draft's note is a comment, not text of the report
    assert "Dự thảo do Tổng hợp" not in text
    comments = list(document.comments)
    assert comments and comments[0].text.startswith("Dự thảo do Tổng hợp lập ngày 09/10/2025")
    # pages numbered at the top, the first page without
    section = document.sections[0]
    assert section.different_first_page_header_footer
    assert 'instr="PAGE"' in section.header._element.xml.replace("w:instr", "instr")


def test_html_report_is_one_file_that_keeps_its_spacing(tmp_path: Path, chart: Path) -> None:
    _, html_path = write_report(
        make_consolidation(), "TU", tmp_path / "out", charts={"attendance": chart}
    )
    page = lxml.html.parse(str(html_path)).getroot()
    assert page.find(".//h1").text == "BÁO CÁO"
    images = page.findall(".//img")
    # the chart is inside the page: it can be forwarded alone
    assert len(images) == 1 and images[0].get("src").startswith("data:image/png;base64,")
    assert sorted(p.name for p in html_path.parent.iterdir()) == [
        "bao-cao-2025Q3-TU.docx",
        "bao-cao-2025Q3-TU.html",
    ]
    assert "white-space: pre-wrap" in html_path.read_text(encoding="utf-8")
    assert "Số      -BC/TU" in page.text_content()
    tasks = [li.text_content() for li in page.findall(".//ol[@class='tasks']/li")]
    assert tasks == template_tasks(DOCX_TEMPLATE)
    note = page.find(".//aside[@class='draft-note']")
    assert "Dự thảo do Tổng hợp" in note.text_content()
    appendix = page.findall(".//section[@class='appendix']/h3")
    assert appendix and appendix[0].text.startswith("Phụ lục 1.")


def test_tasks_are_edited_in_the_template(tmp_path: Path) -> None:
    folder = tmp_path / "thiet-lap-bao-cao"
    report_context(make_consolidation(), "TU", settings_folder=folder)
    template = folder / "mau-bao-cao.docx"
    document = docx.Document(str(template))
    task = next(p for p in document.paragraphs if p.style.name == "List Number")
    task.text = "Tổ chức sơ kết {{ period_label }} việc học tập Nghị quyết."
    document.save(str(template))
    docx_path, html_path = write_report(
        make_consolidation(), "TU", tmp_path / "out", settings_folder=folder
    )
    expected = "Tổ chức sơ kết Quý III năm 2025 việc học tập Nghị quyết."
    assert ("List Number", expected) in styled(docx_path)
    assert expected in lxml.html.parse(str(html_path)).getroot().text_content()


def test_several_reports_at_once_read_as_each_alone(tmp_path: Path) -> None:
    consolidation, previous = make_consolidation(), previous_consolidation()
    together = write_reports(
        consolidation, ["TU", "DUK", "HPB"], tmp_path / "together", previous=previous
    )
    assert list(together) == ["TU", "DUK", "HPB"]
    for code, (docx_path, html_path) in together.items():
        alone_docx, alone_html = write_report(
            consolidation, code, tmp_path / code, previous=previous
        )
        assert html_path.read_text(encoding="utf-8") == alone_html.read_text(encoding="utf-8")
        assert docx_paragraphs(docx_path) == docx_paragraphs(alone_docx)
    # each report is its own unit's
    assert "Huyện ủy Phú Bình" in together["HPB"][1].read_text(encoding="utf-8")


def test_every_figure_of_section_two_comes_from_the_consolidation(tmp_path: Path) -> None:
    consolidation = make_consolidation()
    docx_path, _ = write_report(consolidation, "TU", tmp_path)
    # the figures as published in consolidated-P.csv, formatted the Vietnamese way
    files = publish_now(consolidation, tmp_path / "csv")
    with files.consolidated_csv.open(encoding="utf-8") as handle:
        published = {
            row["indicator_code"]: float(row["value"])
            for row in csv.DictReader(handle)
            if row["unit_code"] == "TU" and row["value"]
        }
    allowed = set()
    for value in published.values():
        allowed |= {format_count(value), count_vi(value), format_percent(value)}
    for code in ("grassroots_online", "grassroots_reporting", "accepted_units", "expected_units"):
        allowed |= {format_count(TU_FIGURES[code])}  # reporting figures
    written = [
        paragraph
        for paragraph in section_two(docx_paragraphs(docx_path))
        # headings are numbered, and units' texts are theirs, not figures
        if paragraph and not re.match(r"\d+\. ", paragraph) and not paragraph.startswith("- ")
    ]
    found = [number for paragraph in written for number in numbers_in(paragraph)]
    assert len(found) > 20
    assert [number for number in found if number not in allowed] == []
    # and a set of them, checked the other way round against the CSV
    joined = "\n".join(written)
    for code in ("sessions_total", "connection_points", "attendance", "members_attended"):
        assert format_count(published[code]) in joined
    assert format_percent(published["attendance_rate"]) == "97,3%"
    assert "97,3%" in joined


def test_units_texts_stay_literal(tmp_path: Path) -> None:
    docx_path, html_path = write_report(make_consolidation(), "TU", tmp_path)
    paragraphs = docx_paragraphs(docx_path)
    assert any(EVIL in paragraph for paragraph in paragraphs)
    assert not any("49" in paragraph for paragraph in paragraphs)
    page = lxml.html.parse(str(html_path)).getroot()
    assert page.findall(".//script") == []
    assert EVIL in page.text_content()
    raw = html_path.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in raw and "<script>" not in raw


def test_control_characters_do_not_break_the_word_file(tmp_path: Path) -> None:
    texts = [("G1", "limitations", "Báo cáo\x0b chậm\x00.")]
    docx_path, _ = write_report(make_consolidation(texts=texts), "TU", tmp_path)
    assert any("Báo cáo chậm" in p for p in docx_paragraphs(docx_path))


def test_unsafe_unit_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_report(make_consolidation(), "../TU", tmp_path)


def test_a_broken_placeholder_in_an_edited_template_falls_back_to_the_default(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "thiet-lap-bao-cao"
    report_context(make_consolidation(), "TU", settings_folder=folder)
    template = folder / "mau-bao-cao.docx"
    document = docx.Document(str(template))
    document.add_paragraph("{{ chỗ giữ chỗ hỏng")
    document.save(str(template))
    docx_path, _ = write_report(
        make_consolidation(), "TU", tmp_path / "out", settings_folder=folder
    )
    document = docx.Document(str(docx_path))
    assert any(p.text == "BÁO CÁO" for p in document.paragraphs)
    assert "dùng mẫu mặc định" in "\n".join(
        paragraph.text for comment in document.comments for paragraph in comment.paragraphs
    )


def test_template_can_be_regenerated(tmp_path: Path) -> None:
    from tonghop.data.make_report_template import build

    template = build(tmp_path / "mau.docx")
    docx_path, _ = write_report(make_consolidation(), "DUK", tmp_path / "out", template=template)
    assert "ĐẢNG ỦY KHỐI CƠ QUAN VÀ DOANH NGHIỆP TỈNH" in docx_paragraphs(docx_path)


# --------------------------------------------------------------------------- longer periods

YEAR = Period.parse("2025")
ALL_YEAR = "2025Q1:accepted,2025Q2:accepted,2025Q3:accepted,2025Q4:accepted"
YEAR_STATUS = [
    # unit_code, status, on_time, quarters
    ("TU", "accepted", True, ALL_YEAR),
    ("DUK", "accepted", True, ALL_YEAR),
    ("G1", "accepted", True, ALL_YEAR),
    ("P1", "accepted", True, ALL_YEAR),
    ("C1", "partial", True, "2025Q1:accepted,2025Q2:accepted,2025Q3:missing,2025Q4:accepted"),
    ("G2", "partial", False, "2025Q1:accepted,2025Q2:accepted,2025Q3:rejected,2025Q4:missing"),
    ("HPB", "accepted", True, ALL_YEAR),
    ("G3", "missing", None, "2025Q1:missing,2025Q2:missing,2025Q3:missing,2025Q4:missing"),
]
# The year's reporting figures add up the quarters' (tonghop/longer_periods.py): 8 units
# expected in each of 4 quarters, 7 + 7 + 5 + 6 reports accepted.
YEAR_FIGURES = dict(
    TU_FIGURES,
    expected_units=32,
    accepted_units=25,
    on_time_units=24,
    reporting_completeness=25 / 32,
    reporting_timeliness=24 / 32,
)


def longer_consolidation(period: Period, figures: dict[str, float] | None = None) -> Consolidation:
    """The test organisation over a longer period: each unit's status names its quarters (the
    year's quarters stand for any period's: only their count matters to the wording tests)."""
    consolidation = make_consolidation(figures or YEAR_FIGURES)
    status = pd.DataFrame(YEAR_STATUS, columns=["unit_code", "status", "on_time", "quarters"])
    consolidation.status = status.assign(received_at=None, file_name=None, errors=0, warnings=0)
    consolidation.period = period
    return consolidation


@pytest.mark.parametrize(
    ("written", "text", "within", "in_title", "compared", "review"),
    [
        ("2025Q3", "quý III năm 2025", "quý", "quý III năm 2025", "quý trước", False),
        (
            "2025H1",
            "sáu tháng đầu năm 2025",
            "sáu tháng đầu năm",
            "sáu tháng đầu năm 2025",
            "cùng kỳ năm trước",
            False,
        ),
        (
            "2025H2",
            "sáu tháng cuối năm 2025",
            "sáu tháng cuối năm",
            "sáu tháng cuối năm 2025",
            "cùng kỳ năm trước",
            False,
        ),
        ("2025", "năm 2025", "năm", "năm 2025", "cùng kỳ năm trước", False),
        (
            "2025Q1-2025Q3",
            "chín tháng đầu năm 2025",
            "chín tháng đầu năm",
            "chín tháng đầu năm 2025",
            "cùng kỳ năm trước",
            False,
        ),
        (
            "2025Q2-2025Q3",
            "từ quý II đến quý III năm 2025",
            "giai đoạn này",
            "từ quý II đến quý III năm 2025",
            "cùng kỳ năm trước",
            False,
        ),
        (
            "2024Q4-2025Q1",
            "từ quý IV/2024 đến quý I/2025",
            "giai đoạn này",
            "từ quý IV/2024 đến quý I/2025",
            "cùng kỳ năm trước",
            False,
        ),
        (
            "2021Q2-2023Q2",
            "giai đoạn từ quý II/2021 đến quý II/2023",
            "giai đoạn này",
            "giai đoạn 2021–2023",
            None,  # nine quarters would overlap the same nine a year earlier
            True,
        ),
    ],
)
def test_each_kind_of_period_has_its_words(
    written: str, text: str, within: str, in_title: str, compared: str | None, review: bool
) -> None:
    words = period_words(Period.parse(written))
    assert (words.text, words.within, words.in_title, words.compared, words.review) == (
        text,
        within,
        in_title,
        compared,
        review,
    )


SUBJECT = (
    "nghiên cứu, học tập, quán triệt và tuyên truyền các nghị quyết, chỉ thị, kết luận của Đảng"
)


@pytest.mark.parametrize(
    ("written", "title", "intro_end", "study", "change"),
    [
        (
            "2025Q3",
            f"Kết quả {SUBJECT} quý III năm 2025",
            "của Đảng, Tỉnh ủy Thái Nguyên báo cáo kết quả quý III năm 2025 như sau:",
            "Trong quý, toàn Đảng bộ tổ chức 2.509 hội nghị",
            "số hội nghị tăng 12,5% so với quý trước",
        ),
        (
            "2025H1",
            f"Kết quả {SUBJECT} sáu tháng đầu năm 2025",
            "trên cơ sở tổng hợp báo cáo các quý I và II năm 2025 của các đơn vị, Tỉnh ủy Thái "
            "Nguyên báo cáo kết quả sáu tháng đầu năm 2025 như sau:",
            "Trong sáu tháng đầu năm, toàn Đảng bộ tổ chức 2.509 hội nghị",
            "số hội nghị tăng 12,5% so với cùng kỳ năm trước",
        ),
        (
            "2025",
            f"Kết quả {SUBJECT} năm 2025",
            "trên cơ sở tổng hợp báo cáo các quý I, II, III và IV năm 2025 của các đơn vị, Tỉnh ủy "
            "Thái Nguyên báo cáo kết quả năm 2025 như sau:",
            "Trong năm, toàn Đảng bộ tổ chức 2.509 hội nghị",
            "số hội nghị tăng 12,5% so với cùng kỳ năm trước",
        ),
        (
            "2021Q2-2023Q2",
            f"Sơ kết công tác {SUBJECT} giai đoạn 2021–2023",
            "; qua 02 năm 03 tháng triển khai thực hiện (giai đoạn từ quý II/2021 đến quý "
            "II/2023), trên cơ sở tổng hợp báo cáo hằng quý của các đơn vị, Tỉnh ủy Thái Nguyên "
            "sơ kết kết quả như sau:",
            "Trong giai đoạn này, toàn Đảng bộ tổ chức 2.509 hội nghị",
            None,  # a review compares with nothing
        ),
    ],
)
def test_the_report_is_worded_for_its_period(
    written: str, title: str, intro_end: str, study: str, change: str | None
) -> None:
    period = Period.parse(written)
    if period.is_quarter:
        consolidation, previous = make_consolidation(), previous_consolidation()
    else:
        consolidation = longer_consolidation(period)
        previous = longer_consolidation(period.same_period_last_year(), previous_figures())
    context = report_context(consolidation, "TU", previous=previous)
    assert context["title"] == title
    assert context["intro"].startswith("Thực hiện chế độ báo cáo định kỳ về công tác nghiên cứu")
    assert context["intro"].endswith(intro_end)
    assert context["closing"].startswith(f"Trên đây là báo cáo {title[:1].lower()}{title[1:]}, ")
    results = lines(context, "results")
    assert study in results
    if change is None:
        assert "so với" not in results and "bằng cùng kỳ" not in results
    else:
        assert change in results
    # no sentence speaks of a quarter where the period is not one
    every = "\n".join(
        [context["title"], context["intro"], context["closing"]]
        + [lines(context, part) for part in ("situation", "results", "limitations")]
    )
    if not period.is_quarter:
        assert "trong quý" not in every.lower() and "quý trước" not in every
        assert "so với sáu" not in every and "so với giai" not in every


def previous_figures() -> dict[str, float]:
    figures = dict(YEAR_FIGURES)
    figures.update(sessions_total=2230, attendance_rate=0.961, action_programs=9, news_items=380)
    return figures


def test_a_longer_period_states_completeness_quarter_by_quarter_and_names_who_missed_one() -> None:
    context = report_context(longer_consolidation(YEAR), "TU")
    situation = lines(context, "situation")
    assert (
        "Trong 04 quý của kỳ báo cáo, các đơn vị đã gửi 25/32 báo cáo quý được tiếp nhận "
        "(đạt 78,1%), trong đó 24 báo cáo đúng hạn."
    ) in situation
    # each quarter counted from the units' statuses (no quarter's own figures given)
    assert "3. Tình hình gửi báo cáo qua các quý" in situation
    assert "- Quý I/2025: 7/8 đơn vị đã gửi báo cáo được tiếp nhận (đạt 87,5%);" in situation
    assert "- Quý III/2025: 5/8 đơn vị đã gửi báo cáo được tiếp nhận (đạt 62,5%);" in situation
    assert "- Quý IV/2025: 6/8 đơn vị đã gửi báo cáo được tiếp nhận (đạt 75,0%)." in situation
    # few enough to be named in the body, with the quarters they missed
    assert (
        "Có 02 đơn vị chưa gửi đủ báo cáo các quý: Chi bộ Văn phòng Sở (Đảng bộ Sở Tư pháp) "
        "(thiếu Quý III/2025); Chi bộ Công ty Điện lực (thiếu Quý III/2025 và Quý IV/2025)."
    ) in situation
    assert (
        "Có 01 đơn vị không có báo cáo quý nào được tiếp nhận: Đảng bộ xã Kha Sơn (thiếu Quý "
        "I/2025, Quý II/2025, Quý III/2025 và Quý IV/2025)."
    ) in situation
    # the basis of the sums: units with at least one quarter counted
    assert "Theo báo cáo các quý của 7/8 đơn vị, tổng số đảng viên (theo báo cáo quý gần" in (
        situation
    )
    limitations = lines(context, "limitations")
    assert "- Có 02 đơn vị chưa gửi đủ báo cáo các quý" in limitations
    assert "- Có 01 đơn vị không gửi báo cáo quý nào" in limitations
    # G2 sent some quarters only, one of them late: it is said of both
    assert "- Có 01 đơn vị có báo cáo quý gửi chậm so với thời hạn" in limitations
    (table, *_) = context["appendix"]
    assert table["title"] == "Đơn vị chưa gửi đủ báo cáo các quý, bị trả lại hoặc gửi chậm"
    rows = [(row["text"], row["value"]) for row in table["rows"]]
    assert rows[:3] == [
        ("Đơn vị chưa gửi đủ báo cáo các quý (02 đơn vị)", ""),
        ("Chi bộ Văn phòng Sở (Đảng bộ Sở Tư pháp)", "Thiếu Quý III/2025."),
        # the appendix says why a quarter is missing when its report was rejected
        ("Chi bộ Công ty Điện lực", "Thiếu Quý III/2025 (bị trả lại) và Quý IV/2025."),
    ]
    assert (
        "Đảng bộ xã Kha Sơn",
        "Thiếu Quý I/2025, Quý II/2025, Quý III/2025 và Quý IV/2025.",
    ) in rows
    assert rows[-2:] == [
        ("Đơn vị có báo cáo quý gửi chậm so với thời hạn (01 đơn vị)", ""),
        ("Chi bộ Công ty Điện lực", ""),
    ]
    # averages over the quarters are said as such
    assert "Bình quân mỗi quý có 13.722 đảng viên tham gia học tập, đạt 97,3%" in lines(
        context, "results"
    )


def test_each_quarter_s_own_figures_count_who_had_to_report_and_who_did_on_time() -> None:
    counts = {1: (8, 7, 6), 2: (8, 7, 7), 3: (9, 5, 4), 4: (9, 6, 6)}
    quarters = QuarterFigures(
        YEAR,
        {
            Period(2025, quarter): {
                ("TU", "expected_units"): float(expected),
                ("TU", "accepted_units"): float(accepted),
                ("TU", "on_time_units"): float(on_time),
            }
            for quarter, (expected, accepted, on_time) in counts.items()
        },
    )
    situation = lines(
        report_context(longer_consolidation(YEAR), "TU", quarters=quarters), "situation"
    )
    assert (
        "- Quý III/2025: 5/9 đơn vị đã gửi báo cáo được tiếp nhận (đạt 55,6%), 4 đơn vị báo cáo "
        "đúng hạn;"
    ) in situation


def test_a_year_whose_units_all_reported_every_quarter_says_so() -> None:
    consolidation = longer_consolidation(YEAR)
    consolidation.status = consolidation.status.assign(status="accepted", quarters=ALL_YEAR)
    situation = lines(report_context(consolidation, "TU"), "situation")
    assert "Tất cả 08 đơn vị đều đã gửi đủ báo cáo các quý." in situation
    assert "chưa gửi đủ" not in situation


def test_a_year_s_word_report_shows_the_chart_of_its_quarters(tmp_path: Path, chart: Path) -> None:
    docx_path, html_path = write_report(
        longer_consolidation(YEAR),
        "TU",
        tmp_path,
        charts={"attendance": chart, "quarters": chart},
    )
    paragraphs = docx_paragraphs(docx_path)
    assert f"Kết quả {SUBJECT} năm 2025" in paragraphs
    # the quarters side by side come first: what a year's readers compare
    captions = [text for text in paragraphs if text.startswith("Biểu đồ ")]
    assert captions == [
        "Biểu đồ 1. Một số chỉ tiêu chủ yếu qua các quý",
        "Biểu đồ 2. Tỷ lệ đảng viên tham gia học tập",
    ]
    assert "Báo cáo năm 2025" in html_path.read_text(encoding="utf-8")


# The pool's share: Phú Bình (a commune below it), or the bloc (organisations, a partial
# committee and a cell below it) — each sent its subtree's figures only.
@pytest.mark.parametrize("share", [3, 2])
def test_reports_drafted_in_two_processes_are_the_ones_drafted_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: int
) -> None:
    consolidation, previous = make_consolidation(), previous_consolidation()
    codes = ["TU", "DUK", "HPB"]
    inputs = ReportInputs(previous=previous)
    draft_reports_side_by_side(consolidation, codes, tmp_path / "one", inputs)
    monkeypatch.setattr(drafting, "PARALLEL_FROM_REPORTS", 2)  # three reports are then shared
    monkeypatch.setattr(drafting, "POOL_SHARE", share)
    with process_pool(1) as pool:
        draft_reports_side_by_side(consolidation, codes, tmp_path / "two", inputs, pool)
        assert pool._processes  # the pool's process drafted some of them
    one = sorted(path.relative_to(tmp_path / "one") for path in (tmp_path / "one").rglob("*.*"))
    two = sorted(path.relative_to(tmp_path / "two") for path in (tmp_path / "two").rglob("*.*"))
    assert one == two and len([path for path in one if path.suffix == ".docx"]) == 3
    for path in one:
        if path.suffix == ".html":
            assert (tmp_path / "two" / path).read_text(encoding="utf-8") == (
                tmp_path / "one" / path
            ).read_text(encoding="utf-8")
        if path.suffix == ".docx":
            assert docx_paragraphs(tmp_path / "two" / path) == docx_paragraphs(
                tmp_path / "one" / path
            )
