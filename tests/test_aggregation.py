"""Aggregation up a ragged hierarchy (SPEC §6) in the database, on SQLite and PostgreSQL: own
values plus active children's, blanks that stay blank, inactive units left out, latest accepted
versions only, and rates recomputed from sums rather than averaged."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from tonghop.aggregation import consolidated_values, period_parameters, sector_totals
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.registry_store import store_registry_version
from tonghop.storage import create_schema, execute_many, make_engine, select_frame
from tonghop.versions import store_version

PERIOD = Period(2025, 3)  # deadline 10/10/2025 with the default 10 days


def unit(
    code: str,
    parent: str | None,
    kind: str,
    sector: str | None = None,
    valid_to: date | None = None,
) -> Unit:
    return Unit(code, f"Đơn vị {code}", parent, kind, sector, None, valid_to, None)


UNITS = [
    unit("TU", None, "province"),
    unit("HU", "TU", "upper"),
    unit("CS1", "HU", "grassroots_committee", "commune"),
    unit("BP1", "CS1", "partial_committee"),
    unit("CB1", "BP1", "cell"),
    unit("CB2", "CS1", "cell"),
    unit("CB3", "CS1", "cell", valid_to=date(2025, 6, 30)),  # dissolved before the period ends
    unit("CS2", "TU", "grassroots_cell", "agency"),
]


def submit(connection, unit_code: str, received: datetime, outcome: str, values: dict) -> None:
    submission_id = uuid.uuid4().hex
    execute_many(
        connection,
        "insert_submission",
        [
            {
                "id": submission_id,
                "unit_code": unit_code,
                "period": str(PERIOD),
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
                "declared_period": str(PERIOD),
                "outcome": outcome,
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


@pytest.fixture
def consolidated(database_url: str) -> dict[tuple[str, str], object]:
    engine = make_engine(database_url)
    create_schema(engine)
    on_time, late = datetime(2025, 10, 5, 9, 0), datetime(2025, 10, 11, 8, 0)
    with engine.begin() as connection:
        store_registry_version(connection, UNITS, None, datetime(2025, 1, 1))
        # an older CB1 version that a newer accepted one replaces
        submit(connection, "CB1", datetime(2025, 10, 2), "accepted", {"members": 999})
        submit(
            connection,
            "CB1",
            on_time,
            "accepted",
            {
                "members": 10,
                "members_exempt": 0,
                "members_attended": 9,
                "sessions_online": 1,
                "sessions_total": 1,
                "secretary_presented": 1,
                "limitations": "Hạn chế A",
            },
        )
        submit(
            connection,
            "CB2",
            late,
            "accepted",
            {
                "members": 90,
                "members_exempt": 10,
                "members_attended": 40,
                "sessions_in_person": 2,
                "sessions_total": 2,
                "secretary_presented": 0,
            },
        )
        # a later rejected CB2 version leaves the accepted one counting
        submit(connection, "CB2", datetime(2025, 10, 12), "rejected", {})
        submit(connection, "CB3", on_time, "accepted", {"members": 1000})
        submit(
            connection,
            "CS2",
            on_time,
            "accepted_with_warnings",
            {"members": 20, "members_attended": 20, "limitations": "Hạn chế B"},
        )
        submit(connection, "CS1", on_time, "accepted", {"essays": 5})
        rows = consolidated_values(connection, PERIOD, deadline_days=10)
        status = select_frame(
            connection, "select_status", **period_parameters(connection, PERIOD, deadline_days=10)
        )
        version = store_version(connection, PERIOD, rows, status, datetime(2025, 10, 11))
        sectors = sector_totals(connection, PERIOD, version.number)
    engine.dispose()
    keys = [(row["unit_code"], row["indicator_code"]) for row in rows]
    assert len(keys) == len(set(keys)), "one row per unit and figure"
    result: dict = {
        key: (row["text_value"] if row["text_value"] is not None else row["number"])
        for key, row in zip(keys, rows, strict=True)
    }
    result["sectors"] = {
        (row.sector, row.indicator_code): row.number for row in sectors.itertuples()
    }
    return result


def test_sums_follow_active_children_and_latest_accepted_versions(consolidated: dict) -> None:
    assert consolidated[("CB1", "members")] == 10
    assert consolidated[("BP1", "members")] == 10
    assert consolidated[("CS1", "members")] == 100  # CB3 is inactive, CB1's old version replaced
    assert consolidated[("TU", "members")] == 120
    assert consolidated[("HU", "members")] == 100


def test_own_values_of_non_leaves_count_too(consolidated: dict) -> None:
    assert consolidated[("CS1", "essays")] == 5
    assert consolidated[("TU", "essays")] == 5


def test_blank_stays_blank(consolidated: dict) -> None:
    assert ("TU", "connection_points") not in consolidated
    assert ("CS2", "essays") not in consolidated
    assert ("CB3", "members") not in consolidated


def test_rates_are_recomputed_not_averaged(consolidated: dict) -> None:
    # averaging the cells' rates would give (0.9 + 0.5) / 2 = 0.7
    assert consolidated[("CS1", "attendance_rate")] == pytest.approx(49 / 90)
    assert consolidated[("TU", "attendance_rate")] == pytest.approx(69 / 110)
    assert consolidated[("TU", "online_session_share")] == pytest.approx(1 / 3)


def test_flags_count_units_and_their_share(consolidated: dict) -> None:
    assert consolidated[("CS1", "secretary_presented")] == 1
    assert consolidated[("CS1", "secretary_presented_share")] == pytest.approx(0.5)


def test_completeness_timeliness_and_grassroots_online_share(consolidated: dict) -> None:
    # expected in TU's subtree: TU, HU, CS1, BP1, CB1, CB2, CS2 (CB3 is inactive)
    assert consolidated[("TU", "expected_units")] == 7
    assert consolidated[("TU", "reporting_completeness")] == pytest.approx(4 / 7)
    assert consolidated[("TU", "reporting_timeliness")] == pytest.approx(3 / 7)  # CB2 is late
    # CS1 held an online session in its subtree; CS2 reported no sessions at all
    assert consolidated[("TU", "grassroots_online_share")] == pytest.approx(1.0)


def test_texts_are_joined_in_hierarchy_order_with_unit_names(consolidated: dict) -> None:
    assert consolidated[("TU", "limitations")] == "Đơn vị CB1: Hạn chế A\nĐơn vị CS2: Hạn chế B"


def test_sectors_sum_grassroots_organisations(consolidated: dict) -> None:
    sectors = consolidated["sectors"]
    assert sectors[("commune", "members")] == 100
    assert sectors[("agency", "members")] == 20
    assert sectors[("commune", "grassroots_units")] == 1
    assert sectors[("commune", "attendance_rate")] == pytest.approx(49 / 90)


NAN = float("nan")


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        # SPEC §6: 29 sessions, all in person, online and hybrid left blank → a share of 0
        ({"sessions_in_person": 29, "sessions_total": 29}, 0.0),
        ({"sessions_online": 2, "sessions_total": 4}, 0.5),
        ({"sessions_online": 1, "sessions_hybrid": 2, "sessions_total": 6}, 0.5),
        ({"sessions_total": 0}, NAN),  # a denominator of 0: blank
        ({"sessions_online": 3}, NAN),  # a blank denominator: blank
        ({}, NAN),
    ],
)
def test_blank_numerator_terms_count_as_zero_when_the_denominator_is_reported(
    figures: dict, expected: float
) -> None:
    import pandas as pd

    from tonghop.aggregation import add_rates

    wide = pd.DataFrame([figures], columns=["sessions_online", "sessions_hybrid", "sessions_total"])
    wide = wide.astype(float).reindex(columns=sorted({*wide.columns, *figures}))
    share = add_rates(wide)["online_session_share"].iloc[0]
    assert share == pytest.approx(expected, nan_ok=True)
