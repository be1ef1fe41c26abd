"""What rules O1 and O2 compare with, read from the database on SQLite and PostgreSQL: each unit's
members of its latest accepted earlier quarter, the period's counted figures placed in the
hierarchy, and the warnings they lead to in a batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Connection, Engine

from tonghop.comparisons import SIBLING_COLUMNS, load_comparisons
from tonghop.periods import Period
from tonghop.reading import FormRead, FormRow
from tonghop.registry import Unit
from tonghop.registry_store import store_registry_version
from tonghop.storage import create_schema, execute_many, make_engine
from tonghop.validation import SubmissionInput, ValidationContext, validate_submissions

PERIOD = Period(2026, 3)


def unit(code: str, parent: str | None, kind: str, name: str | None = None) -> Unit:
    return Unit(code, name or f"Chi bộ {code}", parent, kind, None, None, None, None)


UNITS = [
    unit("TU", None, "province", "Tỉnh ủy"),
    unit("CS1", "TU", "grassroots_committee", "Đảng bộ Sở Y tế"),
    *(unit(f"A{number:02d}", "CS1", "cell") for number in range(1, 11)),
    unit("CS2", "TU", "grassroots_committee", "Đảng bộ Sở Tài chính"),
    unit("B01", "CS2", "cell"),
]


def submit(
    connection: Connection,
    unit_code: str,
    period: str,
    received: datetime,
    outcome: str,
    values: dict[str, float | str],
) -> None:
    submission_id = uuid.uuid4().hex
    row = {
        "id": submission_id,
        "unit_code": unit_code,
        "period": period,
        "file_name": f"{unit_code}.xlsx",
        "raw_file_name": None,
        "sender": None,
        "sha256": uuid.uuid4().hex * 2,
        "size_bytes": 1,
        "received_at": received,
        # versions here arrive in the order they were received
        "arrival": int(received.timestamp() * 1_000_000),
        "archive_path": "x",
        "declared_unit_code": unit_code,
        "declared_period": period,
        "outcome": outcome,
        "error_count": int(outcome == "rejected"),
        "warning_count": int(outcome == "accepted_with_warnings"),
        "processed_at": received,
    }
    execute_many(connection, "insert_submission", [row])
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


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    with engine.begin() as connection:
        store_registry_version(connection, UNITS, None, datetime(2025, 1, 1))
    yield engine
    engine.dispose()


def test_previous_members_come_from_the_latest_accepted_earlier_quarter(engine: Engine) -> None:
    day = datetime(2026, 7, 5, 9, 0)
    with engine.begin() as connection:
        # A01: two accepted versions in 2026Q2, the newer counts; a rejected one after them and
        # the figures of this quarter and of the next are no earlier quarter's
        submit(connection, "A01", "2026Q1", datetime(2026, 4, 3), "accepted", {"members": 90})
        submit(connection, "A01", "2026Q2", day, "accepted", {"members": 100})
        submit(
            connection,
            "A01",
            "2026Q2",
            datetime(2026, 7, 6),
            "accepted_with_warnings",
            {"members": 110},
        )
        submit(connection, "A01", "2026Q2", datetime(2026, 7, 7), "rejected", {"members": 7})
        submit(connection, "A01", "2026Q3", datetime(2026, 10, 2), "accepted", {"members": 500})
        submit(connection, "A01", "2026Q4", datetime(2027, 1, 2), "accepted", {"members": 700})
        # A02: its 2026Q2 file was rejected, so 2026Q1 is its last accepted quarter
        submit(connection, "A02", "2026Q1", datetime(2026, 4, 3), "accepted", {"members": 50})
        submit(connection, "A02", "2026Q2", day, "rejected", {"members": 5})
        # A04: the year before sorts before too
        submit(connection, "A04", "2025Q4", datetime(2026, 1, 5), "accepted", {"members": 40})
        # A03: a yearly report is no quarter to compare with
        submit(connection, "A03", "2026", datetime(2026, 1, 5), "accepted", {"members": 999})
        # CS1: its latest accepted quarter has no members (a committee reports none)
        submit(connection, "CS1", "2026Q1", datetime(2026, 4, 3), "accepted", {"members": 30})
        submit(connection, "CS1", "2026Q2", day, "accepted", {"sessions_total": 3})
    with engine.connect() as connection:
        comparisons = load_comparisons(connection, PERIOD, UNITS)
    assert comparisons.previous == {
        "A01": ("2026Q2", 110.0),
        "A02": ("2026Q1", 50.0),
        "A04": ("2025Q4", 40.0),
    }
    assert comparisons.units["A01"].parent_code == "CS1"


def test_siblings_are_the_counted_numbers_of_the_period_with_parent_and_kind(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        submit(
            connection,
            "A01",
            "2026Q3",
            datetime(2026, 10, 2),
            "accepted",
            {"members": 12, "news_items": 4, "highlights": "Học tập nghiêm túc."},
        )
        submit(connection, "A05", "2026Q3", datetime(2026, 10, 2), "accepted", {"news_items": 3})
        submit(connection, "A05", "2026Q3", datetime(2026, 10, 3), "accepted", {"news_items": 5})
        submit(connection, "A06", "2026Q3", datetime(2026, 10, 3), "rejected", {"news_items": 80})
        submit(connection, "B01", "2026Q2", datetime(2026, 7, 3), "accepted", {"news_items": 9})
    with engine.connect() as connection:
        siblings = load_comparisons(connection, PERIOD, UNITS).siblings
    assert list(siblings.columns) == SIBLING_COLUMNS
    assert siblings["number"].dtype == "float64"
    assert sorted(siblings.itertuples(index=False, name=None)) == [
        ("A01", "CS1", "cell", "members", 12.0),
        ("A01", "CS1", "cell", "news_items", 4.0),
        ("A05", "CS1", "cell", "news_items", 5.0),
    ]


def test_a_small_batch_reads_the_siblings_of_its_units_only(engine: Engine) -> None:
    with engine.begin() as connection:
        submit(connection, "A01", "2026Q3", datetime(2026, 10, 2), "accepted", {"news_items": 4})
        submit(connection, "CS1", "2026Q3", datetime(2026, 10, 2), "accepted", {"news_items": 7})
        submit(connection, "B01", "2026Q3", datetime(2026, 10, 3), "accepted", {"news_items": 9})
    with engine.connect() as connection:
        every = load_comparisons(connection, PERIOD, UNITS).siblings
        of_a02 = load_comparisons(connection, PERIOD, UNITS, batch_units={"A02"}).siblings
        of_cs2 = load_comparisons(connection, PERIOD, UNITS, batch_units={"CS2"}).siblings
        of_nobody = load_comparisons(connection, PERIOD, UNITS, batch_units={"TU"}).siblings
    assert sorted(every["unit_code"]) == ["A01", "B01", "CS1"]
    assert list(of_a02["unit_code"]) == ["A01"]  # A02's siblings: the cells of CS1
    assert list(of_cs2["unit_code"]) == ["CS1"]  # CS2's: the province's organisations
    assert of_nobody.empty and list(of_nobody.columns) == SIBLING_COLUMNS


def test_an_empty_database_compares_with_nothing(engine: Engine) -> None:
    with engine.connect() as connection:
        comparisons = load_comparisons(connection, PERIOD, UNITS)
    assert comparisons.previous == {}
    assert comparisons.siblings.empty and list(comparisons.siblings.columns) == SIBLING_COLUMNS


def test_stored_figures_lead_to_the_audit_warnings(engine: Engine) -> None:
    with engine.begin() as connection:
        submit(connection, "A10", "2026Q2", datetime(2026, 7, 3), "accepted", {"members": 110})
        for number in range(1, 9):
            submit(
                connection,
                f"A{number:02d}",
                "2026Q3",
                datetime(2026, 10, 2),
                "accepted",
                {"members": 25, "members_attended": 25, "news_items": 4},
            )
        # A10's own earlier file of the quarter is replaced by the batch's, not its sibling
        submit(connection, "A10", "2026Q3", datetime(2026, 10, 2), "accepted", {"news_items": 4})
    with engine.connect() as connection:
        comparisons = load_comparisons(connection, PERIOD, UNITS)
    context = ValidationContext(
        period=str(PERIOD),
        active_unit_codes=frozenset(item.code for item in UNITS),
        units_with_children=frozenset({"TU", "CS1", "CS2"}),
        comparisons=comparisons,
    )
    rows = [
        FormRow(9, "members", "140", None),
        FormRow(10, "members_attended", "140", None),
        FormRow(11, "news_items", "50", None),
    ]
    form = FormRead("A10", str(PERIOD), None, None, None, rows, [])
    found = validate_submissions([SubmissionInput("s1", "A10", form)], context)["s1"]
    assert [(problem.rule, problem.severity) for problem in found] == [
        ("O1", "warning"),
        ("O2", "warning"),
    ]
    assert "(140) tăng 27,3% so với báo cáo Quý II năm 2026 (110)" in found[0].message
    assert (
        "có giá trị 50, cao bất thường so với 8 chi bộ trực thuộc khác của Đảng bộ Sở Y tế "
        "(trung vị 4, ngưỡng 28)" in found[1].message
    )
