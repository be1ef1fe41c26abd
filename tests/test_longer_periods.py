"""Longer periods and a hierarchy that changes (SPEC §1, §2), on SQLite and PostgreSQL: a year
equals its quarters combined in the test from each indicator's `across_periods`; a year across
a restructuring (a bloc dissolved into another, a cell split in two, a district dissolved with
its organisations moved under the province) keeps the province's totals; a quarter published
before the change gives the same figures after it; comparisons and rule O1 follow successors.
A year's outputs (report, chart, workbook, status CSVs) name the quarters each unit reported,
each quarter's own figures read from its published version or, before a restructuring, set
under today's units."""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import replace
from datetime import date, datetime

import openpyxl
import pytest

from tonghop.aggregation import consolidated_values
from tonghop.catalogue import by_code
from tonghop.charts import render_charts
from tonghop.comparisons import with_predecessors
from tonghop.consolidating import consolidate, load_consolidation, previous_quarter
from tonghop.consolidation import ConsolidationView
from tonghop.exports import write_status_csv
from tonghop.longer_periods import carry, quarters_of
from tonghop.periods import Period, PeriodError
from tonghop.quarter_figures import load_quarter_figures
from tonghop.registry import Unit
from tonghop.registry_store import store_registry_version, store_successors
from tonghop.report import report_context, section_texts
from tonghop.restructuring import Destinations, Successor, next_registry, successor_problems
from tonghop.storage import create_schema, execute_many, make_engine
from tonghop.versions import mark_published, version_values
from tonghop.workbook import write_workbook

YEAR = Period.parse("2025")
CHANGE = date(2025, 7, 1)  # the restructuring comes into force with the third quarter
COUNTS = ("members", "members_exempt", "members_attended", "sessions_in_person", "sessions_total")
FLAG = "secretary_presented"


def unit(code: str, parent: str | None, kind: str, valid_to: date | None = None) -> Unit:
    sector = "agency" if kind in ("grassroots_committee", "grassroots_cell") else None
    return Unit(code, f"Đơn vị {code}", parent, kind, sector, None, valid_to, None)


BEFORE = [
    unit("TU", None, "province"),
    unit("K1", "TU", "upper"),
    unit("K2", "TU", "upper"),
    unit("G1", "K1", "grassroots_committee"),
    unit("C1", "G1", "cell"),
    unit("C2", "G1", "cell"),
    unit("G2", "K2", "grassroots_committee"),
    unit("C3", "G2", "cell"),
    unit("G3", "K2", "grassroots_cell"),
    unit("H", "TU", "upper"),
    unit("G4", "H", "grassroots_cell"),
]
# From the third quarter: K2 ends and its organisations move under K1 (merged into it); C1 is
# split into C1A and C1B; the district H is dissolved and G4 moves under the province.
AFTER = [
    unit("TU", None, "province"),
    unit("K1", "TU", "upper"),
    unit("G1", "K1", "grassroots_committee"),
    Unit("C1A", "Đơn vị C1A", "G1", "cell", None, CHANGE, None, None),
    Unit("C1B", "Đơn vị C1B", "G1", "cell", None, CHANGE, None, None),
    unit("C2", "G1", "cell"),
    unit("G2", "K1", "grassroots_committee"),
    unit("C3", "G2", "cell"),
    unit("G3", "K1", "grassroots_cell"),
    unit("G4", "TU", "grassroots_cell"),
]
SUCCESSORS = [
    Successor("K2", "K1", 1.0, CHANGE, 2),
    Successor("C1", "C1A", 0.6, CHANGE, 3),
    Successor("C1", "C1B", 0.4, CHANGE, 4),
]
LEAVES = {"C1", "C2", "C3", "G3", "G4", "C1A", "C1B"}


def submit(connection, unit_code: str, period: Period, values: dict[str, object]) -> None:
    submission_id = uuid.uuid4().hex
    received = datetime.combine(period.deadline(5), datetime.min.time())
    execute_many(
        connection,
        "insert_submission",
        [
            {
                "id": submission_id,
                "unit_code": unit_code,
                "period": str(period),
                "file_name": f"{unit_code}.xlsx",
                "raw_file_name": None,
                "sender": None,
                "sha256": uuid.uuid4().hex * 2,
                "size_bytes": 1,
                "received_at": received,
                "arrival": int(received.timestamp() * 1_000_000),
                "archive_path": "x",
                "declared_unit_code": unit_code,
                "declared_period": str(period),
                "outcome": "accepted",
                "error_count": 0,
                "warning_count": 0,
                "processed_at": received,
            }
        ],
    )
    execute_many(
        connection,
        "insert_submission_value",
        [
            {
                "submission_id": submission_id,
                "indicator_code": code,
                "number": None if isinstance(value, str) else float(value),
                "text_value": value if isinstance(value, str) else None,
            }
            for code, value in values.items()
        ],
    )


def reports(quarter: Period, codes: list[str], seed: int) -> dict[str, dict[str, object]]:
    """What each unit reports in a quarter: leaves their members, everyone sessions and texts;
    the last unit of the list misses the second quarter."""
    chosen = random.Random(seed)
    found = {}
    for code in codes:
        if quarter.quarter == 2 and code == codes[-1]:
            continue
        values: dict[str, object] = {
            "sessions_in_person": chosen.randint(0, 3),
            "sessions_total": 0,
            FLAG: chosen.randint(0, 1),
            "highlights": f"{code} làm tốt quý {quarter.quarter}",
        }
        values["sessions_total"] = values["sessions_in_person"]
        if code in LEAVES:
            members = chosen.randint(10, 40)
            values |= {
                "members": members,
                "members_exempt": chosen.randint(0, 2),
                "members_attended": members - 3,
            }
        found[code] = values
    return found


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def combine(quarterly: list[dict[str, dict[str, object]]], code: str, indicator: str) -> object:
    """One unit's figure over the quarters, as the catalogue's across_periods says."""
    values = [q[code][indicator] for q in quarterly if code in q and indicator in q[code]]
    if not values:
        return None
    how = by_code()[indicator].across_periods
    return {
        "sum": lambda: sum(values),
        "last": lambda: values[-1],
        "average": lambda: sum(values) / len(values),
        "max": lambda: max(values),
    }[how]()


def test_a_year_equals_its_quarters_combined_from_across_periods(engine) -> None:
    codes = [unit.code for unit in BEFORE]
    quarterly = [reports(quarter, codes, seed) for seed, quarter in enumerate(YEAR.quarters())]
    with engine.begin() as connection:
        store_registry_version(connection, BEFORE, None, datetime(2025, 1, 1))
        for quarter, found in zip(YEAR.quarters(), quarterly, strict=True):
            for code, values in found.items():
                submit(connection, code, quarter, values)
        year = carry(connection, YEAR, 10)
    figures = {(row["unit_code"], row["indicator_code"]): row["number"] for row in year.values}

    parents = {unit.code: unit.parent_code for unit in BEFORE}

    def subtree(code: str) -> list[str]:
        found = [code]
        for child, parent in parents.items():
            if parent == code:
                found += subtree(child)
        return found

    for code in codes:
        for indicator in COUNTS:
            own = [combine(quarterly, member, indicator) for member in subtree(code)]
            own = [value for value in own if value is not None]
            expected = sum(own) if own else None
            assert figures.get((code, indicator)) == pytest.approx(expected), (code, indicator)
        presented = [combine(quarterly, member, FLAG) for member in subtree(code)]
        assert figures[(code, FLAG)] == sum(value for value in presented if value is not None)
        # Rates from the combined numerator and denominator, never averaged.
        attended = figures.get((code, "members_attended"))
        if attended is not None:
            denominator = figures[(code, "members")] - figures.get((code, "members_exempt"), 0)
            assert figures[(code, "attendance_rate")] == pytest.approx(attended / denominator)
    # Completeness per quarter: 11 units a quarter, one of them silent in the second.
    assert figures[("TU", "expected_units")] == 44
    assert figures[("TU", "accepted_units")] == 43
    assert figures[("TU", "reporting_completeness")] == pytest.approx(43 / 44)
    status = year.status.set_index("unit_code")
    silent = codes[-1]
    assert status.loc[silent, "status"] == "partial"
    assert ("2025Q2", "missing") in quarters_of(status.loc[silent, "quarters"])
    assert status.loc["TU", "status"] == "accepted"
    # Texts under the quarter they were written in.
    texts = dict(zip(year.own_texts["unit_code"], year.own_texts["text"], strict=False))
    assert texts["C2"].splitlines()[0] == "Quý I/2025: C2 làm tốt quý 1"


def test_a_year_across_a_restructuring_keeps_the_province_s_totals(engine) -> None:
    first_half = [
        reports(quarter, [u.code for u in BEFORE], seed)
        for seed, quarter in enumerate(YEAR.quarters()[:2])
    ]
    second_half = [
        reports(quarter, [u.code for u in AFTER], seed + 10)
        for seed, quarter in enumerate(YEAR.quarters()[2:])
    ]
    with engine.begin() as connection:
        store_registry_version(connection, BEFORE, None, datetime(2025, 1, 1))
        for quarter, found in zip(YEAR.quarters()[:2], first_half, strict=True):
            for code, values in found.items():
                submit(connection, code, quarter, values)
        q2_before = consolidated_values(connection, Period(2025, 2), 10)
        snapshot = next_registry(BEFORE, AFTER, CHANGE)
        assert successor_problems(SUCCESSORS, snapshot) == []
        version = store_registry_version(connection, snapshot, CHANGE, datetime(2025, 8, 1))
        store_successors(connection, SUCCESSORS, version)
        for quarter, found in zip(YEAR.quarters()[2:], second_half, strict=True):
            for code, values in found.items():
                submit(connection, code, quarter, values)
        q2_after = consolidated_values(connection, Period(2025, 2), 10)
        year = carry(connection, YEAR, 10)
        compared = previous_quarter(connection, Period(2025, 3), 10)

    # A quarter published before the change gives the same figures after it.
    assert sorted(q2_after, key=str) == sorted(q2_before, key=str)

    # The year is consolidated under the hierarchy of its last day …
    figures = {(row["unit_code"], row["indicator_code"]): row["number"] for row in year.values}
    assert ("K2", "members") not in figures and ("H", "members") not in figures
    # … and the province's totals are every quarter's, whatever moved.
    quarterly = first_half + second_half
    every = {code for found in quarterly for code in found}
    for indicator in ("sessions_total", "sessions_in_person"):
        expected = sum(
            value for code in every if (value := combine(quarterly, code, indicator)) is not None
        )
        assert figures[("TU", indicator)] == pytest.approx(expected), indicator
    # members is a stock: the last quarter's, which after the change is reported by C1A/C1B.
    last = quarterly[-1]
    assert figures[("TU", "members")] == pytest.approx(
        sum(last[code]["members"] for code in last if "members" in last[code])
    )
    # K1 absorbed K2: its sessions are its own subtree's and K2's over the year.
    k1_before = {"K1", "G1", "C1", "C2"}
    k2_before = {"K2", "G2", "C3", "G3"}
    k1_after = {"K1", "G1", "C1A", "C1B", "C2", "G2", "C3", "G3"}
    expected_k1 = sum(
        found[code]["sessions_total"]
        for found in first_half
        for code in k1_before | k2_before
        if code in found
    ) + sum(found[code]["sessions_total"] for found in second_half for code in k1_after)
    assert figures[("K1", "sessions_total")] == pytest.approx(expected_k1)
    # C1's first half goes to its successors by their shares.
    c1_sessions = sum(found["C1"]["sessions_total"] for found in first_half)
    c1a_sessions = sum(found["C1A"]["sessions_total"] for found in second_half)
    assert figures[("C1A", "sessions_total")] == pytest.approx(0.6 * c1_sessions + c1a_sessions)

    # K1's texts of the year are its own and, named, those of K2 merged into it.
    texts = {(row.unit_code, row.indicator_code): row.text for row in year.own_texts.itertuples()}
    k1 = texts[("K1", "highlights")].splitlines()
    assert k1[:2] == ["Quý I/2025: K1 làm tốt quý 1", "(Đơn vị K2) K2 làm tốt quý 1"]
    assert "Quý III/2025: K1 làm tốt quý 3" in k1
    assert not any("quý 3" in line for line in k1 if "K2" in line)  # K2 ended with Q2
    # The dissolved district's own texts go to the province, named.
    tu = texts[("TU", "highlights")].splitlines()
    assert tu[:2] == ["Quý I/2025: TU làm tốt quý 1", "(Đơn vị H) H làm tốt quý 1"]

    # The third quarter compares K1 with K1 and K2 of the second, C1A with 60% of C1.
    assert compared is not None and compared.period == Period(2025, 2)
    previous = {
        (code, indicator): number
        for code, indicator, number in zip(
            compared.values["unit_code"],
            compared.values["indicator_code"],
            compared.values["number"],
            strict=True,
        )
    }
    q2 = first_half[1]
    assert previous[("K1", "sessions_total")] == pytest.approx(
        sum(q2[code]["sessions_total"] for code in k1_before | k2_before if code in q2)
    )
    assert previous[("C1A", "members")] == pytest.approx(0.6 * q2["C1"]["members"])
    # The province's previous figures are the second quarter's as published.
    published_q2 = {(r["unit_code"], r["indicator_code"]): r["number"] for r in q2_before}
    assert previous[("TU", "sessions_total")] == pytest.approx(
        published_q2[("TU", "sessions_total")]
    )


def test_destinations_follow_chains_shares_and_ancestors() -> None:
    links = [
        Successor("A", "B", 1.0, date(2025, 4, 1)),
        Successor("B", "C", 0.5, date(2025, 10, 1)),
        Successor("B", "D", 0.5, date(2025, 10, 1)),
    ]
    parents = {"A": "P", "B": "P", "E": "GONE", "GONE": "P", "C": "P", "D": "P"}
    end_of_year = Destinations(links, {"P", "C", "D"}, date(2025, 12, 31), parents)
    assert end_of_year.of("A") == {"C": 0.5, "D": 0.5}
    assert end_of_year.of("E") == {"P": 1.0}  # ended without successor: its nearest ancestor
    assert end_of_year.main("B") == "D"  # equal shares: the one that sorts last, every time
    # Before the split, A's figures are B's.
    mid_year = Destinations(links, {"P", "B"}, date(2025, 6, 30), parents)
    assert mid_year.of("A") == {"B": 1.0}


def test_o1_compares_a_merged_unit_with_the_sum_of_what_merged_into_it() -> None:
    links = [Successor("A", "M", 1.0, CHANGE), Successor("B", "M", 1.0, CHANGE)]
    own = {"A": ("2025Q2", 20.0), "B": ("2025Q2", 30.0), "S": ("2025Q2", 10.0)}
    found = with_predecessors(own, links, Period(2025, 3))
    assert found["M"] == ("2025Q2", 50.0)
    assert found["S"] == ("2025Q2", 10.0)
    # Once M has reported after the change, its own figure is the one compared.
    own["M"] = ("2025Q3", 52.0)
    assert with_predecessors(own, links, Period(2025, 4))["M"] == ("2025Q3", 52.0)
    # A split shares its predecessor's members.
    split = [Successor("A", "X", 0.25, CHANGE), Successor("A", "Y", 0.75, CHANGE)]
    assert with_predecessors({"A": ("2025Q2", 40.0)}, split, Period(2025, 3))["Y"] == (
        "2025Q2",
        30.0,
    )


@pytest.mark.parametrize(
    ("written", "canonical", "label", "quarters"),
    [
        ("2025Q3", "2025Q3", "Quý III năm 2025", 1),
        ("2025h1", "2025H1", "sáu tháng đầu năm 2025", 2),
        ("2025H2", "2025H2", "sáu tháng cuối năm 2025", 2),
        ("2025", "2025", "năm 2025", 4),
        ("2021Q2-2023Q2", "2021Q2-2023Q2", "giai đoạn Quý II/2021 – Quý II/2023", 9),
        ("2025Q1-2025Q2", "2025H1", "sáu tháng đầu năm 2025", 2),
        ("2025Q1-2025Q4", "2025", "năm 2025", 4),
    ],
)
def test_periods_are_written_and_named(
    written: str, canonical: str, label: str, quarters: int
) -> None:
    period = Period.parse(written)
    assert (str(period), period.label_vi, len(period.quarters())) == (canonical, label, quarters)
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("2025Q3-2025Q1", "quý đầu phải trước quý cuối"),
        ("2025H3", "Nửa năm chỉ có H1 và H2"),
        ("III/2026", "không đúng dạng"),
        ("2025Q5", "không đúng dạng"),
    ],
)
def test_malformed_periods_are_refused_in_vietnamese(written: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        Period.parse(written)


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ([Successor("K2", "K9", 1.0, CHANGE, 2)], "đơn vị kế thừa «K9» không có trong danh sách"),
        (
            [Successor("C1", "C1A", 0.4, CHANGE, 2), Successor("C1", "C1B", 0.3, CHANGE, 3)],
            "cộng lại bằng 0.7, phải bằng 1",
        ),
        ([Successor("K1", "G1", 1.0, CHANGE, 2)], "chưa kết thúc trước ngày"),
        (
            [Successor("K2", "K1", 1.0, CHANGE, 2), Successor("K2", "K1", 1.0, CHANGE, 3)],
            "liên kết lặp lại",
        ),
        (
            [Successor("C1", "C1A", 1.0, date(2025, 6, 1), 2)],
            "không hoạt động vào ngày 01/06/2025",
        ),
    ],
)
def test_wrong_successor_links_are_refused_by_line(links: list[Successor], message: str) -> None:
    snapshot = next_registry(BEFORE, AFTER, CHANGE)
    problems = successor_problems(links, snapshot)
    assert problems and any(message in problem.message for problem in problems), problems
    assert all(problem.line >= 2 for problem in problems)


def test_a_loop_of_successors_is_refused() -> None:
    units = [
        unit("TU", None, "province"),
        unit("A", "TU", "upper", valid_to=date(2025, 6, 30)),
        unit("B", "TU", "upper", valid_to=date(2025, 6, 30)),
    ]
    links = [
        Successor("A", "B", 1.0, date(2025, 6, 30), 2),
        Successor("B", "A", 1.0, date(2025, 6, 30), 3),
    ]
    problems = successor_problems(links, units)
    assert any("vòng kế thừa" in problem.message for problem in problems)


def test_units_left_out_are_carried_over_and_ended() -> None:
    snapshot = {unit.code: unit for unit in next_registry(BEFORE, AFTER, CHANGE)}
    assert snapshot["K2"].valid_to == date(2025, 6, 30)
    assert snapshot["C1"].valid_to == date(2025, 6, 30) and snapshot["C1"].parent_code == "G1"
    assert snapshot["G2"].parent_code == "K1"  # moved: the new file's row
    assert {u.code for u in AFTER} <= snapshot.keys()


def test_an_older_unit_may_move_under_a_newer_parent_from_the_change_on() -> None:
    from tonghop.registry import validate_registry

    merged = Unit("K9", "Đơn vị K9", "TU", "upper", None, CHANGE, None, None)
    moved = [
        merged if u.code == "K1" else (u if u.parent_code != "K1" else replace(u, parent_code="K9"))
        for u in AFTER
    ]
    moved = [replace(u, valid_from=date(2020, 1, 1)) if u.code == "G1" else u for u in moved]
    lines = [replace(u, line=index) for index, u in enumerate(moved, start=2)]
    # In force from the change: G1 (since 2020) under K9 (since the change) is sound …
    assert validate_registry(lines, CHANGE) == []
    # … but not as a registry for every period, where G1 would have had no parent before.
    problems = validate_registry(lines)
    assert any("«G1»" in problem.message and "K9" in problem.message for problem in problems)


# --------------------------------------------------------------------------- the outputs


def publish_quarters(connection, quarters: list[Period]) -> None:
    """Consolidate each quarter and mark it published, as the quarterly runs did."""
    for quarter in quarters:
        version = consolidate(connection, quarter, 10, datetime(2026, 1, 20)).version
        mark_published(connection, version, datetime(2026, 1, 20))


def test_a_year_s_outputs_name_the_quarters_each_unit_reported(engine, tmp_path) -> None:
    codes = [unit.code for unit in BEFORE]
    quarterly = [reports(quarter, codes, seed) for seed, quarter in enumerate(YEAR.quarters())]
    with engine.begin() as connection:
        store_registry_version(connection, BEFORE, None, datetime(2025, 1, 1))
        for quarter, found in zip(YEAR.quarters(), quarterly, strict=True):
            for code, values in found.items():
                submit(connection, code, quarter, values)
        publish_quarters(connection, list(YEAR.quarters()))
        year_version = consolidate(connection, YEAR, 10, datetime(2026, 1, 21)).version
        year = load_consolidation(connection, year_version, 10)
        quarters = load_quarter_figures(connection, YEAR, 10, ["TU", "K1"])
    silent = codes[-1]  # G4, silent in the second quarter

    # Each quarter's own figures, from its published version: 11 units expected, 10 in Q2.
    assert [quarters.number(q, "TU", "expected_units") for q in YEAR.quarters()] == [11] * 4
    assert [quarters.number(q, "TU", "accepted_units") for q in YEAR.quarters()] == [
        11,
        10,
        11,
        11,
    ]
    assert quarters.number(Period(2025, 3), "TU", "sessions_total") == sum(
        values["sessions_total"] for values in quarterly[2].values()
    )

    context = report_context(year, "TU", quarters=quarters)
    assert context["title"].endswith("kết luận của Đảng năm 2025")
    situation = "\n".join(section_texts(context["situation"]))
    assert (
        "- Quý II/2025: 10/11 đơn vị đã gửi báo cáo được tiếp nhận (đạt 90,9%), 10 đơn vị báo "
        "cáo đúng hạn;"
    ) in situation
    assert "Có 01 đơn vị chưa gửi đủ báo cáo các quý: Đơn vị G4 (thiếu Quý II/2025)." in situation
    assert "các đơn vị đã gửi 43/44 báo cáo quý được tiếp nhận" in situation

    # The chart of the quarters is drawn from the same figures.
    charts = render_charts(year, "TU", tmp_path / "charts", quarters=quarters)
    assert charts["quarters"].name == "bieu-do-quarters-2025-TU.png"

    # The workbook's progress sheet and the status CSVs name the quarters.
    view = ConsolidationView(year)
    write_workbook(view, tmp_path / "tong-hop-2025.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "tong-hop-2025.xlsx")["Tiến độ báo cáo"]
    assert sheet["A3"].value == "Kỳ báo cáo: Năm 2025 — Đơn vị: Đơn vị TU"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(row for row in rows if row[0] == "STT")
    assert header[7:9] == ["Các quý đã báo cáo", "Các quý chưa báo cáo"]
    g4 = next(row for row in rows if row[1] == silent)
    assert g4[5] == "Chưa đủ các quý"
    assert g4[7:9] == ["Quý I/2025, Quý III/2025, Quý IV/2025", "Quý II/2025 (chưa nộp)"]
    assert "Chưa đủ các quý: 1" in [row[1] for row in rows]
    write_status_csv(view, tmp_path / "status-2025.csv")
    write_status_csv(view, tmp_path / "status-2025-excel.csv", excel=True)
    with (tmp_path / "status-2025.csv").open(encoding="utf-8") as handle:
        machine = {row["unit_code"]: row for row in csv.DictReader(handle)}
    assert machine[silent]["status"] == "partial"
    assert machine[silent]["quarters"] == (
        "2025Q1:accepted,2025Q2:missing,2025Q3:accepted,2025Q4:accepted"
    )
    with (tmp_path / "status-2025-excel.csv").open(encoding="utf-8-sig") as handle:
        people = {row["unit_code"]: row for row in csv.DictReader(handle)}
    assert people[silent]["Các quý chưa báo cáo"] == "Quý II/2025 (chưa nộp)"


def test_a_year_across_a_restructuring_sets_each_quarter_under_today_s_units(engine) -> None:
    first_half = [
        reports(quarter, [u.code for u in BEFORE], seed)
        for seed, quarter in enumerate(YEAR.quarters()[:2])
    ]
    second_half = [
        reports(quarter, [u.code for u in AFTER], seed + 10)
        for seed, quarter in enumerate(YEAR.quarters()[2:])
    ]
    with engine.begin() as connection:
        store_registry_version(connection, BEFORE, None, datetime(2025, 1, 1))
        for quarter, found in zip(YEAR.quarters()[:2], first_half, strict=True):
            for code, values in found.items():
                submit(connection, code, quarter, values)
        publish_quarters(connection, list(YEAR.quarters()[:2]))
        version = store_registry_version(
            connection, next_registry(BEFORE, AFTER, CHANGE), CHANGE, datetime(2025, 8, 1)
        )
        store_successors(connection, SUCCESSORS, version)
        for quarter, found in zip(YEAR.quarters()[2:], second_half, strict=True):
            for code, values in found.items():
                submit(connection, code, quarter, values)
        publish_quarters(connection, list(YEAR.quarters()[2:]))
        quarters = load_quarter_figures(connection, YEAR, 10, ["TU", "K1"])
        q3 = {
            (row.unit_code, row.indicator_code): row.number
            for row in version_values(connection, Period(2025, 3), 1).itertuples()
        }
    q1 = Period(2025, 1)
    # The first quarter, published under the old hierarchy, is set under today's: K1 with the
    # bloc K2 merged into it.
    k1_k2 = {"K1", "G1", "C1", "C2", "K2", "G2", "C3", "G3"}
    assert quarters.number(q1, "K1", "sessions_total") == pytest.approx(
        sum(first_half[0][code]["sessions_total"] for code in k1_k2)
    )
    # Units expected are the quarter's own: 11 before the change, 10 after it.
    assert quarters.number(q1, "TU", "expected_units") == 11
    assert quarters.number(Period(2025, 3), "TU", "expected_units") == 10
    # A quarter under today's hierarchy is its published version.
    assert quarters.number(Period(2025, 3), "K1", "sessions_total") == q3[("K1", "sessions_total")]
