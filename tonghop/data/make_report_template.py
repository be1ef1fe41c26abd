"""Builds `bao-cao-mau.docx`, the Word template of the narrative report, with python-docx.

The generated file is committed and is what operators open and edit in Word; rerun this script
(`python tonghop/data/make_report_template.py`) only to start again from the default layout.
The code that renders the template relies on the placeholder names alone.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

OUTPUT = Path(__file__).parent / "bao-cao-mau.docx"
FONT = "Times New Roman"
BODY_SIZE = Pt(14)
HEADING_BLOCK_SIZE = Pt(13)
SMALL_SIZE = Pt(12)


def _run(paragraph: Paragraph, text: str, *, bold=False, italic=False, underline=False, size=None):
    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    if size is not None:
        run.font.size = size
    return run


def _paragraph(
    container,
    text: str = "",
    *,
    align=None,
    bold=False,
    italic=False,
    size=None,
    indent=False,
    underline=False,
    space_after=None,
) -> Paragraph:
    paragraph = container.add_paragraph()
    format_ = paragraph.paragraph_format
    format_.space_before = Pt(0)
    format_.space_after = Pt(6) if space_after is None else space_after
    if align is not None:
        paragraph.alignment = align
    if indent:
        format_.first_line_indent = Mm(10)
    if text:
        _run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    return paragraph


def _tag(container, tag: str) -> None:
    """A paragraph holding only a `{%p … %}` tag: docxtpl removes it when rendering."""
    _paragraph(container, tag, space_after=Pt(0))


def _items(document, variable: str) -> None:
    """The loop that lays out one section's items by kind (see `report.report_context`)."""
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    _tag(document, f"{{%p for item in {variable} %}}")
    _tag(document, "{%p if item.kind == 'heading' %}")
    _paragraph(document, "{{ item.text }}", bold=True, indent=True, align=justify)
    _tag(document, "{%p elif item.kind == 'group' %}")
    _paragraph(document, "{{ item.text }}", bold=True, italic=True, indent=True, align=justify)
    _tag(document, "{%p elif item.kind == 'bullet' %}")
    bullet = _paragraph(document, "- ", indent=True, align=justify)
    _run(bullet, "{% if item.unit %}")
    _run(bullet, "{{ item.unit }}: ", italic=True)
    _run(bullet, "{% endif %}{{ item.text }}")
    _tag(document, "{%p else %}")
    _paragraph(document, "{{ item.text }}", indent=True, align=justify)
    _tag(document, "{%p endif %}")
    _tag(document, "{%p endfor %}")


def _borderless(table) -> None:
    borders = table._tbl.tblPr.first_child_found_in("w:tblBorders")
    if borders is not None:
        table._tbl.tblPr.remove(borders)


def build(path: Path = OUTPUT) -> Path:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(20)

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = BODY_SIZE
    # East-Asian and complex-script slots too, or Word falls back to another face for them.
    fonts = normal.element.rPr.get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)
    normal.paragraph_format.line_spacing = 1.15

    center = WD_ALIGN_PARAGRAPH.CENTER
    # ---- heading block: issuing body on the left, the Party's name and place/date on the right
    heading = document.add_table(rows=1, cols=2)
    heading.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(heading)
    left, right = heading.rows[0].cells
    left.width, right.width = Mm(70), Mm(90)
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _tag(left, "{%p if superior %}")
    _paragraph(left, "{{ superior }}", align=center, size=HEADING_BLOCK_SIZE, space_after=Pt(0))
    _tag(left, "{%p endif %}")
    _paragraph(
        left, "{{ issuer }}", align=center, bold=True, size=HEADING_BLOCK_SIZE, space_after=Pt(0)
    )
    _paragraph(left, "*", align=center, size=HEADING_BLOCK_SIZE, space_after=Pt(0))
    _paragraph(left, "{{ number }}", align=center, size=HEADING_BLOCK_SIZE)
    _paragraph(
        right,
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        align=center,
        bold=True,
        underline=True,
        size=Pt(14),
        space_after=Pt(12),
    )
    _paragraph(right, "{{ place_date }}", align=center, italic=True, size=HEADING_BLOCK_SIZE)

    # ---- title
    _paragraph(document, "", space_after=Pt(6))
    _paragraph(document, "BÁO CÁO", align=center, bold=True, size=Pt(15), space_after=Pt(2))
    _paragraph(document, "{{ title }}", align=center, bold=True, space_after=Pt(2))
    _paragraph(document, "-----", align=center, space_after=Pt(12))
    _paragraph(document, "{{ intro }}", indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)

    # ---- sections
    for title, variable in (
        ("I. TÌNH HÌNH CHUNG", "situation"),
        ("II. KẾT QUẢ ĐẠT ĐƯỢC", "results"),
    ):
        _paragraph(document, title, bold=True, indent=True)
        _items(document, variable)

    _tag(document, "{%p for chart in charts %}")
    _paragraph(document, "{{ chart.image }}", align=center, space_after=Pt(2))
    _paragraph(
        document,
        "Biểu đồ {{ loop.index }}. {{ chart.caption }}",
        align=center,
        italic=True,
        size=SMALL_SIZE,
        space_after=Pt(12),
    )
    _tag(document, "{%p endfor %}")

    _paragraph(document, "III. MỘT SỐ HẠN CHẾ", bold=True, indent=True)
    _items(document, "limitations")
    _paragraph(document, "IV. NHIỆM VỤ, KIẾN NGHỊ, ĐỀ XUẤT", bold=True, indent=True)
    _items(document, "proposals")

    # ---- recipients and signature
    _paragraph(document, "", space_after=Pt(6))
    footer = document.add_table(rows=1, cols=2)
    _borderless(footer)
    # recipients and signature stay together on one page, never split across two
    row_properties = footer.rows[0]._tr.get_or_add_trPr()
    row_properties.append(OxmlElement("w:cantSplit"))
    left, right = footer.rows[0].cells
    left.width, right.width = Mm(80), Mm(80)
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _paragraph(
        left,
        "Nơi nhận:",
        bold=True,
        italic=True,
        underline=True,
        size=SMALL_SIZE,
        space_after=Pt(0),
    )
    _tag(left, "{%p for recipient in recipients %}")
    _paragraph(left, "- {{ recipient }}", size=Pt(11), space_after=Pt(0))
    _tag(left, "{%p endfor %}")
    _paragraph(right, "{{ signer_on_behalf }}", align=center, bold=True, space_after=Pt(0))
    _paragraph(right, "{{ signer_title }}", align=center, bold=True, space_after=Pt(48))
    _paragraph(right, "{{ signer_name }}", align=center, italic=True, size=SMALL_SIZE)

    _paragraph(document, "", space_after=Pt(12))
    _paragraph(document, "{{ generated_note }}", italic=True, size=Pt(10))
    document.core_properties.title = "Mẫu báo cáo kết quả học tập, quán triệt nghị quyết"
    document.core_properties.author = "Tổng hợp"
    document.save(str(path))
    return path


if __name__ == "__main__":
    print(build())
