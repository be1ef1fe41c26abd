"""After each consolidation the province and every upper-level unit get a drafted narrative
report (Word and HTML) with its charts; a later version's reports go beside the first drafts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from docx import Document

from tests.test_end_to_end import PERIOD, REPORTS, received, write_contract_form
from tonghop_flows.quarterly_report import quarterly_report


def test_the_province_and_each_upper_unit_get_a_report(imported: Path) -> None:
    first = quarterly_report(PERIOD, str(imported))
    # P is the province, U1 the one upper-level unit; grassroots units and cells get none.
    assert sorted(first.published.reports) == ["P", "U1"]
    for code, docx in first.published.reports.items():
        assert docx.name == f"bao-cao-{PERIOD}-{code}.docx"
        assert docx.with_suffix(".html").exists()
        text = "\n".join(paragraph.text for paragraph in Document(docx).paragraphs)
        assert "BÁO CÁO" in text and "quý III năm 2025" in text
    charts = sorted(path.name for path in (imported / "published" / PERIOD / "bieu-do").iterdir())
    assert f"bieu-do-attendance-{PERIOD}-P.png" in charts

    # A correction makes version 2: its reports are written beside the first drafts.
    late = imported / "inbox" / "G1C1" / "bao-cao (sửa).xlsx"
    write_contract_form(late, "G1C1", {**REPORTS["G1C1"], "news_items": "4"})
    received(late, datetime(2025, 10, 20, 8, 0))
    second = quarterly_report(PERIOD, str(imported))
    assert second.published.reports["P"].name == f"bao-cao-{PERIOD}-P-v2.docx"
    assert first.published.reports["P"].exists()
