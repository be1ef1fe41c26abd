"""Importing a registry into the database (SPEC §1) on SQLite and PostgreSQL: a registry with a
control character or a formula for a name is refused by line and stores nothing; each import is
a version in force from a date, earlier periods keeping theirs; a registry that would stop
counting accepted figures is refused whole; units left out are carried over and ended, so their
history stays readable from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.test_end_to_end import PERIOD, REGISTRY, build_workspace
from tests.test_republication import tonghop
from tonghop.registry import Unit
from tonghop.registry_store import load_units, registry_versions
from tonghop.storage import transaction
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import import_registry

ROOT = Path(__file__).resolve().parent.parent

# The end-to-end registry with G1C1 (accepted in PERIOD) removed and G3 (accepted in PERIOD)
# ended two months into it, so that neither counts on the period's last day any more.
CHANGED_REGISTRY = REGISTRY.replace("G1C1,Chi bộ Thôn Một,G1,cell,,,,\n", "").replace(
    "G3,Chi bộ Sở Tư pháp,P,grassroots_cell,agency,,,",
    "G3,Chi bộ Sở Tư pháp,P,grassroots_cell,agency,,2025-08-31,",
)


def words(output: str) -> str:
    """The output with line wrapping undone, so that a sentence can be looked for whole."""
    return " ".join(output.split())


def stored_units(database_url: str) -> list[Unit]:
    with transaction(database_url) as connection:
        return load_units(connection)


@pytest.fixture
def workspace(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> Path:
    """The end-to-end workspace with nothing imported; flows use the test's database."""
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    return build_workspace(tmp_path / "workspace")


def test_a_name_with_nul_is_refused_by_line_and_nothing_is_stored(
    workspace: Path, database_url: str
) -> None:
    root = workspace
    bad = root / "registry-nul.csv"
    # A NUL byte in G1C2's name (line 6): PostgreSQL cannot store it, SQLite would cut the name.
    bad.write_bytes(REGISTRY.encode().replace("Thôn Hai".encode(), b"Th\x00n Hai"))
    assert b"\x00" in bad.read_bytes()

    refused = import_registry(str(bad), str(root))
    assert [(problem.line, problem.message) for problem in refused.problems] == [
        (
            6,
            "Dòng 6: tên đơn vị «Chi bộ Th[U+0000]n Hai» có ký tự điều khiển không in được "
            "(U+0000) ở cột name; hãy xoá ký tự này rồi lưu lại tệp.",
        )
    ]
    assert refused.version is None
    assert stored_units(database_url) == []

    # Over a stored registry too: the refused file changes nothing of it.
    first = import_registry(str(root / "registry.csv"), str(root))
    assert (first.problems, first.version, first.effective_from) == ([], 1, None)
    before = stored_units(database_url)
    assert len(before) == 8
    assert import_registry(str(bad), str(root)).problems == refused.problems
    assert stored_units(database_url) == before


def test_a_formula_for_a_name_is_refused_by_line_and_nothing_is_stored(
    workspace: Path, database_url: str
) -> None:
    root = workspace
    bad = root / "registry-formula.csv"
    bad.write_text(REGISTRY.replace("Chi bộ Thôn Hai", "\"=cmd|' /C calc'!A0\""), encoding="utf-8")
    refused = import_registry(str(bad), str(root))
    assert [problem.line for problem in refused.problems] == [6]
    assert refused.problems[0].message.startswith(
        "Dòng 6: tên «=cmd|' /C calc'!A0» của đơn vị «G1C2» bắt đầu bằng «=», Excel sẽ hiểu là "
        "công thức"
    )
    assert stored_units(database_url) == []


def versions(database_url: str) -> list[int]:
    with transaction(database_url) as connection:
        return [version.number for version in registry_versions(connection)]


def test_a_registry_that_would_stop_counting_accepted_figures_is_refused(
    imported: Path, database_url: str
) -> None:
    root = imported
    collected = collect(PERIOD, str(root))
    assert collected.accepted + collected.warned == 4  # G1C1, G1, U1 and G3; G2's is broken
    changed = root / "registry-2.csv"
    changed.write_text(CHANGED_REGISTRY, encoding="utf-8")

    # In force for the quarter G1C1 and G3 reported: refused whole, by unit, nothing stored.
    refused = import_registry(str(changed), str(root), effective_from=date(2025, 7, 1))
    assert [problem.message for problem in refused.problems] == [
        "Đơn vị «G1C1» không có trong danh sách mới (nên được coi là kết thúc ngày 30/06/2025) "
        "nhưng đã có báo cáo được tiếp nhận cho Quý III năm 2025 (2025Q3): số liệu này sẽ không "
        "còn được tính. Đề nghị để đơn vị hoạt động "
        "đến hết ngày 30/09/2025 (cột valid_to) hoặc cho danh sách mới có hiệu lực từ kỳ sau "
        "(--tu-ngay).",
        "Đơn vị «G3» theo danh sách mới kết thúc ngày 31/08/2025 nhưng đã có báo cáo được tiếp "
        "nhận cho Quý III năm 2025 (2025Q3): số liệu này sẽ không còn được tính. Đề nghị để đơn "
        "vị hoạt động đến hết ngày 30/09/2025 (cột valid_to) hoặc cho danh sách mới có hiệu lực "
        "từ kỳ sau (--tu-ngay).",
    ]
    assert versions(database_url) == [1]

    # In force from the next quarter: stored as version 2; G1C1, left out, is carried over and
    # ended the day before, and 2025Q3 is still consolidated under version 1.
    stored = import_registry(str(changed), str(root), effective_from=date(2025, 10, 1))
    assert (stored.problems, stored.version, stored.ended) == ([], 2, 2)
    latest = {unit.code: unit for unit in stored_units(database_url)}
    assert latest["G1C1"].valid_to == date(2025, 9, 30)
    assert latest["G3"].valid_to == date(2025, 8, 31)
    with transaction(database_url) as connection:
        in_q3 = {unit.code: unit for unit in load_units(connection, date(2025, 9, 30))}
    assert in_q3["G1C1"].valid_to is None and in_q3["G3"].valid_to is None

    # The same file again changes nothing and stores nothing; an earlier date is refused.
    again = import_registry(str(changed), str(root), effective_from=date(2025, 10, 1))
    assert (again.problems, again.version) == ([], None)
    earlier = import_registry(str(changed), str(root), effective_from=date(2025, 4, 1))
    assert "không thể nhập danh sách có hiệu lực sớm hơn" in earlier.problems[0].message
    assert versions(database_url) == [1, 2]


def test_a_unit_moved_under_its_own_descendant_is_refused_and_nothing_changes(
    imported: Path, database_url: str
) -> None:
    root = imported
    moved = root / "registry-moved.csv"
    # U1 under G1, which lies under U1.
    moved.write_text(
        REGISTRY.replace("U1,Huyện ủy Một,P,upper", "U1,Huyện ủy Một,G1,upper"), encoding="utf-8"
    )
    refused = import_registry(str(moved), str(root))
    assert refused.problems and any("vòng" in p.message for p in refused.problems)
    assert versions(database_url) == [1]


def test_history_and_show_of_units_left_out_of_the_registry(
    imported: Path, database_url: str
) -> None:
    root = imported
    collect(PERIOD, str(root))
    changed = root / "registry-2.csv"
    changed.write_text(CHANGED_REGISTRY, encoding="utf-8")
    options = ["--period", PERIOD, "--workspace", str(root)]

    imported_again = tonghop(
        "registry",
        "import",
        str(changed),
        "--tu-ngay",
        "2025-10-01",
        *options[2:],
        database_url=database_url,
    )
    assert imported_again.returncode == 0, imported_again.stdout + imported_again.stderr
    said = words(imported_again.stdout)
    assert "Đã lưu danh sách đơn vị phiên bản 2 (8 đơn vị; 2 đơn vị kết thúc hoạt động)" in said
    assert "có hiệu lực từ ngày 01/10/2025" in said

    history = tonghop("history", "--unit", "G1C1", *options, database_url=database_url)
    assert history.returncode == 0, history.stdout + history.stderr
    said = words(history.stdout)
    assert "Chi bộ Thôn Một (G1C1), Quý III năm 2025: 1 phiên bản báo cáo đã nhận." in said
    assert "bao-cao.xlsx" in said and "✓" in history.stdout
    assert "Traceback" not in history.stdout + history.stderr

    show = tonghop("show", "--unit", "G1C1", *options, database_url=database_url)
    assert show.returncode == 0, show.stdout + show.stderr
    said = words(show.stdout)
    assert "Số liệu lấy từ tệp «bao-cao.xlsx»" in said
    members = next(line for line in show.stdout.splitlines() if "Tổng số đảng viên" in line)
    assert "25" in members
    assert "Traceback" not in show.stdout + show.stderr

    # In the quarter after the change, G1C1 no longer counts, and the command says so.
    later = tonghop(
        "history", "--unit", "G1C1", "--period", "2025Q4", *options[2:], database_url=database_url
    )
    assert later.returncode == 0, later.stdout + later.stderr
    assert "không hoạt động vào ngày cuối kỳ (31/12/2025" in words(later.stdout)

    never = tonghop("history", "--unit", "G9", *options, database_url=database_url)
    assert never.returncode == 1
    assert "Không có đơn vị mã «G9» trong danh sách đơn vị." in words(never.stdout)
