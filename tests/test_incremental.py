"""Incremental consolidation equals a full one: a sequence of versions — a late form, a
correction, a rejected later file, a correction that blanks a figure, a registry imported
again — each consolidated from the version before where it can be, and compared figure for
figure with the whole quarter summed again, on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pandas as pd
import pytest

from tests.test_longer_periods import BEFORE, engine  # noqa: F401 - the fixture
from tonghop.aggregation import consolidated_values
from tonghop.consolidating import consolidate
from tonghop.incremental import incremental_values
from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.registry_store import store_registry_version
from tonghop.storage import execute_many
from tonghop.submission_store import period_status
from tonghop.versions import (
    changes_since_previous,
    fingerprint,
    inputs_of,
    latest_version,
    mark_published,
    period_inputs,
    same_basis,
    version_values,
)

QUARTER = Period(2025, 3)
DEADLINE_DAYS = 10
START = datetime(2025, 10, 2, 8, 0)
LEAVES = {"C1", "C2", "C3", "G3", "G4"}


def report_of(code: str, seed: int) -> dict[str, object]:
    """A unit's report: sessions and a flag from everyone, members from the leaves, a text."""
    values: dict[str, object] = {
        "sessions_in_person": seed % 3,
        "sessions_online": seed % 2,
        "sessions_total": seed % 3 + seed % 2,
        "secretary_presented": seed % 2,
        "highlights": f"{code}: báo cáo lần {seed}",
    }
    if code in LEAVES:
        values |= {"members": 10 + seed, "members_exempt": 1, "members_attended": 8 + seed}
    return values


def send(connection, code: str, values: dict[str, object], when: datetime, outcome="accepted"):
    """Store one received file of QUARTER as the collection would."""
    submission_id = uuid.uuid4().hex
    execute_many(
        connection,
        "insert_submission",
        [
            {
                "id": submission_id,
                "unit_code": code,
                "period": str(QUARTER),
                "file_name": f"{code}-{submission_id[:6]}.xlsx",
                "raw_file_name": None,
                "sender": None,
                "sha256": uuid.uuid4().hex * 2,
                "size_bytes": 1,
                "received_at": when,
                "arrival": int(when.timestamp() * 1_000_000),
                "archive_path": "x",
                "declared_unit_code": code,
                "declared_period": str(QUARTER),
                "outcome": outcome,
                "error_count": int(outcome == "rejected"),
                "warning_count": 0,
                "processed_at": when,
            }
        ],
    )
    execute_many(
        connection,
        "insert_submission_value",
        [
            {
                "submission_id": submission_id,
                "indicator_code": indicator,
                "number": None if isinstance(value, str) else float(value),
                "text_value": value if isinstance(value, str) else None,
            }
            for indicator, value in values.items()
        ],
    )


def figures(rows) -> dict[tuple[str, str], object]:
    """Value rows (dicts, or a stored version's frame) by unit and indicator, numbers to 9
    decimals (rates), texts as they are."""
    if hasattr(rows, "itertuples"):
        rows = [
            {
                "unit_code": r.unit_code,
                "indicator_code": r.indicator_code,
                "number": None if r.number != r.number else r.number,
                "text_value": r.text if isinstance(r.text, str) else None,
            }
            for r in rows.itertuples()
        ]
    return {
        (row["unit_code"], row["indicator_code"]): (
            round(row["number"], 9) if row["number"] is not None else row["text_value"]
        )
        for row in rows
    }


def publish_next(connection, when: datetime) -> tuple[int, bool]:
    """Consolidate the quarter as a run does, record the version published; the version, and
    whether it could be made from the version before. The stored figures must be the whole
    quarter's summed again."""
    latest = latest_version(connection, QUARTER)
    used = False
    if latest is not None and latest.published_at is not None:
        status = period_status(connection, QUARTER, DEADLINE_DAYS)
        signature = period_inputs(connection, QUARTER, DEADLINE_DAYS)
        used = (
            incremental_values(
                connection,
                QUARTER,
                DEADLINE_DAYS,
                latest,
                inputs_of(connection, latest),
                signature,
                status,
            )
            is not None
        )
    done = consolidate(connection, QUARTER, DEADLINE_DAYS, when)
    mark_published(connection, done.version, when)
    stored = version_values(connection, QUARTER, done.version.number)
    whole = consolidated_values(connection, QUARTER, DEADLINE_DAYS)
    assert figures(stored) == figures(whole)
    # Its fingerprint, composed from the delta, is the whole version's, and so is its count.
    status = period_status(connection, QUARTER, DEADLINE_DAYS)
    assert done.version.fingerprint == fingerprint(whole, status)
    assert done.figures == len(whole)
    # A new version made from the one before says which units it moved.
    assert (done.moved is not None) == (used and done.version.is_new)
    if done.moved is not None:
        # The changes sheet read from the delta's units only is the whole comparison's.
        whole = changes_since_previous(connection, done.version).values
        from_delta = changes_since_previous(connection, done.version, moved=done.moved).values
        key = ["unit_code", "indicator_code"]
        assert not whole.empty
        pd.testing.assert_frame_equal(
            whole.sort_values(key).reset_index(drop=True),
            from_delta.sort_values(key).reset_index(drop=True),
        )
    return done.version.number, used


def test_every_incremental_version_equals_a_full_consolidation(engine) -> None:  # noqa: F811
    with engine.begin() as connection:
        store_registry_version(connection, BEFORE, None, datetime(2025, 1, 1))
        codes = [unit.code for unit in BEFORE]
        for seed, code in enumerate(codes):
            # C3 sends late; G2, its organisation, never: the late form is the first report of
            # G2's subtree, which changes the grassroots counts of every level above.
            if code not in ("C3", "G2", "G4"):
                send(connection, code, report_of(code, seed), START + timedelta(minutes=seed))
        assert publish_next(connection, START + timedelta(days=1)) == (1, False)

        # G4 reports after the first publication but before the deadline: on time.
        send(connection, "G4", report_of("G4", 4), datetime(2025, 10, 5))
        assert publish_next(connection, datetime(2025, 10, 6)) == (2, True)

        # A late form: C3 counts from now on, late, with an online session; its ancestors move.
        send(connection, "C3", report_of("C3", 7), datetime(2025, 10, 20))
        assert publish_next(connection, datetime(2025, 10, 21)) == (3, True)

        # A correction that changes figures, adds one and changes a text.
        corrected = report_of("C1", 11) | {"news_items": 5}
        send(connection, "C1", corrected, datetime(2025, 10, 22))
        assert publish_next(connection, datetime(2025, 10, 23)) == (4, True)

        # A rejected later file leaves the accepted one counting: nothing to sum again.
        send(connection, "C2", report_of("C2", 99), datetime(2025, 10, 24), outcome="rejected")
        assert publish_next(connection, datetime(2025, 10, 25)) == (4, True)

        # A correction that no longer reports a figure: summed again whole.
        blanked = {key: value for key, value in report_of("G3", 5).items() if key != "members"}
        send(connection, "G3", blanked, datetime(2025, 10, 26))
        assert publish_next(connection, datetime(2025, 10, 27)) == (5, False)

        # A registry imported again (G4 moved from H to the province): summed again whole.
        moved = [
            Unit(u.code, u.name, "TU", u.kind, u.sector, None, None, None) if u.code == "G4" else u
            for u in BEFORE
        ]
        store_registry_version(connection, moved, None, datetime(2025, 10, 28))
        assert publish_next(connection, datetime(2025, 10, 29)) == (6, False)

        # And after it, a late correction is incremental again.
        send(connection, "G4", report_of("G4", 3), datetime(2025, 10, 30))
        assert publish_next(connection, datetime(2025, 10, 31)) == (7, True)


@pytest.mark.parametrize(
    ("base_inputs", "inputs", "same"),
    [
        ("10|r1|10", "11|r1|10", True),
        ("10|r1|10", "11|r2|10", False),
        ("10|r1|10", "11|r1|15", False),
        (None, "11|r1|10", False),
    ],
)
def test_a_base_serves_only_under_the_same_registry_and_deadline(
    base_inputs: str | None, inputs: str, same: bool
) -> None:
    assert same_basis(base_inputs, inputs) is same
