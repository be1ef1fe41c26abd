"""The drafted reports and workbooks as the people who sign and forward them read them: the whole
demo province (1,253 units, 1,117 cells sharing 426 names) run once through `quarterly_report`,
then the province's and a bloc committee's Word report read as whole documents, their workbooks
checked cell by cell, and the province's report printed by LibreOffice."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from tests.rendering import pdf_pages, pdf_text, to_pdf
from tonghop.catalogue import RATES
from tonghop.demo import write_demo_workspace
from tonghop.opinions import Tree, addressee
from tonghop.periods import Period
from tonghop.registry import read_registry
from tonghop_flows.import_registry import import_registry
from tonghop_flows.quarterly_report import QuarterlyReport, quarterly_report

PERIOD = Period(2026, 3)
ISSUERS = {"TU": "Tỉnh ủy Thanh Hóa", "DUK-CQ": "Đảng ủy Khối Cơ quan tỉnh"}


@pytest.fixture(scope="module")
def province(
    tmp_path_factory: pytest.TempPathFactory, prefect_server: None
) -> tuple[Path, QuarterlyReport]:
    """The demo province, collected, consolidated and published once (SQLite, no mail)."""
    root = tmp_path_factory.mktemp("tinh")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("TONGHOP_DATABASE_URL", "TONGHOP_SMTP_HOST", "TONGHOP_EMAIL_BLOCK"):
            patch.delenv(name, raising=False)
        write_demo_workspace(root, PERIOD)
        assert import_registry(str(root / "registry.csv"), str(root)).problems == []
        report = quarterly_report(str(PERIOD), str(root))
    return root, report


def _texts(document: docx.document.Document) -> list[str]:
    """Every paragraph of the document, in the body and in its tables."""
    found = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            found += [paragraph.text for cell in row.cells for paragraph in cell.paragraphs]
    return found


@pytest.mark.parametrize("issuer", list(ISSUERS))
def test_the_report_reads_as_a_document_a_committee_signs(province, issuer: str) -> None:
    root, report = province
    units, problems = read_registry(root / "registry.csv")
    assert problems == []
    document = docx.Document(str(report.published.reports[issuer]))
    paragraphs = document.paragraphs
    texts = _texts(document)
    name = ISSUERS[issuer]

    # No unit is named so that it could be another: a name several units share never stands
    # alone, it carries its organisation ("Chi bộ Văn phòng (Đảng bộ Sở Y tế)").
    shared = {n for n, count in Counter(u.name for u in units).items() if count > 1}
    assert "Chi bộ Văn phòng" in shared
    for text in texts:
        for duplicate in shared:
            for match in re.finditer(rf"(?<!\w){re.escape(duplicate)}(?!\w)", text):
                after = text[match.end() :]
                # ending there (not a longer name, "Chi bộ Phòng Kế hoạch - Tổng hợp"), it must
                # go on with its organisation
                ends = after == "" or after[0] in ",.;:)\n"
                assert not ends, f"«{duplicate}» unqualified in: {text}"
    # … and the appendix lists each missing, rejected or late unit once, each under a name
    # no other unit has
    reporting = document.tables[2]
    assert reporting.rows[0].cells[1].text == "Đơn vị"
    listed = [row.cells[1].text for row in reporting.rows[1:] if row.cells[0].text.strip()]
    assert len(listed) > 20 and len(set(listed)) == len(listed)
    assert "Chi bộ Văn phòng (Đảng bộ Sở Y tế)" in listed or issuer != "TU"

    # Sections in Word's heading styles, the tasks a numbered list, pages numbered.
    headings = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert headings[:5] == [
        "I. TÌNH HÌNH CHUNG",
        "II. KẾT QUẢ ĐẠT ĐƯỢC",
        "III. MỘT SỐ HẠN CHẾ VÀ NGUYÊN NHÂN",
        "IV. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI",
        "V. KIẾN NGHỊ, ĐỀ XUẤT",
    ]
    subheadings = [p.text for p in paragraphs if p.style.name == "Heading 2"]
    assert {"1. Hạn chế", "2. Nguyên nhân"} <= set(subheadings)
    assert sum(p.style.name == "List Number" for p in paragraphs) >= 3
    section = document.sections[0]
    assert section.different_first_page_header_footer
    header = section.header._element
    assert any(f.get(qn("w:instr")).strip() == "PAGE" for f in header.iter(qn("w:fldSimple")))

    # The issuer speaks for itself: its own texts are its statements, never quoted with its
    # name; the draft's note is a comment, not text to sign.
    assert not any(text.lstrip("- ").startswith((f"{name}:", f"{name} :")) for text in texts), (
        "self-quotation"
    )
    assert not any(text.startswith("Dự thảo do Tổng hợp") for text in texts)
    assert list(document.comments)

    # Figures that are sums of what was reported say so.
    body = "\n".join(p.text for p in paragraphs)
    assert re.search(r"[Tt]heo báo cáo của [\d.]+/[\d.]+ đơn vị", body)
    assert "lượt cán bộ, đảng viên, người lao động" in body
    assert "Còn " not in body and not re.search(r"Có [\d.]+ đơn vị có ", body)

    # Section V relays only proposals addressed above the issuer, in its own voice.
    start = next(i for i, p in enumerate(paragraphs) if p.text == "V. KIẾN NGHỊ, ĐỀ XUẤT")
    end = next(i for i, p in enumerate(paragraphs) if p.text.startswith("Trên đây là báo cáo"))
    relayed = [p.text for p in paragraphs[start + 1 : end] if p.text.strip()]
    assert relayed
    tree = Tree(
        names={u.code: u.name for u in units}, parents={u.code: u.parent_code for u in units}
    )
    for text in relayed:
        found = addressee(text, issuer, tree)
        assert found is not None and tree.is_above(found, issuer), text
    # near-identical proposals of several units are one point, with their count
    assert any(re.match(r"- Có \d{2,} đơn vị đề nghị ", text) for text in relayed)

    # Limitations grouped (one sentence of many units is one point), then their causes.
    limitations = body.split("1. Hạn chế\n")[1].split("2. Nguyên nhân\n")
    points = [line for line in limitations[0].splitlines() if line.startswith("- ")]
    assert len(points) == len(set(points))
    assert any(re.search(r"\(\d{2} đơn vị nêu\)\.$", point) for point in points)
    assert "đơn vị nêu" in limitations[1]

    # The closing sentence, as the seeds close.
    closing = paragraphs[end].text
    recipient = (
        "Ban Tuyên giáo và Dân vận Trung ương" if issuer == "TU" else "Ban Thường vụ Tỉnh ủy"
    )
    assert re.fullmatch(
        rf"Trên đây là báo cáo kết quả .+ quý III năm 2026, {name} báo cáo {recipient}\.",
        closing,
    )
    # Nothing of the issuer hard-coded: its settings file says what the heading and recipients
    # are, and the draft is dated.
    settings = (root / "thiet-lap-bao-cao" / f"{issuer}.toml").read_text(encoding="utf-8")
    assert 'dia_danh = "Thanh Hóa"' in settings and '"Lưu VT",' in settings
    assert any(re.search(r"Thanh Hóa, ngày \d\d tháng \d+ năm 2026", t) for t in texts)
    assert any(t == "- Lưu VT." for t in texts)


@pytest.mark.parametrize("issuer", list(ISSUERS))
def test_every_rate_column_of_the_workbook_holds_numbers(province, issuer: str) -> None:
    _, report = province
    workbook = openpyxl.load_workbook(report.published.workbook_for(issuer))
    labels = {rate.label_vi for rate in RATES}
    codes = {rate.code for rate in RATES}
    checked = Counter()
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value in labels and cell.font.bold:  # a rate's column
                    for below in sheet.iter_rows(
                        min_row=cell.row + 1, min_col=cell.column, max_col=cell.column
                    ):
                        value = below[0].value
                        assert value is None or isinstance(value, float | int), (sheet, value)
                        if value is not None:
                            assert below[0].number_format == "0.0%"
                            checked[sheet.title] += 1
                elif cell.value in codes:  # a rate's row, in «Tổng hợp theo cấp»
                    for number in row[2 : cell.column - 1]:
                        assert isinstance(number.value, float | int), (sheet, cell.value)
                        assert number.number_format == "0.0%"
                        checked[sheet.title] += 1
    assert set(checked) == {"Tổng hợp theo cấp", "Tổ chức cơ sở đảng", "Theo loại hình"}
    assert checked["Tổ chức cơ sở đảng"] > 100


def test_the_province_report_prints_with_numbered_pages(province, tmp_path: Path) -> None:
    _, report = province
    pdf = to_pdf(report.published.reports["TU"], tmp_path)
    assert pdf_pages(pdf) >= 3
    first, second = pdf_text(pdf, 1), pdf_text(pdf, 2)
    assert "BÁO CÁO" in first and "TỈNH ỦY THANH HÓA" in first
    assert "Dự thảo do Tổng hợp" not in first  # the note is a comment, not printed
    assert second.strip().splitlines()[0].strip() == "2"  # the page number, at the top
    assert not first.strip().splitlines()[0].strip().isdigit()  # none on the first page
