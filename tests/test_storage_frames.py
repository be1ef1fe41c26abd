"""Frames read from the database (`storage.rows_frame`): the same frame `from_records` makes of
all the rows, fetched a chunk at a time, each distinct text held once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import text

from tonghop import storage
from tonghop.storage import rows_frame, transaction


class Cursor:
    """A DB-API cursor's `fetchmany` over rows given."""

    def __init__(self, rows: Sequence[tuple]) -> None:
        self.rows = list(rows)

    def fetchmany(self, size: int) -> list[tuple]:
        chunk, self.rows = self.rows[:size], self.rows[size:]
        return chunk


DAY = datetime(2025, 9, 30, 17, 0)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([("a", "x"), ("b", None), ("a", "x"), (None, "y")], id="texts and blanks"),
        pytest.param([("u", None), ("v", None), ("w", "t"), ("x", "t")], id="a chunk of no text"),
        pytest.param([(None, 1), (None, 2), (1.5, 3), (2.0, 4)], id="a chunk of no number"),
        pytest.param([(None, "a"), (None, "b"), (3, "c")], id="integers after a chunk of none"),
        pytest.param([(1, "a"), (2, "b"), (3, "c")], id="integers"),
        pytest.param([("a", 1), (1, 2), ("b", 3), (2.5, 4)], id="texts and numbers mixed"),
        pytest.param([(None, "a"), (None, "b"), (DAY, "c")], id="a chunk of no date"),
        pytest.param([(None, "a"), (None, "b"), (True, "c"), (False, "d")], id="no flag, flags"),
        pytest.param([], id="no row"),
    ],
)
def test_the_frame_is_the_one_of_all_the_rows_at_once(
    rows: list[tuple], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "FETCH_ROWS", 2)  # every case spans chunks

    frame = rows_frame(Cursor(rows), ["first", "second"])

    expected = pd.DataFrame.from_records(rows, columns=["first", "second"])
    pd.testing.assert_frame_equal(frame, expected)


def test_a_text_met_in_many_rows_and_chunks_is_one_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage, "FETCH_ROWS", 2)
    # As a driver gives them: an equal string made anew for every cell.
    rows = [("".join(["DUK", "-CQ"]), "".join(["x", str(number)])) for number in range(5)]

    frame = rows_frame(Cursor(rows), ["unit_code", "indicator_code"])

    codes = list(frame["unit_code"])
    assert codes == ["DUK-CQ"] * 5
    assert all(code is codes[0] for code in codes)
    assert len({id(code) for code in frame["indicator_code"]}) == 5


def test_a_select_reads_the_same_frame_on_both_databases(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "FETCH_ROWS", 3)
    rows = [
        (f"U{number % 3}", "sessions_total" if number % 2 else "note", number * 1.5 or None)
        for number in range(8)
    ]
    with transaction(database_url) as connection:
        connection.execute(text("create table figure (unit_code text, code text, number real)"))
        connection.execute(
            text("insert into figure values (:unit, :code, :number)"),
            [{"unit": unit, "code": code, "number": number} for unit, code, number in rows],
        )
        query = "select unit_code, code, number from figure order by number"
        result = connection.exec_driver_sql(query)
        frame = rows_frame(result.cursor, list(result.keys()))
        every = connection.exec_driver_sql(query).cursor.fetchall()

    pd.testing.assert_frame_equal(
        frame, pd.DataFrame.from_records(every, columns=["unit_code", "code", "number"])
    )
    assert len(frame) == 8 and frame["unit_code"].nunique() == 3
