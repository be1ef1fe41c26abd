"""Documents as a reader sees them: Word files and workbooks printed to PDF by LibreOffice
(Debian's `libreoffice-writer-nogui`, `libreoffice-calc-nogui`), pages to PNG by `pdftoppm`, and
a PDF's text by `pdftotext` (`poppler-utils`). Used by the tests that look at rendered pages and
by `make docs`, which renders the demo's reports and workbook into docs/:

    .venv/bin/python -m tests.rendering workspace/published/2026Q3 docs
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOOLS = ("soffice", "pdftoppm", "pdftotext", "pdfinfo")


def tools_missing() -> list[str]:
    """The programs this module needs that are not installed."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def to_pdf(document: Path, out_dir: Path) -> Path:
    """Print a .docx or .xlsx to PDF with LibreOffice, in a profile of its own (two conversions
    at once would otherwise fight over the user's)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                str(document),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    pdf = out_dir / f"{document.stem}.pdf"
    if not pdf.is_file():
        raise RuntimeError(f"LibreOffice wrote no PDF for {document}")
    return pdf


def pdf_text(pdf: Path, page: int) -> str:
    """The text of one page (1-based), in reading layout."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def pdf_pages(pdf: Path) -> int:
    """How many pages the PDF has."""
    result = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def to_pngs(pdf: Path, stem: Path, first: int, last: int, dpi: int = 80) -> list[Path]:
    """Pages `first`…`last` as `<stem>-trang-<n>.png`."""
    written = []
    for page in range(first, last + 1):
        target = stem.with_name(f"{stem.name}-trang-{page}")
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(target),
            ],
            check=True,
            capture_output=True,
        )
        written.append(target.with_suffix(".png"))
    return written


def render_docs(published: Path, docs: Path) -> list[Path]:
    """The first two pages of each report of the newest version in `published` (a period's
    folder) and the first page of the workbook's main sheet, as PNG files in `docs`."""
    written = []
    docs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tonghop-docs-") as scratch:
        for report in sorted(published.glob("bao-cao-*.docx")):
            pdf = to_pdf(report, Path(scratch))
            written += to_pngs(pdf, docs / report.stem, 1, min(2, pdf_pages(pdf)))
        for workbook in sorted(published.glob("tong-hop-*.xlsx")):
            pdf = to_pdf(workbook, Path(scratch))
            written += to_pngs(pdf, docs / workbook.stem, 1, 1)
    return written


if __name__ == "__main__":
    for path in render_docs(Path(sys.argv[1]), Path(sys.argv[2])):
        print(path)
