"""Builds `bao-cao-mau.docx`, the Word template of the narrative report, with python-docx.

The generated file is committed; each workspace gets a copy (`thiet-lap-bao-cao/mau-bao-cao.docx`)
that operators open and edit in Word — the tasks of section IV above all, numbered points in the
style «List Number». Rerun this script (`python tonghop/data/make_report_template.py`) only to
start again from the default layout. The code that renders the template relies on the
placeholder names alone.

The template is made the way people use Word: section and subsection titles in Word's heading
styles (the navigation pane and a table of contents find them), page numbers at the top of every
page but the first, as Party documents number them, body text in a style of its own.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

OUTPUT = Path(__file__).parent / "bao-cao-mau.docx"
FONT = "Times New Roman"
BODY_SIZE = Pt(14)
HEADING_BLOCK_SIZE = Pt(13)
SMALL_SIZE = Pt(12)
BLACK = RGBColor(0, 0, 0)
BODY_STYLE = "Body Text"
TASKS_STYLE = "List Number"  # tonghop.report.TASKS_STYLE reads the tasks by it
DEFAULT_TASKS = (
    "Tiếp tục đổi mới phương thức tổ chức nghiên cứu, học tập, quán triệt các nghị quyết, chỉ "
    "thị, kết luận của Đảng; kết hợp hình thức trực tiếp với trực tuyến, bảo đảm đảng viên ở các "
    "đơn vị xa trung tâm được tham gia đầy đủ.",
    "Nâng cao tỷ lệ đảng viên tham gia học tập; tổ chức học tập bổ sung kịp thời cho đảng viên "
    "vắng; nâng cao chất lượng bài thu hoạch.",
    "Nâng cao chất lượng xây dựng chương trình hành động, kế hoạch thực hiện nghị quyết sát với "
    "nhiệm vụ chính trị của từng cơ quan, đơn vị.",
    "Tăng cường kiểm tra, giám sát việc học tập, quán triệt và tổ chức thực hiện nghị quyết; kịp "
    "thời biểu dương, khen thưởng tập thể, cá nhân thực hiện tốt, nhắc nhở những trường hợp chưa "
    "nghiêm túc.",
    "Thực hiện nghiêm chế độ thông tin, báo cáo định kỳ, bảo đảm đúng thời hạn, số liệu đầy đủ, "
    "chính xác.",
)


def _set_font(style, size=None, *, bold=None, italic=None) -> None:
    """The style in Times New Roman, black, in every script slot (a theme font would win)."""
    style.font.name = FONT
    style.font.color.rgb = BLACK
    if size is not None:
        style.font.size = size
    if bold is not None:
        style.font.bold = bold
    if italic is not None:
        style.font.italic = italic
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(slot)) is not None:
            del fonts.attrib[qn(slot)]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)


def _styles(document) -> None:
    styles = document.styles
    normal = styles["Normal"]
    _set_font(normal, BODY_SIZE)
    normal.paragraph_format.line_spacing = 1.15
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(6)

    body = styles[BODY_STYLE]
    _set_font(body, BODY_SIZE)
    body.paragraph_format.first_line_indent = Mm(10)
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    body.paragraph_format.space_after = Pt(6)

    for name, italic in (("Heading 1", False), ("Heading 2", False), ("Heading 3", True)):
        heading = styles[name]
        _set_font(heading, BODY_SIZE, bold=True, italic=italic)
        heading.paragraph_format.first_line_indent = Mm(10)
        heading.paragraph_format.space_before = Pt(6)
        heading.paragraph_format.space_after = Pt(6)
        heading.paragraph_format.keep_with_next = True
        heading.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    title = styles["Title"]
    _set_font(title, Pt(15), bold=True)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(12)
    title.paragraph_format.space_after = Pt(2)
    borders = title.element.pPr.find(qn("w:pBdr")) if title.element.pPr is not None else None
    if borders is not None:  # Word's Title has a rule under it; the seeds have none
        title.element.pPr.remove(borders)
    spacing = title.element.rPr.find(qn("w:spacing"))
    if spacing is not None:
        title.element.rPr.remove(spacing)

    subtitle = styles["Subtitle"]
    _set_font(subtitle, BODY_SIZE, bold=True, italic=False)
    for found in (
        subtitle.element.rPr.find(qn("w:spacing")),  # letter-spaced in Word's default
        subtitle.element.pPr.find(qn("w:numPr")),
    ):
        if found is not None:
            found.getparent().remove(found)
    subtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.paragraph_format.space_after = Pt(2)

    tasks = styles[TASKS_STYLE]
    _set_font(tasks, BODY_SIZE)
    tasks.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    tasks.paragraph_format.left_indent = Mm(0)
    tasks.paragraph_format.first_line_indent = Mm(10)
    tasks.paragraph_format.space_after = Pt(6)

    contextual = tasks.element.pPr.find(qn("w:contextualSpacing"))
    if contextual is not None:  # the tasks are paragraphs, spaced like the body's
        tasks.element.pPr.remove(contextual)
    _number_then_space(document, tasks)
    _set_font(styles["Header"], HEADING_BLOCK_SIZE)
    _set_font(styles["Table Grid"], SMALL_SIZE)


def _number_then_space(document, style) -> None:
    """A numbered task reads `1. Tiếp tục …`, as the seeds write them: a space after the
    number, not Word's default tab."""
    numbering = document.part.numbering_part.element
    number = style.element.pPr.find(qn("w:numPr")).find(qn("w:numId")).get(qn("w:val"))
    num = next(n for n in numbering.findall(qn("w:num")) if n.get(qn("w:numId")) == number)
    abstract = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    definition = next(
        a
        for a in numbering.findall(qn("w:abstractNum"))
        if a.get(qn("w:abstractNumId")) == abstract
    )
    level = next(lvl for lvl in definition.findall(qn("w:lvl")) if lvl.get(qn("w:ilvl")) == "0")
    suffix = level.find(qn("w:suff"))
    if suffix is None:
        suffix = OxmlElement("w:suff")
        level.find(qn("w:lvlText")).addprevious(suffix)  # where the schema puts it
    suffix.set(qn("w:val"), "space")


def _run(paragraph: Paragraph, text: str, *, bold=False, italic=False, underline=False, size=None):
    run = paragraph.add_run(text)
    # Only what the run adds to its paragraph's style: an explicit "not bold" would override
    # the bold of a heading style.
    run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
    if size is not None:
        run.font.size = size
    return run


def _paragraph(
    container,
    text: str = "",
    *,
    style=None,
    align=None,
    bold=False,
    italic=False,
    size=None,
    underline=False,
    space_after=None,
) -> Paragraph:
    paragraph = container.add_paragraph(style=style)
    if space_after is not None:
        paragraph.paragraph_format.space_after = space_after
    if align is not None:
        paragraph.alignment = align
    if text:
        _run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    return paragraph


def _tag(container, tag: str) -> None:
    """A paragraph holding only a `{%p … %}` tag: docxtpl removes it when rendering."""
    _paragraph(container, tag, space_after=Pt(0))


def _items(document, variable: str) -> None:
    """The loop that lays out one section's items by kind (see `report.report_context`)."""
    _tag(document, f"{{%p for item in {variable} %}}")
    _tag(document, "{%p if item.kind == 'heading' %}")
    _paragraph(document, "{{ item.text }}", style="Heading 2")
    _tag(document, "{%p elif item.kind == 'bullet' %}")
    _paragraph(document, "- {{ item.text }}", style=BODY_STYLE)
    _tag(document, "{%p else %}")
    _paragraph(document, "{{ item.text }}", style=BODY_STYLE)
    _tag(document, "{%p endif %}")
    _tag(document, "{%p endfor %}")


def _borderless(table) -> None:
    borders = table._tbl.tblPr.first_child_found_in("w:tblBorders")
    if borders is not None:
        table._tbl.tblPr.remove(borders)


def _page_numbers(section) -> None:
    """The page number centred at the top of every page but the first."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _appendix(document) -> None:
    """Each table of the appendix (report.appendix): a title, three columns, group rows bold."""
    _tag(document, "{%p if appendix %}")
    heading = _paragraph(document, "PHỤ LỤC", style="Heading 1", align=WD_ALIGN_PARAGRAPH.CENTER)
    heading.paragraph_format.page_break_before = True
    heading.paragraph_format.first_line_indent = Mm(0)
    _tag(document, "{%p for table in appendix %}")
    title = _paragraph(
        document,
        "Phụ lục {{ loop.index }}. {{ table.title }}",
        style="Heading 2",
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    title.paragraph_format.first_line_indent = Mm(0)
    table = document.add_table(rows=4, cols=3)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = (Mm(14), Mm(96), Mm(50))
    # Word reads each cell's width, LibreOffice the table's grid: both are set.
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                paragraph.paragraph_format.line_spacing = 1.0
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeats on each page
    for index, cell in enumerate(header.cells):
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(paragraph, f"{{{{ table.headers[{index}] }}}}", bold=True, size=SMALL_SIZE)
    _run(table.rows[1].cells[0].paragraphs[0], "{%tr for row in table.rows %}")
    cells = table.rows[2].cells
    cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(cells[0].paragraphs[0], "{{ row.number }}", size=SMALL_SIZE)
    _run(cells[1].paragraphs[0], "{{r row.text }}", size=SMALL_SIZE)
    _run(cells[2].paragraphs[0], "{{ row.value }}", size=SMALL_SIZE)
    _run(table.rows[3].cells[0].paragraphs[0], "{%tr endfor %}")
    _paragraph(document, "", space_after=Pt(6))
    _tag(document, "{%p endfor %}")
    _tag(document, "{%p endif %}")


def build(path: Path = OUTPUT) -> Path:
    document = Document()
    _styles(document)
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(20)
    section.header_distance = Mm(10)
    _page_numbers(section)

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
    _paragraph(document, "BÁO CÁO", style="Title")
    _paragraph(document, "{{ title }}", style="Subtitle")
    _paragraph(document, "-----", align=center, space_after=Pt(12))
    _paragraph(document, "{{ intro }}", style=BODY_STYLE)

    # ---- sections
    for title, variable in (
        ("I. TÌNH HÌNH CHUNG", "situation"),
        ("II. KẾT QUẢ ĐẠT ĐƯỢC", "results"),
    ):
        _paragraph(document, title, style="Heading 1")
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

    _paragraph(document, "III. MỘT SỐ HẠN CHẾ VÀ NGUYÊN NHÂN", style="Heading 1")
    _items(document, "limitations")
    _paragraph(document, "IV. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI", style="Heading 1")
    for task in DEFAULT_TASKS:
        _paragraph(document, task, style=TASKS_STYLE)
    _paragraph(document, "V. KIẾN NGHỊ, ĐỀ XUẤT", style="Heading 1")
    _items(document, "proposals")
    _paragraph(document, "{{ closing }}", style=BODY_STYLE)

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
    _paragraph(right, "{{ signer_title }}", align=center, bold=True, space_after=Pt(60))
    _paragraph(right, "{{ signer_name }}", align=center, bold=True)

    _appendix(document)
    document.core_properties.title = "Mẫu báo cáo kết quả học tập, quán triệt nghị quyết"
    document.core_properties.author = "Tổng hợp"
    document.save(str(path))
    return path


if __name__ == "__main__":
    print(build())
