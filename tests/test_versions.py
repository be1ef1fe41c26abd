"""Published versions: a run that changes nothing keeps the version, a change makes the next one,
a version never finished is replaced rather than skipped, and versions compare figure by figure
and unit by unit; the files of a new version sit beside the old ones, which stay untouched."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from tests.test_publishing import make_consolidation, publish_now
from tonghop.layout import published_name
from tonghop.periods import Period
from tonghop.storage import make_engine, transaction
from tonghop.versions import (
    COMPOSABLE,
    Changes,
    Delta,
    changes_since_previous,
    delta_fingerprint,
    earlier_fingerprint,
    fingerprint,
    latest_version,
    mark_published,
    store_version,
    unit_changes,
    value_changes,
    version_values,
)
from tonghop.workbook import SHEET_CHANGES

PERIOD = Period(2025, 3)
STATUS_COLUMNS = ["unit_code", "status", "on_time", "submission_id", "received_at", "file_name"]


def status_frame(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    return frame.assign(errors=0, warnings=0)


def value_rows(**numbers: float) -> list[dict[str, object]]:
    return [
        {"unit_code": unit, "indicator_code": "members", "number": number, "text_value": None}
        for unit, number in numbers.items()
    ]


BEFORE = status_frame(
    ("P", "missing", None, None, None, None),
    ("C1", "accepted", 1, "s1", datetime(2025, 10, 2), "c1.xlsx"),
)
AFTER = status_frame(
    ("P", "missing", None, None, None, None),
    ("C1", "accepted", 1, "s2", datetime(2025, 10, 20), "c1-sua.xlsx"),
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [(1, "tong-hop-2025Q3.xlsx"), (2, "tong-hop-2025Q3-v2.xlsx"), (12, "tong-hop-2025Q3-v12.xlsx")],
)
def test_published_names(version: int, expected: str) -> None:
    assert published_name("tong-hop", PERIOD, version, ".xlsx") == expected


def test_fingerprint_ignores_row_order_and_float_noise_but_not_status() -> None:
    rows = value_rows(P=10.0, C1=10.0)
    base = fingerprint(rows, BEFORE)
    assert fingerprint(list(reversed(rows)), BEFORE.iloc[::-1]) == base
    assert fingerprint(value_rows(P=10.0 + 1e-13, C1=10.0), BEFORE) == base
    assert fingerprint(value_rows(P=11.0, C1=10.0), BEFORE) != base
    assert fingerprint(rows, AFTER) != base


@pytest.mark.parametrize(
    ("moved", "now"),
    [
        ([], {}),  # nothing moved: the base's sum
        (["C1"], {"C1": 12.0}),  # a figure changed
        (["C1", "P"], {"C1": 12.0, "P": 12.0}),  # a unit and its ancestor
        (["C1"], {}),  # a unit's rows gone
    ],
)
def test_a_delta_fingerprints_its_version_as_the_whole_version_would(
    moved: list[str], now: dict[str, float]
) -> None:
    base = value_rows(P=10.0, C1=10.0, C2=4.0)
    replaced = [row for row in base if row["unit_code"] in moved]
    rows = value_rows(**now)
    whole = [row for row in base if row["unit_code"] not in moved] + rows
    delta = Delta(1, moved, rows, replaced, len(whole))
    assert delta_fingerprint(fingerprint(base, BEFORE), delta, AFTER) == fingerprint(whole, AFTER)
    # A version stored before fingerprints composed cannot be built on.
    assert delta_fingerprint(earlier_fingerprint(base, BEFORE), delta, AFTER) is None


def test_a_version_fingerprinted_before_they_composed_is_kept_when_nothing_changed(
    database_url: str,
) -> None:
    make_engine(database_url).dispose()
    moment = datetime(2025, 10, 11, 6, 0)
    rows = value_rows(P=10, C1=10)
    with transaction(database_url) as connection:
        stored = store_version(connection, PERIOD, rows, BEFORE, moment)
        mark_published(connection, stored, moment)
        # As an earlier release stored it: one digest of 64 hex digits.
        connection.execute(
            text("update publication set fingerprint = :old"),
            {"old": earlier_fingerprint(rows, BEFORE)},
        )
        kept = store_version(connection, PERIOD, rows, BEFORE, moment)
        assert (kept.number, kept.is_new) == (1, False)
        changed = store_version(connection, PERIOD, value_rows(P=11, C1=11), BEFORE, moment)
        assert (changed.number, changed.is_new) == (2, True)
        assert changed.fingerprint.startswith(COMPOSABLE) and len(changed.fingerprint) == 64


def test_value_changes_list_every_figure_that_moved() -> None:
    old = pd.DataFrame(
        [
            ("P", "members", 10.0, None),
            ("P", "attendance_rate", 0.5, None),
            ("C1", "members", 10.0, None),
            ("C1", "limitations", math.nan, "Cũ"),
            ("C2", "members", 4.0, None),
        ],
        columns=["unit_code", "indicator_code", "number", "text"],
    )
    new = pd.DataFrame(
        [
            ("P", "members", 12.0, None),
            ("P", "attendance_rate", 0.5 + 1e-15, None),
            ("C1", "members", 12.0, None),
            ("C1", "limitations", math.nan, "Mới"),
            ("C3", "members", 1.0, None),
        ],
        columns=["unit_code", "indicator_code", "number", "text"],
    )
    changes = value_changes(old, new)
    found = {
        (row.unit_code, row.indicator_code): (row.old_number, row.new_number, row.new_text)
        for row in changes.itertuples()
    }
    assert set(found) == {
        ("P", "members"),
        ("C1", "members"),
        ("C1", "limitations"),
        ("C2", "members"),
        ("C3", "members"),
    }
    assert found[("P", "members")][:2] == (10.0, 12.0)
    assert math.isnan(found[("C2", "members")][1])  # became blank
    assert math.isnan(found[("C3", "members")][0])  # was blank
    assert found[("C1", "limitations")][2] == "Mới"


def test_unit_changes_name_the_units_whose_counted_report_changed() -> None:
    changes = unit_changes(BEFORE, AFTER)
    assert changes["unit_code"].tolist() == ["C1"]
    row = changes.iloc[0]
    assert (row.old_file_name, row.new_file_name) == ("c1.xlsx", "c1-sua.xlsx")


def test_versions_in_the_database(database_url: str) -> None:
    make_engine(database_url).dispose()
    moment = datetime(2025, 10, 11, 6, 0)
    with transaction(database_url) as connection:
        first = store_version(connection, PERIOD, value_rows(P=10, C1=10), BEFORE, moment)
        assert (first.number, first.is_new, first.published_at) == (1, True, None)
        # a killed run's unpublished version is replaced by the next, not kept beside it
        redone = store_version(connection, PERIOD, value_rows(P=11, C1=11), BEFORE, moment)
        assert (redone.number, redone.is_new) == (1, True)
        mark_published(connection, redone, moment)
        again = store_version(connection, PERIOD, value_rows(P=11, C1=11), BEFORE, moment)
        assert (again.number, again.is_new) == (1, False)
        assert again.published_at == moment
        second = store_version(connection, PERIOD, value_rows(P=12, C1=12), AFTER, moment)
        assert (second.number, second.is_new) == (2, True)
        assert latest_version(connection, PERIOD).number == 2
        assert version_values(connection, PERIOD, 1)["number"].tolist() == [11.0, 11.0]
        changes = changes_since_previous(connection, second)
    assert changes.previous == 1 and changes.previous_published_at == moment
    assert sorted(changes.values["unit_code"]) == ["C1", "P"]
    assert changes.units["unit_code"].tolist() == ["C1"]


def test_a_new_version_is_written_beside_the_old_with_what_changed(tmp_path: Path) -> None:
    first = publish_now(make_consolidation(), tmp_path)
    old_bytes = {path: path.read_bytes() for path in tmp_path.glob("*.*")}
    values = make_consolidation().values
    values.loc[(values.unit_code == "C1") & (values.indicator_code == "members"), "number"] = 520.0
    values.loc[(values.unit_code == "TU") & (values.indicator_code == "members"), "number"] = (
        14123.0
    )
    changes = Changes(
        previous=1,
        previous_published_at=datetime(2025, 10, 11, 6, 30),
        values=value_changes(make_consolidation().values, values),
        units=unit_changes(
            status_frame(("C1", "accepted", 0, "s1", datetime(2025, 10, 12, 16, 5), "c1.xlsx")),
            status_frame(("C1", "accepted", 0, "s9", datetime(2025, 11, 2, 8, 0), "c1-v2.xlsx")),
        ),
    )
    second = publish_now(make_consolidation(values=values, version=2, changes=changes), tmp_path)

    assert first.workbook.name == "tong-hop-2025Q3.xlsx"
    assert second.workbook.name == "tong-hop-2025Q3-v2.xlsx"
    assert second.consolidated_csv.name == "consolidated-2025Q3-v2.csv"
    assert {path: path.read_bytes() for path in old_bytes} == old_bytes  # untouched
    workbook = openpyxl.load_workbook(second.workbook)
    assert workbook.sheetnames[0] == SHEET_CHANGES
    sheet = workbook[SHEET_CHANGES]
    rows = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    text = "\n".join(" | ".join(str(cell) for cell in row) for row in rows)
    assert "Những thay đổi so với phiên bản 1 đã công bố" in text
    assert "Phiên bản: 2 — thay thế phiên bản 1 công bố lúc 11/10/2025 06:30" in text
    assert "c1.xlsx (nhận lúc 12/10/2025 16:05)" in text
    assert "c1-v2.xlsx (nhận lúc 02/11/2025 08:00)" in text
    figures = {
        (row[1], row[4]): tuple(row[5:8]) for row in rows if len(row) >= 8 and row[0] != "STT"
    }
    # the change is a number too, shown signed
    assert figures[("TU", "Tổng số đảng viên")] == (14103, 14123, 20)
    assert figures[("C1", "Tổng số đảng viên")] == (500, 520, 20)
    # the province comes before the cell: changes read top-down the hierarchy
    assert list(figures).index(("TU", "Tổng số đảng viên")) < list(figures).index(
        ("C1", "Tổng số đảng viên")
    )
    assert openpyxl.load_workbook(first.workbook).sheetnames[0] != SHEET_CHANGES


def test_a_published_version_is_not_written_again(tmp_path: Path) -> None:
    first = publish_now(make_consolidation(), tmp_path)
    written = first.workbook.stat().st_mtime_ns
    later = replace(make_consolidation(), generated_at=datetime(2025, 12, 1))
    publish_now(later, tmp_path, rewrite=False)
    assert first.workbook.stat().st_mtime_ns == written
    first.status_csv.unlink()
    publish_now(later, tmp_path, rewrite=False)
    assert first.status_csv.exists()  # a missing file of the version is written again
