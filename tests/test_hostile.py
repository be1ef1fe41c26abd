"""Hostile and broken submissions in a whole run: every corpus file (tests/corpus/) and every form
with hostile content sits in the inbox folder of a unit of its own, beside 200 good forms. One
`tonghop run` must finish, refuse each bad file with a clear Vietnamese message recorded against
its folder's unit, keep it byte for byte, answer the unit with a feedback workbook, count the
good forms, stay well under 1 GB, and publish nothing a spreadsheet program could execute."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import logging
import math
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from tests.corpus.make_corpus import CASES, CORPUS_DIR, form_workbook
from tests.test_end_to_end import PERIOD, consolidated_values, received, tonghop
from tonghop.feedback import plain_problem
from tonghop.forms import write_form
from tonghop.inbox import UNSAFE_NAME_VI, folder_units, scan_inbox
from tonghop.periods import Period
from tonghop.reading import MAX_UNCOMPRESSED_BYTES
from tonghop.registry import Unit

GROUPS, CELLS_PER_GROUP = 10, 20  # 200 good leaf forms
PERIOD_OF_RUN = Period.parse(PERIOD)
RECEIVED = datetime(2025, 10, 3, 9, 30)  # before the deadline (10 days after the quarter)
MEMORY_LIMIT_KB = 1024 * 1024  # 1 GB; ru_maxrss is in kilobytes on Linux

# One unit per corpus file, so that each unit's outcome can be checked on its own.
HOSTILE = {f"H{number:02d}": case for number, case in enumerate(CASES, start=1)}
VALID = {
    "members": 20,
    "members_attended": 19,
    "members_absent": 1,
    "sessions_in_person": 1,
    "sessions_total": 1,
}
# Readable forms whose content is hostile: V1 for each, whatever the number looks like.
BAD_VALUES: dict[str, tuple[str, object]] = {
    "V01": ("members", 123456789012345678901234567890),  # beyond 64 bits, as a number
    "V02": ("members", "123456789012345678901234567890"),  # the same typed as text
    "V03": ("members", 1e300),
    "V04": ("members", -5),
    "V05": ("members", 30.5),
    "V06": ("members", "30,5"),
    "V07": ("members", "NaN"),
    "V08": ("members", "-Infinity"),
    "V09": ("members", float("nan")),  # <v>nan</v>: a number cell calamine reads as NaN
    "V10": ("members", float("inf")),
    "V11": ("highlights", "Học tập nghị quyết. " * 600),  # 12,000 characters
    "V12": ("secretary_presented", 2),
}
# Unit codes that look like paths, written into C2 of a form sent from folder X*.
PATH_CODES = {"X1": "../../etc", "X2": "a/b", "X3": "a\\b"}
# Text a spreadsheet would run if it were ever written as a formula.
FORMULAS = {
    "highlights": '=HYPERLINK("http://127.0.0.1/","bấm vào đây")',
    "limitations": "@SUM(A1)",
    "proposals": "+1+1",
}
FORMULA_PREPARER = "=1+1"
FORMULA_FILE = "=HYPERLINK(A1).xlsx"
FORMULA_NOTES = ("-2+3", "=cmd|' /C calc'!A0")
TOO_BIG = "L1"
UNSAFE_FOLDERS = ("..x", "a\\b")


def _units() -> list[Unit]:
    def unit(code: str, name: str, parent: str | None, kind: str, sector: str | None) -> Unit:
        return Unit(code, name, parent, kind, sector, None, None, None)

    units = [
        unit("P", "Tỉnh ủy Thử nghiệm", None, "province", None),
        unit("U1", "Huyện ủy Một", "P", "upper", None),
    ]
    for group in range(1, GROUPS + 1):
        code = f"G{group:02d}"
        units.append(unit(code, f"Đảng bộ xã {group}", "U1", "grassroots_committee", "commune"))
        units += [
            unit(f"{code}C{cell:02d}", f"Chi bộ thôn {cell} xã {group}", code, "cell", None)
            for cell in range(1, CELLS_PER_GROUP + 1)
        ]
    others = [*HOSTILE, *BAD_VALUES, *PATH_CODES, "FM1", "FM2", TOO_BIG]
    units += [unit(code, f"Chi bộ {code}", "P", "grassroots_cell", "agency") for code in others]
    return units


def _good_values(index: int) -> dict[str, int]:
    members = 10 + index % 7
    return {
        "members": members,
        "members_attended": members - 1,
        "members_absent": 1,
        "sessions_in_person": 1,
        "sessions_total": 1,
    }


def _form(path: Path, unit: Unit, values: dict[str, object], preparer: str = "Lê Thị Hoa") -> None:
    write_form(
        path, unit, PERIOD_OF_RUN, False, values, preparer=preparer, prepared_on=date.today()
    )


def _add_notes(path: Path, notes: tuple[str, ...]) -> None:
    """Notes typed in column F beside the first indicators, kept as text."""
    workbook = load_workbook(path)
    sheet = workbook["BaoCao"]
    rows = [row for row in range(9, sheet.max_row + 1) if sheet.cell(row, 2).value in VALID]
    for row, note in zip(rows, notes, strict=False):
        sheet.cell(row, 6).value = note
        sheet.cell(row, 6).data_type = "s"
    workbook.save(path)


@pytest.fixture
def cli_env(prefect_server: None, database_url: str) -> dict[str, str]:
    """As in test_end_to_end: the command line against the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    return os.environ | {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "TONGHOP_DATABASE_URL": database_url,
        "COLUMNS": "200",
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    inbox = home / "inbox"
    units = _units()
    by_code = {unit.code: unit for unit in units}
    lines = ["code,name,parent_code,kind,sector,valid_from,valid_to,email"]
    lines += [
        f"{u.code},{u.name},{u.parent_code or ''},{u.kind},{u.sector or ''},,," for u in units
    ]
    home.mkdir()
    (home / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    cells = [unit for unit in units if unit.kind == "cell"]
    for index, unit in enumerate(cells):
        _form(inbox / unit.code / "bao-cao.xlsx", unit, _good_values(index))
    for code, case in HOSTILE.items():
        (inbox / code).mkdir(parents=True)
        shutil.copyfile(CORPUS_DIR / case.file_name, inbox / code / case.file_name)
    for code, (indicator, value) in BAD_VALUES.items():
        path = inbox / code / "bao-cao.xlsx"
        if isinstance(value, float) and not math.isfinite(value):
            # No form writer stores NaN or infinity as a number; a hand-made file can.
            path.parent.mkdir(parents=True)
            path.write_bytes(form_workbook(code, PERIOD, VALID | {indicator: value}))
        else:
            _form(path, by_code[code], VALID | {indicator: value})
    for folder, code in PATH_CODES.items():
        impostor = Unit(code, "Đơn vị giả", "P", "grassroots_cell", "agency", None, None, None)
        _form(inbox / folder / "bao-cao.xlsx", impostor, VALID)
    _form(inbox / "FM1" / "bao-cao.xlsx", by_code["FM1"], VALID | FORMULAS, FORMULA_PREPARER)
    _add_notes(inbox / "FM1" / "bao-cao.xlsx", FORMULA_NOTES)
    fm2 = inbox / "FM2" / FORMULA_FILE
    _form(fm2, by_code["FM2"], VALID | FORMULAS | {"members": -1}, FORMULA_PREPARER)
    big = inbox / TOO_BIG / "bao-cao.xlsx"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.truncate(MAX_UNCOMPRESSED_BYTES + 1)  # sparse on disk, 50 MB + 1 byte to read
    for folder in UNSAFE_FOLDERS:  # a good form where no unit's folder can be
        _form(inbox / folder / "bao-cao.xlsx", by_code["G01C01"], _good_values(0))
    for path in inbox.rglob("*.xlsx"):
        received(path, RECEIVED)
    return home


def _cell_texts(path: Path) -> list[str]:
    workbook = load_workbook(path)
    return [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def _formula_cells(path: Path) -> list[str]:
    workbook = load_workbook(path)
    return [
        f"{path.name}!{sheet.title}!{cell.coordinate}"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


# A child forked from pytest keeps pytest's own RSS as its high-water mark (Linux carries it
# across exec), so the run is started from a small launcher that measures only what it starts.
_LAUNCHER = """
import resource, subprocess, sys
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
code = subprocess.run(sys.argv[1:], check=False).returncode
after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"RUSAGE_CHILDREN {before} {after}", file=sys.stderr)
sys.exit(code)
"""


def _measured_run(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, int]:
    """The command line run as `tonghop()` runs it, and the peak RSS (KB) of its processes."""
    command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "tonghop_flows.cli", *args]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=900, check=False
    )
    lines = result.stderr.splitlines()
    assert lines and lines[-1].startswith("RUSAGE_CHILDREN "), result.stderr
    before, after = (int(value) for value in lines[-1].split()[1:])
    assert before == 0  # the launcher started nothing before the run
    result.stderr = "\n".join(lines[:-1])
    return result, after


def _warnings_since(started: datetime) -> list[str]:
    """Warnings the run logged to the Prefect server (the command line keeps them off screen)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterLevel, LogFilterTimestamp

    async def read() -> list[str]:
        async with get_client() as client:
            logs = await client.read_logs(
                LogFilter(
                    level=LogFilterLevel(ge_=logging.WARNING),
                    timestamp=LogFilterTimestamp(after_=started),
                ),
                limit=200,
            )
            return [log.message for log in logs]

    return asyncio.run(read())


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _database(database_url: str) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Each unit's one submission, and its problems in order."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("select * from submission")).mappings().all()
            found = connection.execute(
                text("select * from problem order by submission_id, seq")
            ).mappings()
            by_id: dict[str, list[dict]] = {}
            for problem in found:
                by_id.setdefault(problem["submission_id"], []).append(dict(problem))
    finally:
        engine.dispose()
    submissions = {row["unit_code"]: dict(row) for row in rows}
    assert len(submissions) == len(rows)  # one file per unit
    problems = {row["unit_code"]: by_id.get(row["id"], []) for row in rows}
    return submissions, problems


def test_a_run_with_hostile_files_refuses_each_and_counts_the_rest(
    workspace: Path, cli_env: dict[str, str], database_url: str
) -> None:
    options = ["--workspace", str(workspace)]
    result = tonghop("registry", "import", str(workspace / "registry.csv"), *options, env=cli_env)
    assert result.returncode == 0, result.stdout + result.stderr

    started = datetime.now(UTC)
    result, peak_kb = _measured_run("run", "--period", PERIOD, *options, env=cli_env)
    output = result.stdout + result.stderr
    print(f"peak RSS of the run (its read workers included): {peak_kb // 1024} MB")
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert 0 < peak_kb < MEMORY_LIMIT_KB

    cells = GROUPS * CELLS_PER_GROUP
    safe_files = cells + len(HOSTILE) + len(BAD_VALUES) + len(PATH_CODES) + 3
    assert f"nhận {safe_files} tệp mới" in result.stdout, output
    warnings = _warnings_since(started)
    for folder in UNSAFE_FOLDERS:
        assert any(f"Bỏ qua «{folder}» trong hộp thư đến" in warning for warning in warnings), (
            warnings
        )
        assert f"«{folder}»" in result.stdout  # and the operator is told on screen
    assert f"Bỏ qua {len(UNSAFE_FOLDERS)} mục trong hộp thư đến" in result.stdout

    submissions, problems = _database(database_url)
    assert len(submissions) == safe_files  # nothing from the unsafe folders
    assert set(submissions) == {
        unit.code for unit in _units() if unit.kind in ("cell", "grassroots_cell")
    }

    # Every corpus file: one F1 naming the file and saying what is wrong; kept byte for byte.
    for code, case in HOSTILE.items():
        row = submissions[code]
        assert (row["file_name"], row["outcome"]) == (case.file_name, "rejected"), code
        assert [(p["rule"], p["severity"]) for p in problems[code]] == [("F1", "error")], code
        message = problems[code][0]["message"]
        assert f"«{case.file_name}»" in message and case.expect in message, (code, message)
        original = (CORPUS_DIR / case.file_name).read_bytes()
        archived = (workspace / row["archive_path"]).read_bytes()
        assert archived == original
        assert row["sha256"] == hashlib.sha256(original).hexdigest() == _sha256(archived)
    assert [p["rule"] for p in problems[TOO_BIG]] == ["F1"]
    assert "tệp quá lớn" in problems[TOO_BIG][0]["message"]
    assert (workspace / submissions[TOO_BIG]["archive_path"]).stat().st_size == (
        MAX_UNCOMPRESSED_BYTES + 1
    )

    # Hostile content is judged by the rules: V1 for every odd number or over-long text.
    for code in BAD_VALUES:
        assert (submissions[code]["file_name"], submissions[code]["outcome"]) == (
            "bao-cao.xlsx",
            "rejected",
        ), code
        assert "V1" in {p["rule"] for p in problems[code]}, (code, problems[code])
    for folder, code in PATH_CODES.items():
        assert submissions[folder]["outcome"] == "rejected"
        assert submissions[folder]["declared_unit_code"] == code
        assert {"F3", "F4"} <= {p["rule"] for p in problems[folder]}
    assert submissions["FM1"]["outcome"] in ("accepted", "accepted_with_warnings")
    assert submissions["FM2"]["outcome"] == "rejected"
    assert submissions["FM2"]["file_name"] == FORMULA_FILE

    # The good forms count, and nothing of a rejected one does.
    published = workspace / "published" / PERIOD
    values = consolidated_values(published / f"consolidated-{PERIOD}.csv")
    good = sum(_good_values(index)["members"] for index in range(cells))
    assert values[("U1", "members")] == str(good)
    assert values[("P", "members")] == str(good + VALID["members"])  # FM1's 20
    for code in [*HOSTILE, *BAD_VALUES, *PATH_CODES, "FM2", TOO_BIG]:
        assert values[(code, "members")] == "", code
    with (published / f"status-{PERIOD}.csv").open(encoding="utf-8") as handle:
        status = {row["unit_code"]: row["status"] for row in csv.DictReader(handle)}
    rejected = {code for code, outcome in status.items() if outcome == "rejected"}
    assert rejected == {*HOSTILE, *BAD_VALUES, *PATH_CODES, "FM2", TOO_BIG}

    # Each rejected unit is answered in a workbook named after its folder, giving the reason.
    feedback = published / "phan-hoi"
    registry_codes = {unit.code for unit in _units()}
    assert {path.name.removesuffix(f"-{PERIOD}.xlsx") for path in feedback.iterdir()} <= (
        registry_codes
    )
    for code in rejected:
        texts = " ".join(_cell_texts(feedback / f"{code}-{PERIOD}.xlsx"))
        # each reason in the unit's words: what was found, and what to do about it
        reasons = [plain_problem(problem) for problem in problems[code]]
        assert all(r.found in texts and r.advice in texts for r in reasons), code
    for code, case in HOSTILE.items():
        assert case.expect in " ".join(_cell_texts(feedback / f"{code}-{PERIOD}.xlsx"))
    assert FORMULA_FILE in _cell_texts(feedback / f"FM2-{PERIOD}.xlsx")

    # What a unit typed is published as text, never as a formula.
    workbooks = [*published.glob("tong-hop-*.xlsx"), *feedback.glob("*.xlsx")]
    assert len(workbooks) >= len(rejected) + 1
    assert [cell for path in workbooks for cell in _formula_cells(path)] == []
    # the province's workbook: every unit's text (an upper level's own holds its subtree's)
    summary = _cell_texts(published / f"tong-hop-{PERIOD}.xlsx")
    assert all(formula in summary for formula in FORMULAS.values())
    for path in published.glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            for record in csv.reader(handle):
                for field in record:
                    if field[:1] in ("=", "+", "-", "@"):
                        assert _PLAIN_NUMBER.fullmatch(field), (path.name, field)

    # Nothing is built from what a file says: no path outside the workspace, none named after
    # a code written in C2.
    beside = [path.name for path in workspace.parent.iterdir() if path.name != "ws"]
    assert all(name.startswith("test.db") for name in beside), beside  # SQLite and its lock
    for path in workspace.rglob("*"):
        relative = path.relative_to(workspace)
        if relative.parts[0] == "inbox":
            continue
        assert not {"etc", "a", "b", "..", "a\\b"} & set(relative.parts), relative
        assert "etc" not in path.name, relative


def test_unsafe_inbox_folders_are_never_used_as_units(workspace: Path) -> None:
    entries, skipped = scan_inbox(workspace / "inbox", folder_units(unit.code for unit in _units()))
    assert {entry.name: entry.reason for entry in skipped} == dict.fromkeys(
        UNSAFE_FOLDERS, UNSAFE_NAME_VI
    )
    assert not {entry.folder for entry in entries} & set(UNSAFE_FOLDERS)


def test_the_corpus_is_the_one_in_the_run() -> None:
    """Every corpus file is covered by the run above: each has its own unit."""
    assert {case.file_name for case in HOSTILE.values()} == {
        path.name for path in CORPUS_DIR.glob("*.xlsx")
    }
    assert len(set(HOSTILE.values())) == len(HOSTILE)
