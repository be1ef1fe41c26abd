"""Tests of the registry (SPEC §1): reading, validation and the hierarchy helpers."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from tonghop.registry import (
    HEADER,
    Unit,
    active_units,
    closure_rows,
    codes_with_active_children,
    hierarchy_positions,
    levels,
    read_registry,
    validate_registry,
    write_registry_csv,
)

HEADER_LINE = ",".join(HEADER)

# A ragged hierarchy: a grassroots cell right under the province, a cell under a partial
# committee, a committee whose only cell was dissolved at the end of 2024. Lines 2..12.
GOOD_ROWS = [
    "TU,Đảng bộ tỉnh Mẫu,,province,,,,tinhuy@example.vn",  # 2
    "HU1,Đảng bộ huyện Một,TU,upper,,,,",  # 3
    "DU1,Đảng bộ xã Một,HU1,grassroots_committee,commune,,,",  # 4
    "CB1,Chi bộ thôn Một,DU1,cell,,,,",  # 5
    "BP1,Đảng bộ bộ phận Một,DU1,partial_committee,,2021-01-01,,",  # 6
    "CB2,Chi bộ tổ Hai,BP1,cell,,2021-06-01,,",  # 7
    "CBCS1,Chi bộ Sở Tư pháp,TU,grassroots_cell,agency,,,",  # 8
    "DU2,Đảng bộ Công ty Hai,TU,grassroots_committee,private,2021-01-01,,",  # 9
    "CB3,Chi bộ phân xưởng Ba,DU2,cell,,2021-01-01,2024-12-31,",  # 10
    "CB4,Chi bộ thôn Bốn,DU1,cell,,,,",  # 11
    "CBCS2,Chi bộ trường Hai,HU1,grassroots_cell,agency,,,",  # 12
]
FIRST_FREE_LINE = len(GOOD_ROWS) + 2


def write_csv(path: Path, rows: list[str], header: str = HEADER_LINE, bom: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def read_good(tmp_path: Path) -> list[Unit]:
    units, problems = read_registry(write_csv(tmp_path / "good.csv", GOOD_ROWS))
    assert problems == []
    return units


def test_good_registry_is_read_with_line_numbers_and_blanks_as_none(tmp_path: Path) -> None:
    units = read_good(tmp_path)
    assert [unit.line for unit in units] == list(range(2, FIRST_FREE_LINE))
    root, cell = units[0], units[3]
    assert root == Unit(
        code="TU",
        name="Đảng bộ tỉnh Mẫu",
        parent_code=None,
        kind="province",
        sector=None,
        valid_from=None,
        valid_to=None,
        email="tinhuy@example.vn",
        line=2,
    )
    assert (cell.code, cell.parent_code, cell.sector, cell.valid_from, cell.email) == (
        "CB1",
        "DU1",
        None,
        None,
        None,
    )


def test_levels_of_a_ragged_hierarchy(tmp_path: Path) -> None:
    assert levels(read_good(tmp_path)) == {
        "TU": 0,
        "HU1": 1,
        "CBCS1": 1,
        "DU2": 1,
        "DU1": 2,
        "CBCS2": 2,
        "CB3": 2,
        "CB1": 3,
        "BP1": 3,
        "CB4": 3,
        "CB2": 4,
    }


def test_positions_are_pre_order_with_children_in_line_order(tmp_path: Path) -> None:
    positions = hierarchy_positions(read_good(tmp_path))
    ordered = sorted(positions, key=positions.__getitem__)
    assert ordered == [
        "TU",
        "HU1",
        "DU1",
        "CB1",
        "BP1",
        "CB2",
        "CB4",
        "CBCS2",
        "CBCS1",
        "DU2",
        "CB3",
    ]
    assert positions["TU"] == 0


def test_positions_follow_lines_not_sequence_order(tmp_path: Path) -> None:
    units = read_good(tmp_path)
    assert hierarchy_positions(list(reversed(units))) == hierarchy_positions(units)


def test_closure_of_a_ragged_hierarchy(tmp_path: Path) -> None:
    units = read_good(tmp_path)
    rows = closure_rows(units)
    assert len(rows) == len(set(rows))
    ancestors_of_cb2 = sorted((depth, a) for a, d, depth in rows if d == "CB2")
    assert ancestors_of_cb2 == [(0, "CB2"), (1, "BP1"), (2, "DU1"), (3, "HU1"), (4, "TU")]
    assert sorted(d for a, d, _ in rows if a == "DU1") == ["BP1", "CB1", "CB2", "CB4", "DU1"]
    assert sorted((a, depth) for a, d, depth in rows if d == "CBCS1") == [("CBCS1", 0), ("TU", 1)]
    assert {(a, d) for a, d, depth in rows if depth == 0} == {(u.code, u.code) for u in units}
    unit_levels = levels(units)
    assert len(rows) == sum(level + 1 for level in unit_levels.values())


@pytest.mark.parametrize(
    ("day", "not_leaves", "active_count"),
    [
        # CB3 is still active: DU2 has a child, so it is not a leaf.
        (date(2024, 12, 31), {"TU", "HU1", "DU1", "BP1", "DU2"}, 11),
        # CB3 was dissolved: DU2 has no active child left and becomes a leaf.
        (date(2025, 3, 31), {"TU", "HU1", "DU1", "BP1"}, 10),
        # Before BP1, CB2, DU2 and CB3 existed.
        (date(2020, 12, 31), {"TU", "HU1", "DU1"}, 7),
    ],
)
def test_activity_and_leaves(
    tmp_path: Path, day: date, not_leaves: set[str], active_count: int
) -> None:
    units = read_good(tmp_path)
    assert codes_with_active_children(units, day) == not_leaves
    active = active_units(units, day)
    assert len(active) == active_count
    assert active == [unit for unit in units if unit.active_on(day)]


# Each case adds rows after the good registry (from line FIRST_FREE_LINE on) and must yield
# exactly one problem, on `line_offset` lines after the first added row.
BAD_CASES = {
    "duplicate code": (["CB1,Chi bộ trùng mã,DU1,cell,,,,"], 0, "«CB1» trùng với dòng 5"),
    "duplicate code differing in case": (
        ["cb1,Chi bộ trùng mã,DU1,cell,,,,"],
        0,
        "trùng với mã «CB1» ở dòng 5",
    ),
    "unknown parent": (
        ["CB12,Chi bộ mười hai,X99,cell,,,,"],
        0,
        "đơn vị cấp trên «X99» của «CB12» không có trong danh sách",
    ),
    "cycle of one unit": (
        ["HU9,Đảng bộ tự trực thuộc,HU9,upper,,,,"],
        0,
        "«HU9» → «HU9»",
    ),
    "two provinces": (
        ["TU2,Đảng bộ tỉnh khác,,province,,,,"],
        0,
        "«Đảng bộ tỉnh» thứ hai (đã có «TU» ở dòng 2)",
    ),
    "province with a parent": (
        ["TU3,Đảng bộ tỉnh khác,HU1,province,,,,"],
        0,
        "không có đơn vị cấp trên (cột parent_code đang ghi «HU1»)",
    ),
    "second root that is not a province": (
        ["CB8,Chi bộ không cấp trên,,cell,,,,"],
        0,
        "đơn vị «CB8» (Chi bộ trực thuộc) không có đơn vị cấp trên",
    ),
    "cell under the province": (
        ["CB7,Chi bộ trực thuộc tỉnh,TU,cell,,,,"],
        0,
        "«Chi bộ trực thuộc» không thể trực thuộc «Đảng bộ tỉnh» (đơn vị «CB7», cấp trên «TU»)",
    ),
    "partial committee under an upper committee": (
        ["BP9,Đảng bộ bộ phận,HU1,partial_committee,,,,"],
        0,
        "«Đảng bộ bộ phận» không thể trực thuộc «Đảng bộ cấp trên cơ sở»",
    ),
    "grassroots committee under a grassroots committee": (
        ["DU9,Đảng bộ cơ sở,DU1,grassroots_committee,agency,,,"],
        0,
        "«Đảng bộ cơ sở» không thể trực thuộc «Đảng bộ cơ sở»",
    ),
    "cell under a cell": (
        ["CB9,Chi bộ,CB1,cell,,,,"],
        0,
        "«Chi bộ trực thuộc» không thể trực thuộc «Chi bộ trực thuộc»",
    ),
    "unknown kind": (["CB9,Chi bộ,DU1,chi_bo,,,,"], 0, "loại đơn vị «chi_bo» của đơn vị «CB9»"),
    "missing kind": (["CB9,Chi bộ,DU1,,,,,"], 0, "đơn vị «CB9» thiếu loại đơn vị (cột kind)"),
    "missing name": (["CB9,,DU1,cell,,,,"], 0, "đơn vị «CB9» thiếu tên đơn vị"),
    "missing code": ([",Chi bộ không mã,DU1,cell,,,,"], 0, "thiếu mã đơn vị (cột code)"),
    "bad sector": (
        ["DU9,Đảng bộ nhà máy,HU1,grassroots_committee,factory,,,"],
        0,
        "loại hình «factory» của đơn vị «DU9» không hợp lệ",
    ),
    "grassroots organisation without sector": (
        ["CBCS9,Chi bộ cơ sở,HU1,grassroots_cell,,,,"],
        0,
        "«CBCS9» là «Chi bộ cơ sở» nên phải ghi loại hình (cột sector)",
    ),
    "sector on a cell": (
        ["CB9,Chi bộ,DU1,cell,commune,,,"],
        0,
        "cột sector phải để trống (đang ghi «commune»)",
    ),
    "date in day-first format": (
        ["CB9,Chi bộ,DU1,cell,,31/03/2025,,"],
        0,
        "ngày «31/03/2025» ở cột valid_from của đơn vị «CB9» không đúng định dạng",
    ),
    "impossible date": (
        ["CB9,Chi bộ,DU1,cell,,,2025-02-30,"],
        0,
        "ngày «2025-02-30» ở cột valid_to",
    ),
    "compact ISO date": (["CB9,Chi bộ,DU1,cell,,20250101,,"], 0, "ngày «20250101»"),
    "start after end": (
        ["CB9,Chi bộ,DU1,cell,,2025-06-01,2025-01-01,"],
        0,
        "ngày bắt đầu hiệu lực 2025-06-01 của đơn vị «CB9» sau ngày kết thúc 2025-01-01",
    ),
    "slash in code": (["CB/9,Chi bộ,DU1,cell,,,,"], 0, "mã đơn vị «CB/9» không hợp lệ"),
    "backslash in code": (["CB\\9,Chi bộ,DU1,cell,,,,"], 0, "mã đơn vị «CB\\9» không hợp lệ"),
    "parent folder in code": (["..,Chi bộ,DU1,cell,,,,"], 0, "mã đơn vị «..» không hợp lệ"),
    "double dot inside code": (["CB..9,Chi bộ,DU1,cell,,,,"], 0, "mã đơn vị «CB..9» không hợp lệ"),
    "space in code": (['"CB 9",Chi bộ,DU1,cell,,,,'], 0, "mã đơn vị «CB 9» không hợp lệ"),
    "accented letter in code": (["CBĐ9,Chi bộ,DU1,cell,,,,"], 0, "mã đơn vị «CBĐ9» không hợp lệ"),
    "leading dot in code": ([".CB9,Chi bộ,DU1,cell,,,,"], 0, "mã đơn vị «.CB9» không hợp lệ"),
    "device name as code": (["NUL,Chi bộ,DU1,cell,,,,"], 0, "tên dành riêng của hệ điều hành"),
    "starts before its parent": (
        ["CB9,Chi bộ,DU2,cell,,2020-06-01,,"],
        0,
        "thời gian hiệu lực của «CB9» (từ 2020-06-01, không có ngày kết thúc) nằm ngoài thời "
        "gian hiệu lực của đơn vị cấp trên «DU2» (từ 2021-01-01, không có ngày kết thúc)",
    ),
    "open start under a parent with a start": (
        ["CB9,Chi bộ,BP1,cell,,,,"],
        0,
        "«CB9» (không giới hạn thời gian) nằm ngoài",
    ),
    "outlives its dissolved parent": (
        [
            "DU3,Đảng bộ đã giải thể,HU1,grassroots_committee,commune,2020-01-01,2023-12-31,",
            "CB9,Chi bộ,DU3,cell,,2020-01-01,,",
        ],
        1,
        "của đơn vị cấp trên «DU3» (từ 2020-01-01 đến 2023-12-31)",
    ),
    "bad email": (["CB9,Chi bộ,DU1,cell,,,,chibo9@"], 0, "thư điện tử «chibo9@» của đơn vị «CB9»"),
    "two emails in one cell": (
        ['CB9,Chi bộ,DU1,cell,,,,"a@example.vn, b@example.vn"'],
        0,
        "thư điện tử «a@example.vn, b@example.vn»",
    ),
    "short row": (["CB9,Chi bộ,DU1,cell"], 0, "có 4 ô trong khi dòng tiêu đề có 8 cột"),
}


@pytest.mark.parametrize(("added", "line_offset", "phrase"), BAD_CASES.values(), ids=BAD_CASES)
def test_each_bad_registry_gives_one_problem(
    tmp_path: Path, added: list[str], line_offset: int, phrase: str
) -> None:
    units, problems = read_registry(write_csv(tmp_path / "bad.csv", GOOD_ROWS + added))
    assert units == []
    assert len(problems) == 1, problems
    line = FIRST_FREE_LINE + line_offset
    assert problems[0].line == line
    assert problems[0].message.startswith(f"Dòng {line}: ")
    assert phrase in problems[0].message


def test_a_cycle_reports_every_unit_on_it_and_only_them() -> None:
    units = [
        Unit("TU", "Tỉnh", None, "province", None, None, None, None, 2),
        Unit("A", "A", "C", "upper", None, None, None, None, 3),
        Unit("B", "B", "A", "upper", None, None, None, None, 4),
        Unit("C", "C", "B", "upper", None, None, None, None, 5),
        # Hangs below the cycle: unreachable, but not itself on the cycle.
        Unit("D", "D", "A", "upper", None, None, None, None, 6),
    ]
    problems = validate_registry(units)
    assert [problem.line for problem in problems] == [3, 4, 5]
    assert "«A» → «C» → «B» → «A»" in problems[0].message
    assert "«B» → «A» → «C» → «B»" in problems[1].message
    with pytest.raises(ValueError):
        closure_rows(units)
    with pytest.raises(ValueError):
        levels(units)


def test_a_long_cycle_is_shortened_in_the_message() -> None:
    count = 500
    units = [Unit("TU", "Tỉnh", None, "province", None, None, None, None, 2)] + [
        Unit(f"U{i}", f"U{i}", f"U{(i + 1) % count}", "upper", None, None, None, None, 3 + i)
        for i in range(count)
    ]
    problems = validate_registry(units)
    assert len(problems) == count
    assert all(len(problem.message) < 300 for problem in problems)
    assert "(500 đơn vị)" in problems[0].message


def test_registry_with_several_problems_lists_all_of_them_sorted(tmp_path: Path) -> None:
    rows = [
        *GOOD_ROWS,
        "CB1,Chi bộ trùng mã,DU1,cell,,,,",  # 13: duplicate
        "CB20,Chi bộ,X99,cell,,,,",  # 14: unknown parent
        "TU2,Tỉnh khác,,province,,,,",  # 15: second root
        "CB21,Chi bộ,TU,cell,,2025-13-01,,",  # 16: bad date, cell under the province
    ]
    # Put a bad row before the good ones so that sorting by line is really exercised.
    rows.insert(0, "CB22,Chi bộ,DU1,cell,agency,,,")  # 2: sector on a cell
    units, problems = read_registry(write_csv(tmp_path / "bad.csv", rows))
    assert units == []
    assert [problem.line for problem in problems] == [2, 14, 15, 16, 17, 17]
    messages = " | ".join(problem.message for problem in problems)
    for phrase in (
        "Dòng 2: đơn vị «CB22» là «Chi bộ trực thuộc»",
        "Dòng 14: mã đơn vị «CB1» trùng với dòng 6.",
        "Dòng 15: đơn vị cấp trên «X99» của «CB20»",
        "Dòng 16: đơn vị «TU2» là «Đảng bộ tỉnh» thứ hai",
        "Dòng 17: ngày «2025-13-01»",
        "Dòng 17: «Chi bộ trực thuộc» không thể trực thuộc «Đảng bộ tỉnh»",
    ):
        assert phrase in messages


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    units, problems = read_registry(write_csv(tmp_path / "bom.csv", GOOD_ROWS, bom=True))
    assert problems == []
    assert units[0].code == "TU"
    assert units == read_good(tmp_path)


def test_columns_in_another_order_with_spaces_and_blank_rows(tmp_path: Path) -> None:
    header = "name, code ,kind,parent_code,sector,valid_to,valid_from,email"
    rows = [
        "Đảng bộ tỉnh,TU,province,,,,2020-01-01,",
        ",,,,,,,",  # 3: an empty row left by a spreadsheet
        "  Đảng bộ huyện  , HU1 ,upper, TU ,,2030-12-31,2020-02-01,",
    ]
    units, problems = read_registry(write_csv(tmp_path / "r.csv", rows, header=header))
    assert problems == []
    assert [(u.code, u.name, u.parent_code, u.line) for u in units] == [
        ("TU", "Đảng bộ tỉnh", None, 2),
        ("HU1", "Đảng bộ huyện", "TU", 4),
    ]
    assert units[0].valid_from == date(2020, 1, 1)
    assert (units[1].valid_from, units[1].valid_to) == (date(2020, 2, 1), date(2030, 12, 31))


def test_line_numbers_count_physical_lines_of_multiline_cells(tmp_path: Path) -> None:
    rows = [
        '"TU","Đảng bộ tỉnh\nMẫu",,province,,,,',  # lines 2-3
        "HU1,Huyện,TU,upper,,,,",  # 4
        "CB1,Chi bộ,HU1,cell,,,,",  # 5: a cell cannot sit under an upper committee
    ]
    units, problems = read_registry(write_csv(tmp_path / "r.csv", rows))
    assert units == []
    # The line break is itself refused (a name is one line wherever it is shown), on the line
    # where its row starts; the row after it is still counted from its physical line.
    assert [problem.line for problem in problems] == [2, 5]
    assert "U+000A – dấu xuống dòng" in problems[0].message


@pytest.mark.parametrize(
    ("header", "phrase"),
    [
        ("code,name,parent_code,kind,sector,valid_from,valid_to", "thiếu cột email"),
        ("code,name,parent,kind,sector,valid_from,valid_to,email", "thiếu cột parent_code"),
        (HEADER_LINE + ",note", "cột không thuộc mẫu: note"),
        (HEADER_LINE + ",code", "cột lặp lại: code"),
    ],
)
def test_bad_header_is_a_problem_on_line_1(tmp_path: Path, header: str, phrase: str) -> None:
    units, problems = read_registry(write_csv(tmp_path / "h.csv", GOOD_ROWS, header=header))
    assert units == []
    assert problems[0].line == 1
    assert problems[0].message.startswith("Dòng 1: ")
    assert phrase in problems[0].message


def test_extra_column_does_not_hide_the_problems_of_the_rows(tmp_path: Path) -> None:
    rows = [row + "," for row in GOOD_ROWS] + ["CB1,Chi bộ trùng mã,DU1,cell,,,,,"]
    units, problems = read_registry(
        write_csv(tmp_path / "h.csv", rows, header=HEADER_LINE + ",note")
    )
    assert units == []
    assert [problem.line for problem in problems] == [1, FIRST_FREE_LINE]


def test_unnamed_empty_trailing_column_is_ignored(tmp_path: Path) -> None:
    rows = [row + "," for row in GOOD_ROWS]
    units, problems = read_registry(write_csv(tmp_path / "t.csv", rows, header=HEADER_LINE + ","))
    assert problems == []
    assert len(units) == len(GOOD_ROWS)


def test_file_that_is_not_utf8_is_refused_at_its_first_bad_line(tmp_path: Path) -> None:
    text = "\n".join([HEADER_LINE, "TU,Tinh,,province,,,,", "HU1,Đông Hà,TU,upper,,,,"])
    path = tmp_path / "ansi.csv"
    path.write_bytes(text.encode("cp1258"))
    units, problems = read_registry(path)
    assert units == []
    assert [problem.line for problem in problems] == [3]
    assert "CSV UTF-8" in problems[0].message


@pytest.mark.parametrize(
    ("content", "line", "phrase"),
    [
        (b"", 1, "tệp trống"),
        (b"\xef\xbb\xbf", 1, "tệp trống"),
        (HEADER_LINE.encode() + b"\n", 0, "không có đơn vị nào"),
    ],
)
def test_empty_files(tmp_path: Path, content: bytes, line: int, phrase: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    units, problems = read_registry(path)
    assert units == []
    assert [problem.line for problem in problems] == [line]
    assert phrase in problems[0].message


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    units, problems = read_registry(tmp_path / "absent.csv")
    assert units == []
    assert problems[0].line == 0


def test_registry_without_province_is_refused_as_a_whole() -> None:
    units = [Unit("HU1", "Huyện", None, "upper", None, None, None, None, 2)]
    messages = [(problem.line, problem.message) for problem in validate_registry(units)]
    assert messages[0][0] == 0
    assert "không có «Đảng bộ tỉnh» làm đơn vị gốc" in messages[0][1]
    assert messages[1][0] == 2


def test_write_then_read_gives_the_same_units(tmp_path: Path) -> None:
    units = read_good(tmp_path)
    path = tmp_path / "copy.csv"
    write_registry_csv(path, units)
    assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER_LINE
    again, problems = read_registry(path)
    assert problems == []
    assert again == units


def big_tree(count: int) -> list[Unit]:
    """A seed-001-like tree of `count` units: province, uppers, committees, cells."""

    def unit(code: str, parent: str | None, kind: str, sector: str | None = None) -> Unit:
        return Unit(code, code, parent, kind, sector, None, None, None, len(units) + 2)

    units: list[Unit] = []
    units.append(unit("TU", None, "province"))
    for u in range(20):
        units.append(unit(f"HU{u}", "TU", "upper"))
    committee = 0
    while len(units) < count:
        code = f"DU{committee}"
        units.append(unit(code, f"HU{committee % 20}", "grassroots_committee", "commune"))
        for c in range(min(48, count - len(units))):
            units.append(unit(f"{code}.CB{c}", code, "cell"))
        committee += 1
    return units


def test_closure_of_a_50000_unit_tree_is_linear_in_its_size() -> None:
    units = big_tree(50_000)
    assert len(units) == 50_000
    # A quadratic check or closure would need billions of steps here and never finish.
    assert validate_registry(units) == []
    rows = closure_rows(units)
    unit_levels = levels(units)
    assert max(unit_levels.values()) == 3
    assert len(rows) == sum(level + 1 for level in unit_levels.values())
    assert ("TU", "DU7.CB3", 3) in rows
    assert ("HU7", "DU7.CB3", 2) in rows
    assert len(hierarchy_positions(units)) == 50_000


def test_a_deep_chain_needs_no_recursion() -> None:
    depth = 1_200  # beyond the recursion limit, small enough for its quadratic closure
    units = [Unit("TU", "TU", None, "province", None, None, None, None, 2)] + [
        Unit(f"U{i}", f"U{i}", "TU" if i == 0 else f"U{i - 1}", "upper", None, None, None, None)
        for i in range(depth)
    ]
    assert validate_registry(units) == []
    assert levels(units)[f"U{depth - 1}"] == depth
    assert hierarchy_positions(units)[f"U{depth - 1}"] == depth
    rows = closure_rows(units)
    assert len(rows) == (depth + 1) * (depth + 2) // 2


def csv_row(*cells: str) -> str:
    """One CSV line with every cell quoted as a spreadsheet would quote it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="", quoting=csv.QUOTE_ALL).writerow(cells)
    return buffer.getvalue()


# A cell of each column with a control character in it, with the column's words in the message.
CONTROL_CASES = {
    "NUL in a name": (csv_row("CB9", "Chi bộ\x00 Chín", "DU1", "cell", "", "", "", ""), "name"),
    "bell in a name": (csv_row("CB9", "Chi bộ\x07", "DU1", "cell", "", "", "", ""), "name"),
    "DEL in a name": (csv_row("CB9", "Chi\x7f bộ", "DU1", "cell", "", "", "", ""), "name"),
    "C1 control in a name": (
        csv_row("CB9", "Chi bộ\x85Chín", "DU1", "cell", "", "", "", ""),
        "name",
    ),
    "tab inside a name": (csv_row("CB9", "Chi bộ\tChín", "DU1", "cell", "", "", "", ""), "name"),
    "line break inside a name": (
        csv_row("CB9", "Chi bộ\nChín", "DU1", "cell", "", "", "", ""),
        "name",
    ),
    "trailing tab on a name": (
        csv_row("CB9", "Chi bộ Chín\t", "DU1", "cell", "", "", "", ""),
        "name",
    ),
    "NUL in a code": (csv_row("CB\x009", "Chi bộ", "DU1", "cell", "", "", "", ""), "code"),
    "NUL in a parent code": (
        csv_row("CB9", "Chi bộ", "DU1\x00", "cell", "", "", "", ""),
        "parent_code",
    ),
    "NUL in a kind": (csv_row("CB9", "Chi bộ", "DU1", "cell\x00", "", "", "", ""), "kind"),
    "NUL in a sector": (
        csv_row("CBCS9", "Chi bộ", "HU1", "grassroots_cell", "agency\x00", "", "", ""),
        "sector",
    ),
    "NUL in a start date": (
        csv_row("CB9", "Chi bộ", "DU1", "cell", "", "2025-01-01\x00", "", ""),
        "valid_from",
    ),
    "escape in an end date": (
        csv_row("CB9", "Chi bộ", "DU1", "cell", "", "", "\x1b2025-01-01", ""),
        "valid_to",
    ),
    "NUL in an e-mail": (
        csv_row("CB9", "Chi bộ", "DU1", "cell", "", "", "", "cb9@example.vn\x00"),
        "email",
    ),
}


@pytest.mark.parametrize(("row", "column"), CONTROL_CASES.values(), ids=CONTROL_CASES)
def test_a_control_character_in_any_cell_refuses_the_registry_by_line_and_column(
    tmp_path: Path, row: str, column: str
) -> None:
    units, problems = read_registry(write_csv(tmp_path / "control.csv", [*GOOD_ROWS, row]))
    assert units == []
    line = FIRST_FREE_LINE
    control = [problem for problem in problems if "ký tự điều khiển" in problem.message]
    assert len(control) == 1, problems
    assert control[0].line == line
    assert control[0].message.startswith(f"Dòng {line}: ")
    assert f"ở cột {column};" in control[0].message
    assert "U+00" in control[0].message
    # Messages show the offending text with its control characters written out, never raw.
    for problem in problems:
        assert not any(unicodedata.category(char) == "Cc" for char in problem.message), problem
    if column == "name":
        assert len(problems) == 1, problems


def test_a_real_csv_with_nul_in_a_name_names_the_line_column_and_character(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nul.csv"
    lines = [HEADER_LINE, *GOOD_ROWS[:5], "CB2,Chi bộ tổ Hai,BP1,cell,,2021-06-01,,"]
    data = "\n".join(lines).encode("utf-8")
    # Line 7: a name with a NUL byte in the middle, as a broken export leaves it.
    path.write_bytes(data.replace(b"Chi b\xe1\xbb\x99 t\xe1\xbb\x95 Hai", b"Chi b\x00\xe1\xbb\x99"))
    units, problems = read_registry(path)
    assert units == []
    assert [(problem.line, problem.message) for problem in problems] == [
        (
            7,
            "Dòng 7: tên đơn vị «Chi b[U+0000]ộ» có ký tự điều khiển không in được (U+0000) ở "
            "cột name; hãy xoá ký tự này rồi lưu lại tệp.",
        )
    ]


def test_tab_and_line_break_are_named_in_words(tmp_path: Path) -> None:
    row = csv_row("CB9", "Chi bộ\tthôn\r\nChín", "DU1", "cell", "", "", "", "")
    units, problems = read_registry(write_csv(tmp_path / "tab.csv", [*GOOD_ROWS, row]))
    assert units == []
    (problem,) = problems
    assert "«Chi bộ[U+0009]thôn[U+000D][U+000A]Chín»" in problem.message
    assert "(U+0009 – dấu tab, U+000D – dấu xuống dòng, U+000A – dấu xuống dòng)" in (
        problem.message
    )
    assert "hãy xoá các ký tự này" in problem.message


def test_a_header_with_a_control_character_is_shown_visibly(tmp_path: Path) -> None:
    header = HEADER_LINE.replace("email", "email\x00")
    units, problems = read_registry(write_csv(tmp_path / "h.csv", GOOD_ROWS, header=header))
    assert units == []
    assert "email[U+0000]" in " ".join(problem.message for problem in problems)
    assert all("\x00" not in problem.message for problem in problems)


# Names a spreadsheet would take for a formula when it opens a published CSV, and names that are
# fine although they hold the same characters further in.
FORMULA_NAMES = {
    "=cmd|' /C calc'!A0": "=",
    '+HYPERLINK("http://x.vn","bấm")': "+",
    "-2+3": "-",
    "@SUM(A1:A9)": "@",
    "  =1+1": "=",
    "\u00a0+1": "+",
    "\u3000@SUM(A1)": "@",
    "＝1+1": "＝",
    "＋1": "＋",
    "－1": "－",
    "＠SUM(A1)": "＠",
}
GOOD_NAMES = [
    "Chi bộ Thôn Một",
    "Đảng bộ Khối 1 - 2",
    "Chi bộ 3+4",
    "Chi bộ @ Hà Nội",
    "Chi bộ (=)",
    "Chi bộ «Tổ 1»",
    "1-2 Chi bộ ghép",
]


@pytest.mark.parametrize(("name", "first"), FORMULA_NAMES.items(), ids=list(FORMULA_NAMES))
def test_a_name_a_spreadsheet_takes_for_a_formula_is_refused_by_line(
    tmp_path: Path, name: str, first: str
) -> None:
    row = csv_row("CB9", name, "DU1", "cell", "", "", "", "")
    units, problems = read_registry(write_csv(tmp_path / "formula.csv", [*GOOD_ROWS, row]))
    assert units == []
    (problem,) = problems
    assert problem.line == FIRST_FREE_LINE
    assert problem.message.startswith(f"Dòng {FIRST_FREE_LINE}: tên «{name.strip()}»")
    assert f"bắt đầu bằng «{first}», Excel sẽ hiểu là công thức" in problem.message


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_with_those_characters_further_in_are_accepted(tmp_path: Path, name: str) -> None:
    row = csv_row("CB9", name, "DU1", "cell", "", "", "", "")
    units, problems = read_registry(write_csv(tmp_path / "good.csv", [*GOOD_ROWS, row]))
    assert problems == []
    assert units[-1].name == name


@pytest.mark.parametrize("name", ["\t=1", "\r=1", "\tChi bộ", "=1", "＠1"])
def test_validate_refuses_formula_starts_of_units_built_in_code(name: str) -> None:
    units = [Unit("TU", name, None, "province", None, None, None, None, 2)]
    (problem,) = validate_registry(units)
    assert "Excel sẽ hiểu là công thức" in problem.message
    assert not any(unicodedata.category(char) == "Cc" for char in problem.message)
