"""The whole product from the contract alone: a registry and forms written here per SPEC §1 and
§3 (not with the product's own form writer), the command line run on them, and the published
totals checked against sums computed in the test."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

PERIOD = "2025Q3"
REGISTRY = """code,name,parent_code,kind,sector,valid_from,valid_to,email
P,Tỉnh ủy Thử nghiệm,,province,,,,vanphong@example.vn
U1,Huyện ủy Một,P,upper,,,,hu1@example.vn
G1,Đảng bộ Xã Một,U1,grassroots_committee,commune,,,
G1C1,Chi bộ Thôn Một,G1,cell,,,,
G1C2,Chi bộ Thôn Hai,G1,cell,,,,
G1C3,Chi bộ Thôn Ba,G1,cell,,2020-01-01,2025-06-30,
G2,Chi bộ Trường Tiểu học,U1,grassroots_cell,agency,,,
G3,Chi bộ Sở Tư pháp,P,grassroots_cell,agency,,,
"""
# What each unit reports; G1C2 sends nothing, G1C3 is dissolved, G2 sends a broken file.
REPORTS = {
    "G1C1": {
        "members": "25",
        "members_exempt": "1",
        "members_attended": "23",
        "members_absent": "1",
        "sessions_in_person": "1",
        "sessions_total": "1",
    },
    "G3": {
        "members": "1.117",
        "members_attended": "1 100",
        "members_absent": "17",
        "sessions_online": "2",
        "sessions_total": "2",
        "connection_points": "5",
    },
    "G1": {"sessions_hybrid": "1", "sessions_total": "1", "connection_points": "3", "essays": "40"},
    "U1": {"news_items": "12"},
}


def write_contract_form(
    path: Path, unit_code: str, values: dict[str, str], period: str = PERIOD
) -> None:
    """A form laid out exactly as SPEC §3 describes, with two rows inserted above the table."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "BaoCao"
    for row, (label, value) in enumerate(
        [
            ("Mã đơn vị", unit_code),
            ("Kỳ báo cáo", period),
            ("Ngày lập", "05/10/2025"),
            ("Người lập", "Nguyễn Văn A"),
            ("Phiên bản mẫu", "2025.1"),
        ],
        start=2,
    ):
        sheet.cell(row, 2, label)
        sheet.cell(row, 3, value)
    sheet.insert_rows(7, amount=2)
    header_row = 10
    for column, title in enumerate(
        ["STT", "MÃ CHỈ TIÊU", "Chỉ tiêu", "Đơn vị tính", "Giá trị", "Ghi chú"], start=1
    ):
        sheet.cell(header_row, column, title)
    for offset, (code, value) in enumerate(values.items(), start=1):
        sheet.cell(header_row + 2 * offset, 1, offset)  # a blank row between indicators
        sheet.cell(header_row + 2 * offset, 2, code)
        sheet.cell(header_row + 2 * offset, 5, value)
    workbook.save(path)


def received(path: Path, when: datetime) -> None:
    stamp = when.replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
    os.utime(path, (stamp, stamp))


def build_workspace(root: Path) -> Path:
    """The registry and five files (one a CSV renamed .xlsx), byte for byte and with the same
    receipt times every time."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    for unit_code, values in REPORTS.items():
        folder = root / "inbox" / unit_code
        folder.mkdir(parents=True)
        write_contract_form(folder / "bao-cao.xlsx", unit_code, values)
        received(folder / "bao-cao.xlsx", datetime(2025, 10, 3, 9, 30))
    broken = root / "inbox" / "G2" / "bao-cao.xlsx"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"unit,members\nG2,10\n")  # a CSV renamed .xlsx
    received(broken, datetime(2025, 10, 4, 8, 0))
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return build_workspace(tmp_path)


def tonghop(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the real command line, as an operator would, against the session's Prefect server."""
    return subprocess.run(
        [sys.executable, "-m", "tonghop_flows.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture
def cli_env(prefect_server: None, database_url: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return os.environ | {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "TONGHOP_DATABASE_URL": database_url,
        "COLUMNS": "200",
    }


def consolidated_values(path: Path) -> dict[tuple[str, str], str]:
    with path.open(encoding="utf-8") as handle:
        return {
            (row["unit_code"], row["indicator_code"]): row["value"]
            for row in csv.DictReader(handle)
        }


def test_command_line_publishes_the_sums(workspace: Path, cli_env: dict[str, str]) -> None:
    options = ["--workspace", str(workspace)]
    result = tonghop("registry", "import", str(workspace / "registry.csv"), *options, env=cli_env)
    assert result.returncode == 0, result.stdout + result.stderr
    result = tonghop("run", "--period", PERIOD, *options, env=cli_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nhận 5 tệp mới" in result.stdout and "1 bị trả lại" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    published = workspace / "published" / PERIOD
    values = consolidated_values(published / f"consolidated-{PERIOD}.csv")
    members = 25 + 1117  # G1C1 and G3; G1C2 sent nothing, G2's file is broken
    assert values[("P", "members")] == str(members)
    assert values[("U1", "members")] == "25"
    assert values[("G1", "sessions_total")] == str(1 + 1)
    assert values[("P", "sessions_total")] == str(1 + 2 + 1)
    assert values[("P", "connection_points")] == str(5 + 3)
    assert values[("P", "news_items")] == "12"
    assert values[("G2", "members")] == ""  # blank, not 0
    attended, expected = 23 + 1100, (25 - 1) + 1117
    assert float(values[("P", "attendance_rate")]) == pytest.approx(attended / expected, abs=1e-6)
    # expected: P, U1, G1, G1C1, G1C2, G2, G3 (G1C3 dissolved); accepted: G1C1, G3, G1, U1
    assert float(values[("P", "reporting_completeness")]) == pytest.approx(4 / 7, abs=1e-6)
    assert ("G1C3", "members") not in values

    with (published / f"status-{PERIOD}.csv").open(encoding="utf-8") as handle:
        status = {row["unit_code"]: row["status"] for row in csv.DictReader(handle)}
    assert status == {
        "P": "missing",
        "U1": "accepted",
        "G1": "accepted",
        "G1C1": "accepted",
        "G1C2": "missing",
        "G2": "rejected",
        "G3": "accepted",
    }

    feedback = load_workbook(published / "phan-hoi" / f"G2-{PERIOD}.xlsx")
    text = " ".join(
        str(cell) for row in feedback.active.iter_rows(values_only=True) for cell in row if cell
    )
    assert "F1" in text and "bao-cao.xlsx" in text

    archived = list((workspace / "archive").rglob("*.xlsx"))
    assert len(archived) == 5  # every received file is kept, the broken one too

    # a second run with nothing new receives nothing and publishes the same figures
    result = tonghop("run", "--period", PERIOD, *options, env=cli_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nhận 0 tệp mới" in result.stdout
    assert consolidated_values(published / f"consolidated-{PERIOD}.csv") == values


def test_a_bad_registry_is_refused_with_every_problem(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    bad = REGISTRY + "G3,Trùng mã,P,grassroots_cell,agency,,,\nX1,Chi bộ lạc,NOPE,cell,,,,\n"
    (tmp_path / "registry.csv").write_text(bad, encoding="utf-8")
    result = tonghop(
        "registry",
        "import",
        str(tmp_path / "registry.csv"),
        "--workspace",
        str(tmp_path),
        env=cli_env,
    )
    assert result.returncode == 1
    assert "Dòng 10" in result.stdout and "Dòng 11" in result.stdout
