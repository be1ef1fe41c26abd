"""Reporting over weeks: a correction after publication makes version 2 beside version 1 with
what changed at every level; a rejected later file leaves the accepted one counting; a
correction that arrives while the next quarter is collected goes to its own period; and the
operator can trace every figure with `history` and `show`."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from tests.test_end_to_end import PERIOD, REPORTS, received, write_contract_form
from tests.test_faults import environment
from tonghop.storage import transaction
from tonghop.workbook import SHEET_CHANGES
from tonghop_flows.quarterly_report import quarterly_report

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def published_once(imported: Path) -> Path:
    root = imported
    report = quarterly_report(PERIOD, str(root))
    assert report.published.version == 1
    return root


def send(
    root: Path,
    unit_code: str,
    name: str,
    values: dict[str, str],
    when: datetime,
    period: str = PERIOD,
) -> None:
    path = root / "inbox" / unit_code / name
    write_contract_form(path, unit_code, values, period)
    received(path, when)


def csv_rows(path: Path) -> dict[tuple[str, str], str]:
    with path.open(encoding="utf-8") as handle:
        return {(r["unit_code"], r["indicator_code"]): r["value"] for r in csv.DictReader(handle)}


def sheet_text(path: Path, title: str) -> list[list[object]]:
    sheet = openpyxl.load_workbook(path)[title]
    return [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]


def test_a_correction_after_publication_makes_version_two(published_once: Path) -> None:
    root = published_once
    folder = root / "published" / PERIOD
    first = {path.name: path.read_bytes() for path in folder.glob("*.*")}
    corrected = REPORTS["G1C1"] | {"members": "30", "members_attended": "28"}
    send(root, "G1C1", "bao-cao-sua.xlsx", corrected, datetime(2025, 10, 20, 8, 0))

    report = quarterly_report(PERIOD, str(root))
    assert (report.published.version, report.published.newly_published) == (2, True)
    assert report.published.workbook.name == f"tong-hop-{PERIOD}-v2.xlsx"
    assert {name: (folder / name).read_bytes() for name in first} == first  # v1 untouched
    assert csv_rows(folder / f"consolidated-{PERIOD}.csv")[("P", "members")] == str(25 + 1117)
    assert csv_rows(report.published.consolidated_csv)[("P", "members")] == str(30 + 1117)

    rows = sheet_text(report.published.workbook, SHEET_CHANGES)
    changed_units = [row for row in rows if len(row) > 2 and row[1] == "G1C1"]
    assert any("bao-cao-sua.xlsx" in str(cell) for cell in changed_units[0])
    members = {row[1]: tuple(row[5:8]) for row in rows if "Tổng số đảng viên" in row}
    # every level from the cell up to the province
    assert members == {
        "G1C1": (25, 30, 5),
        "G1": (25, 30, 5),
        "U1": (25, 30, 5),
        "P": (1142, 1147, 5),
    }

    # nothing new: the same version, no file written again, no v3
    stamp = report.published.workbook.stat().st_mtime_ns
    again = quarterly_report(PERIOD, str(root))
    assert (again.published.version, again.published.newly_published) == (2, False)
    assert again.published.workbook.stat().st_mtime_ns == stamp
    assert not list(folder.glob("*-v3.*"))


def test_a_rejected_later_file_leaves_the_accepted_one_counting(
    published_once: Path, database_url: str
) -> None:
    root = published_once
    broken = root / "inbox" / "G3" / "bao-cao-moi.xlsx"
    broken.write_bytes(b"%PDF-1.4 not a workbook")
    received(broken, datetime(2025, 10, 21, 8, 0))

    report = quarterly_report(PERIOD, str(root))
    assert report.collected.rejected == 1
    assert (report.published.version, report.published.newly_published) == (1, False)
    with (root / "published" / PERIOD / f"status-{PERIOD}.csv").open(encoding="utf-8") as handle:
        status = {row["unit_code"]: row for row in csv.DictReader(handle)}
    assert status["G3"]["status"] == "accepted"
    feedback = report.published.feedback["G3"]
    words = " ".join(str(c) for row in sheet_text(feedback, "Phản hồi") for c in row)
    assert "bao-cao-moi.xlsx" in words and "vẫn được dùng để tổng hợp" in words


def test_every_feedback_stays_with_the_file_it_answers(published_once: Path) -> None:
    root = published_once
    answers = root / "published" / PERIOD / "phan-hoi"
    first = {path.name: path.read_bytes() for path in answers.iterdir()}
    assert set(first) == {f"G2-{PERIOD}.xlsx"}  # G2 sent a CSV renamed .xlsx
    # G2 fixes its report; G1C1 sends a second file that is wrong
    send(root, "G2", "bao-cao-dung.xlsx", REPORTS["G3"], datetime(2025, 10, 20, 8, 0))
    wrong = REPORTS["G1C1"] | {"members_attended": "99"}
    send(root, "G1C1", "bao-cao-2.xlsx", wrong, datetime(2025, 10, 20, 9, 0))

    report = quarterly_report(PERIOD, str(root))

    assert report.published.version == 2
    # version 1's answer to G2 is still there, byte for byte, beside the new one to G1C1
    assert {name: (answers / name).read_bytes() for name in first} == first
    assert report.published.feedback["G1C1"].name == f"G1C1-{PERIOD}-lan2.xlsx"
    assert sorted(path.name for path in answers.iterdir()) == [
        f"G1C1-{PERIOD}-lan2.xlsx",
        f"G2-{PERIOD}.xlsx",
    ]
    assert "G2" not in report.published.feedback  # G2's report is fine now


def test_a_correction_sent_during_the_next_quarter_goes_to_its_own_period(
    published_once: Path, database_url: str
) -> None:
    root = published_once
    corrected = REPORTS["G3"] | {"members": "1.120", "members_attended": "1 103"}
    send(root, "G3", "bo-sung-quy-3.xlsx", corrected, datetime(2026, 1, 5, 8, 0))

    report = quarterly_report("2025Q4", str(root))
    assert report.collected.other_periods == (PERIOD,)
    assert report.collected.received == 1 and report.collected.rejected == 0
    (correction,) = report.corrections
    assert correction.version == 2
    assert csv_rows(correction.consolidated_csv)[("G3", "members")] == "1120"
    with transaction(database_url) as connection:
        periods = connection.execute(
            text("select period, outcome from submission where file_name = 'bo-sung-quy-3.xlsx'")
        ).all()
    assert [tuple(row) for row in periods] == [(PERIOD, "accepted")]
    # the next quarter itself is untouched by it: G3 is still missing there
    with (root / "published" / "2025Q4" / "status-2025Q4.csv").open(encoding="utf-8") as handle:
        status = {row["unit_code"]: row["status"] for row in csv.DictReader(handle)}
    assert status["G3"] == "missing"


def test_members_far_from_the_last_quarter_are_flagged_not_refused(
    published_once: Path, database_url: str
) -> None:
    root = published_once
    next_quarter = REPORTS["G1C1"] | {"members": "40", "members_attended": "38"}
    send(root, "G1C1", "quy-4.xlsx", next_quarter, datetime(2026, 1, 5, 8, 0), "2025Q4")
    report = quarterly_report("2025Q4", str(root))
    assert (report.collected.received, report.collected.warned) == (1, 1)
    with transaction(database_url) as connection:
        (message,) = connection.execute(
            text("select message from problem where rule = 'O1'")
        ).scalars()
    assert "(40)" in message and "(25)" in message and "Quý III năm 2025" in message
    assert csv_rows(report.published.consolidated_csv)[("G1C1", "members")] == "40"


def tonghop(*args: str, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tonghop_flows.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment(database_url),
        timeout=600,
        check=False,
    )


def test_history_show_and_status_trace_every_figure(
    published_once: Path, database_url: str
) -> None:
    root = published_once
    send(root, "G1C1", "sua-lan-1.xlsx", {"members": "mười"}, datetime(2025, 10, 12, 8, 0))
    corrected = REPORTS["G1C1"] | {"members": "30", "members_attended": "28"}
    send(root, "G1C1", "sua-lan-2.xlsx", corrected, datetime(2025, 10, 13, 8, 0))
    quarterly_report(PERIOD, str(root))
    options = ["--period", PERIOD, "--workspace", str(root)]

    history = tonghop("history", "--unit", "G1C1", *options, database_url=database_url)
    assert history.returncode == 0, history.stdout + history.stderr
    out = history.stdout
    assert "Chi bộ Thôn Một (G1C1), Quý III năm 2025: 3 phiên bản" in out
    for name in ("bao-cao.xlsx", "sua-lan-1.xlsx", "sua-lan-2.xlsx"):
        assert name in out
    assert out.index("bao-cao.xlsx") < out.index("sua-lan-1.xlsx") < out.index("sua-lan-2.xlsx")
    assert "Bị trả lại" in out and "mười" in out and "[V1, Lỗi]" in out
    counted_line = next(line for line in out.splitlines() if "sua-lan-2.xlsx" in line)
    assert "✓" in counted_line

    show = tonghop("show", "--unit", "G1", *options, database_url=database_url)
    assert show.returncode == 0, show.stdout + show.stderr
    assert "bao-cao.xlsx" in show.stdout and "SHA-256" in show.stdout
    members = next(line for line in show.stdout.splitlines() if "Tổng số đảng viên" in line)
    assert "30" in members  # G1 reports no members itself; its consolidated total is G1C1's
    essays = next(line for line in show.stdout.splitlines() if line.count("essays"))
    assert "40" in essays

    status = tonghop("status", *options, database_url=database_url)
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert any("G1C2" in line and "Chưa nộp" in line for line in lines)
    assert any("G2" in line and "Bị trả lại" in line for line in lines)

    unknown = tonghop("history", "--unit", "../etc", *options, database_url=database_url)
    assert unknown.returncode == 1 and "Không có đơn vị mã «../etc»" in unknown.stdout


def test_a_correction_redraws_only_what_moved(published_once: Path) -> None:
    """A correction under the province alone (G3) leaves U1's subtree as it was: U1's report,
    charts and own workbook are carried to version 2 byte for byte, the province's are drawn
    again; once U1's settings file is edited, its next report is drawn again with them."""
    root = published_once
    folder = root / "published" / PERIOD
    # Another issuer's settings edited since: they are not U1's.
    os.utime(root / "thiet-lap-bao-cao" / "P.toml")
    send(
        root,
        "G3",
        "bao-cao-sua.xlsx",
        REPORTS["G3"] | {"connection_points": "6"},
        datetime(2025, 10, 20),
    )
    report = quarterly_report(PERIOD, str(root))
    assert report.published.version == 2

    def carried(name: str, version: str = "-v2") -> bool:
        before, after = folder / name.format(v=""), folder / name.format(v=version)
        return before.read_bytes() == after.read_bytes()

    assert carried(f"bao-cao-{PERIOD}-U1{{v}}.docx")
    assert carried(f"bao-cao-{PERIOD}-U1{{v}}.html")
    assert carried(f"tong-hop-{PERIOD}-U1{{v}}.xlsx")
    u1_charts = sorted((folder / "bieu-do").glob(f"bieu-do-*-{PERIOD}-U1.png"))
    assert u1_charts
    assert all(carried(f"bieu-do/{chart.stem}{{v}}.png") for chart in u1_charts)
    assert not carried(f"bao-cao-{PERIOD}-P{{v}}.docx")  # the province moved
    assert not carried(f"tong-hop-{PERIOD}{{v}}.xlsx")

    settings = root / "thiet-lap-bao-cao" / "U1.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace('nguoi_ky = ""', 'nguoi_ky = "Lê Văn Ký"'),
        encoding="utf-8",
    )
    send(
        root,
        "G3",
        "bao-cao-sua-2.xlsx",
        REPORTS["G3"] | {"connection_points": "7"},
        datetime(2025, 10, 21),
    )
    report = quarterly_report(PERIOD, str(root))
    assert report.published.version == 3
    assert carried(f"tong-hop-{PERIOD}-U1{{v}}.xlsx", "-v3")  # a workbook has no issuer
    drawn = (folder / f"bao-cao-{PERIOD}-U1-v3.html").read_text(encoding="utf-8")
    assert "Lê Văn Ký" in drawn
