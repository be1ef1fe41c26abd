"""Tests of the narrative report: its Vietnamese sentences, the figures in them, and the Word and
HTML renderings (escaping of units' texts included)."""

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
from tonghop.consolidation import PROBLEM_COLUMNS, SECTOR_COLUMNS, Consolidation
from tonghop.formatting import format_count, format_percent
from tonghop.periods import Period
from tonghop.report import (
    MAX_NAMES,
    _names_vi,
    change_vi,
    count_vi,
    report_context,
    section_texts,
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
    ("G1", "limitations", "Một số chi bộ báo cáo chậm."),
    ("G3", "limitations", EVIL),
    ("G1", "proposals", "Đề nghị tổ chức thêm lớp bồi dưỡng."),
    ("G3", "proposals", "Đề nghị hỗ trợ thiết bị cho điểm cầu."),
    ("DUK", "highlights", "Tổ chức hội nghị trực tuyến đến tận chi bộ."),
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


def numbers_in(text: str) -> list[str]:
    """Vietnamese-formatted numbers: 14.103, 97,3%, 04."""
    return re.findall(r"\d{1,3}(?:\.\d{3})*(?:,\d+)?%?", text)


# --------------------------------------------------------------------------- wording


def test_counts_and_changes_in_vietnamese_style() -> None:
    assert count_vi(14103) == "14.103"
    assert count_vi(4) == "04"  # as the seeds write small counts
    assert count_vi(0) == "0"
    assert count_vi(None) == ""
    assert change_vi(2509, 2230) == "tăng 12,5% so với quý trước"
    assert change_vi(90, 100) == "giảm 10,0% so với quý trước"
    assert change_vi(9, 9) == "bằng quý trước"
    assert change_vi(9, None) == "" and change_vi(None, 9) == ""
    assert change_vi(0.973, 0.961, rate=True) == "tăng 1,2 điểm phần trăm so với quý trước"


def test_names_are_capped() -> None:
    names = [f"Chi bộ {i}" for i in range(MAX_NAMES + 3)]
    assert _names_vi(names).endswith("và 03 đơn vị khác")
    assert _names_vi(["A", "B", "C"]) == "A, B và C"


def test_heading_block() -> None:
    context = report_context(make_consolidation(), "DUK", issued_on=date(2025, 10, 15))
    assert context["superior"] == "ĐẢNG BỘ TỈNH THÁI NGUYÊN"
    assert context["issuer"] == "ĐẢNG ỦY KHỐI CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
    assert context["number"] == "Số      -BC/ĐUK"
    assert context["place_date"] == "………, ngày 15 tháng 10 năm 2025"
    province = report_context(make_consolidation(), "TU", place="Thái Nguyên")
    assert province["superior"] == "" and province["number"].endswith("-BC/TU")
    assert province["place_date"] == "Thái Nguyên, ngày     tháng     năm 2025"
    assert "quý III năm 2025" in province["title"]
    assert report_context(make_consolidation(), "HPB")["number"].endswith("-BC/HU")


def test_situation_and_results_sentences() -> None:
    context = report_context(make_consolidation(), "TU")
    situation = lines(context, "situation")
    assert "14.103 đảng viên" in situation
    assert "03 tổ chức cơ sở đảng, trong đó: 02 đảng bộ cơ sở, 01 chi bộ cơ sở" in situation
    assert "01 đảng bộ bộ phận" in situation and "01 chi bộ trực thuộc" in situation
    assert "có 5/8 đơn vị đã gửi báo cáo được tiếp nhận (đạt 62,5%)" in situation
    results = lines(context, "results")
    assert (
        "Trong quý, toàn Đảng bộ tổ chức 2.509 hội nghị nghiên cứu, học tập, quán triệt, trong "
        "đó 1.203 hội nghị trực tiếp, 804 hội nghị trực tuyến với 1.024 điểm cầu và 502 hội "
        "nghị trực tiếp kết hợp trực tuyến, thu hút 45.512 lượt cán bộ, đảng viên tham gia."
    ) in results
    assert "13.722 đồng chí, đạt 97,3%" in results
    assert "Có 66,7% tổ chức cơ sở đảng" in results
    assert "12.000 bài thu hoạch, trong đó 2.400 bài xếp loại xuất sắc, chiếm 20,0%" in results
    assert "30 lớp bồi dưỡng nhận thức về Đảng cho 3.728 quần chúng ưu tú" in results
    assert "10 lớp bồi dưỡng lý luận chính trị cho 1.555 đảng viên mới" in results
    assert "Có 460 tập thể và 1.160 cá nhân được biểu dương" in results
    # a 0 is said plainly; figures nobody reported are left out, not written as 0
    assert "Có 0 đảng viên bị phê bình" in results
    assert "quán triệt tại 12 tổ chức đảng." in results  # no supervision figures: no clause
    assert "cuộc thi" not in results
    assert "so với quý trước" not in results  # no previous quarter given


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


def test_limitations_list_units_and_their_own_texts() -> None:
    context = report_context(make_consolidation(), "TU", attendance_threshold=0.9)
    limitations = lines(context, "limitations")
    assert "Còn 01 đơn vị chưa gửi báo cáo: Đảng bộ xã Kha Sơn." in limitations
    assert "gửi báo cáo chậm so với thời hạn: Chi bộ Văn phòng Sở." in limitations
    assert "bị trả lại do chưa đúng quy định, chưa gửi lại: Chi bộ Công ty Điện lực." in (
        limitations
    )
    assert "dưới 90,0%: Huyện ủy Phú Bình (88,0%) và Đảng bộ xã Kha Sơn (85,3%)." in limitations
    assert "- Đảng bộ Sở Tư pháp: Một số chi bộ báo cáo chậm." in limitations
    # only the unit's own subtree
    duk = lines(report_context(make_consolidation(), "DUK"), "limitations")
    assert "Kha Sơn" not in duk and "Đảng bộ Sở Tư pháp: Một số chi bộ" in duk
    assert "Công ty Điện lực" in duk


def test_proposals_grouped_by_branch() -> None:
    proposals = report_context(make_consolidation(), "TU")["proposals"]
    groups = [item["text"] for item in proposals if item["kind"] == "group"]
    assert groups == ["Đảng ủy Khối Cơ quan và Doanh nghiệp tỉnh", "Huyện ủy Phú Bình"]
    bullets = [(item["unit"], item["text"]) for item in proposals if item["kind"] == "bullet"]
    assert ("Đảng bộ Sở Tư pháp", "Đề nghị tổ chức thêm lớp bồi dưỡng.") in bullets


# --------------------------------------------------------------------------- rendering


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    path = tmp_path / "charts" / "bieu-do-attendance.png"
    path.parent.mkdir()
    Image.new("RGB", (60, 30), "steelblue").save(path)
    return path


def test_word_and_html_reports(tmp_path: Path, chart: Path) -> None:
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
    page = lxml.html.parse(str(html_path)).getroot()
    assert page.find(".//h1").text == "BÁO CÁO"
    images = page.findall(".//img")
    # a chart from outside the folder is copied beside the page
    assert [image.get("src") for image in images] == [chart.name]
    assert (html_path.parent / images[0].get("src")).exists()


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
    allowed |= {format_count(TU_FIGURES["grassroots_online"])}  # reporting figures
    allowed |= {format_count(TU_FIGURES["grassroots_reporting"])}
    written = [
        paragraph
        for paragraph in section_two(docx_paragraphs(docx_path))
        # headings are numbered, and units' quoted texts are theirs, not figures
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
    assert any("Báo cáo chậm." in p for p in docx_paragraphs(docx_path))


def test_unsafe_unit_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_report(make_consolidation(), "../TU", tmp_path)


def test_template_can_be_regenerated(tmp_path: Path) -> None:
    from tonghop.data.make_report_template import build

    template = build(tmp_path / "mau.docx")
    docx_path, _ = write_report(make_consolidation(), "DUK", tmp_path / "out", template=template)
    assert "ĐẢNG ỦY KHỐI CƠ QUAN VÀ DOANH NGHIỆP TỈNH" in docx_paragraphs(docx_path)
