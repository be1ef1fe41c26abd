"""Importing a registry into the database (SPEC §1) on SQLite and PostgreSQL: a registry with a
control character or a formula for a name is refused by line and stores nothing; a registry
that removes or ends units with accepted submissions is stored and says so; and the history of
such units stays readable from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.test_end_to_end import PERIOD, REGISTRY, build_workspace
from tests.test_republication import tonghop
from tonghop.registry import Unit
from tonghop.registry_changes import removal_notices
from tonghop.registry_store import load_units
from tonghop.storage import transaction
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import RegistryImport, import_registry

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
    assert refused.notices == []
    assert stored_units(database_url) == []

    # Over a stored registry too: the refused file changes nothing of it.
    assert import_registry(str(root / "registry.csv"), str(root)) == RegistryImport([], [])
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


def test_units_removed_or_ended_after_submitting_are_named_with_their_periods(
    imported: Path, database_url: str
) -> None:
    root = imported
    collected = collect(PERIOD, str(root))
    assert collected.accepted + collected.warned == 4  # G1C1, G1, U1 and G3; G2's is broken
    changed = root / "registry-2.csv"
    changed.write_text(CHANGED_REGISTRY, encoding="utf-8")

    result = import_registry(str(changed), str(root))
    assert result.problems == []
    assert [(n.code, n.name, n.removed, n.periods) for n in result.notices] == [
        ("G1C1", "Chi bộ Thôn Một", True, (PERIOD,)),
        ("G3", "Chi bộ Sở Tư pháp", False, (PERIOD,)),
    ]
    removed, ended = (notice.message_vi for notice in result.notices)
    assert removed == (
        "«G1C1» Chi bộ Thôn Một: bị bỏ khỏi danh sách; kỳ có báo cáo đã được tiếp nhận: "
        "Quý III năm 2025 (2025Q3)."
    )
    assert "theo danh sách mới, thời gian hiệu lực: không có ngày bắt đầu, đến 2025-08-31" in ended
    # The import was stored all the same.
    stored = {unit.code: unit for unit in stored_units(database_url)}
    assert "G1C1" not in stored and stored["G3"].valid_to == date(2025, 8, 31)

    # The same file again removes nothing more, and says nothing.
    assert import_registry(str(changed), str(root)) == RegistryImport([], [])


def test_history_and_show_of_units_gone_from_the_registry(
    imported: Path, database_url: str
) -> None:
    root = imported
    collect(PERIOD, str(root))
    changed = root / "registry-2.csv"
    changed.write_text(CHANGED_REGISTRY, encoding="utf-8")
    options = ["--period", PERIOD, "--workspace", str(root)]

    imported_again = tonghop(
        "registry", "import", str(changed), *options[2:], database_url=database_url
    )
    assert imported_again.returncode == 0, imported_again.stdout + imported_again.stderr
    said = words(imported_again.stdout)
    assert said.index("Đã nhập danh sách đơn vị") < said.index("Lưu ý: 2 đơn vị")
    assert "«G1C1» Chi bộ Thôn Một: bị bỏ khỏi danh sách" in said
    assert "«G3» Chi bộ Sở Tư pháp: theo danh sách mới, thời gian hiệu lực" in said
    assert said.count("Quý III năm 2025 (2025Q3)") == 2
    assert "sẽ không còn được tính" in said

    history = tonghop("history", "--unit", "G1C1", *options, database_url=database_url)
    assert history.returncode == 0, history.stdout + history.stderr
    said = words(history.stdout)
    assert "Đơn vị mã G1C1, Quý III năm 2025: 1 phiên bản báo cáo đã nhận." in said
    assert "không còn trong danh sách đơn vị hiện hành" in said
    assert "bao-cao.xlsx" in said and "✓" in history.stdout
    assert "Traceback" not in history.stdout + history.stderr

    show = tonghop("show", "--unit", "G1C1", *options, database_url=database_url)
    assert show.returncode == 0, show.stdout + show.stderr
    said = words(show.stdout)
    assert "không còn trong danh sách đơn vị hiện hành" in said
    assert "Số liệu lấy từ tệp «bao-cao.xlsx»" in said
    members = next(line for line in show.stdout.splitlines() if "Tổng số đảng viên" in line)
    assert "25" in members
    assert "Traceback" not in show.stdout + show.stderr

    ended = tonghop("history", "--unit", "G3", *options, database_url=database_url)
    assert ended.returncode == 0, ended.stdout + ended.stderr
    said = words(ended.stdout)
    assert "Chi bộ Sở Tư pháp (G3), Quý III năm 2025: 1 phiên bản báo cáo đã nhận." in said
    assert "không hoạt động vào ngày cuối kỳ (30/09/2025" in said

    never = tonghop("history", "--unit", "G9", *options, database_url=database_url)
    assert never.returncode == 1
    assert "Không có đơn vị mã «G9» trong danh sách đơn vị." in words(never.stdout)


def unit(code: str, valid_from: date | None = None, valid_to: date | None = None) -> Unit:
    return Unit(code, f"Chi bộ {code}", "G", "cell", None, valid_from, valid_to, None)


def test_only_the_periods_an_import_stops_counting_are_named() -> None:
    stored = {
        "A": unit("A"),
        "B": unit("B"),
        "C": unit("C", valid_to=date(2025, 3, 31)),
        "D": unit("D"),
    }
    accepted = [
        ("A", "2025Q2", stored["A"]),
        ("A", "2025Q3", stored["A"]),
        ("A", "2025Q1", stored["A"]),
        ("B", "2025Q3", stored["B"]),
        ("C", "2025Q1", stored["C"]),
        ("C", "2025Q2", stored["C"]),  # already out of the stored registry's Q2: not news
        ("D", "2025Q3", stored["D"]),
        ("E", "2025Q3", None),  # gone before this import
    ]
    new = [
        unit("A", valid_to=date(2025, 7, 15)),  # ends inside Q3
        unit("B", valid_from=date(2025, 10, 1)),  # starts after Q3 now
        unit("D"),
    ]
    notices = removal_notices(accepted, new)
    assert [(n.code, n.removed, n.periods) for n in notices] == [
        ("A", False, ("2025Q3",)),
        ("B", False, ("2025Q3",)),
        ("C", True, ("2025Q1",)),
    ]
