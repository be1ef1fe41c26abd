"""The stored submissions: what was received before (checksums, and how each inbox entry looked
when it was read), the periods collected so far, a validated batch stored in the order its
versions arrived, each expected unit's reporting status in a period (STORED_STATUS_COLUMNS), and the
problems of each unit's latest file (the consolidation model's PROBLEM_COLUMNS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import pandas as pd
from sqlalchemy import Connection, text

from tonghop.aggregation import period_parameters
from tonghop.collecting import InboxFile, Outcome
from tonghop.consolidation import PROBLEM_COLUMNS
from tonghop.periods import Period
from tonghop.storage import execute_many, load_sql, select_frame
from tonghop.versions import STORED_STATUS_COLUMNS


def known_files(connection: Connection) -> set[tuple[str, str]]:
    """(unit, checksum) of every file recorded: the same bytes are never a new version."""
    return {tuple(row) for row in connection.execute(text(load_sql("select_known_files")))}


def remembered_inbox(connection: Connection) -> dict[tuple[str, str], tuple[int, int]]:
    """(size, modification time) of each inbox entry when it was last read, by (folder, name
    key): an entry that still looks so is not opened again."""
    return {
        (row.folder, row.file_name): (row.size_bytes, row.mtime_ns)
        for row in connection.execute(text(load_sql("select_inbox_files")))
    }


def recorded_messages(connection: Connection) -> set[str]:
    """The checksum of every e-mail recorded: a message seen again is only moved."""
    return {row[0] for row in connection.execute(text(load_sql("select_mail_checksums")))}


def collected_periods(connection: Connection) -> set[str]:
    """The periods that have at least one submission."""
    return {row[0] for row in connection.execute(text(load_sql("select_collected_periods")))}


def store_batch(
    connection: Connection,
    outcomes: Sequence[Outcome],
    seen: Sequence[InboxFile],
    batch_rows: int,
    messages: Sequence[dict[str, object]] = (),
) -> int:
    """Insert a batch's submissions, values and problems and remember the inbox entries and
    e-mail `messages` they came from; the batch's versions arrive after every stored one (their
    `arrival` numbers the batch from 1)."""
    stored = connection.execute(text(load_sql("select_last_arrival"))).scalar() or 0
    execute_many(
        connection,
        "insert_submission",
        [
            {**outcome.submission, "arrival": stored + outcome.submission["arrival"]}
            for outcome in outcomes
        ],
        batch_rows,
    )
    execute_many(
        connection,
        "insert_submission_value",
        [row for outcome in outcomes for row in outcome.values],
        batch_rows,
    )
    execute_many(
        connection,
        "insert_problem",
        [row for outcome in outcomes for row in outcome.problems],
        batch_rows,
    )
    execute_many(connection, "upsert_inbox_file", [asdict(item) for item in seen], batch_rows)
    execute_many(connection, "insert_mail_message", list(messages), batch_rows)
    return len(outcomes)


def period_status(connection: Connection, period: Period, deadline_days: int) -> pd.DataFrame:
    """Every expected unit's status in the period (SPEC §7), in hierarchy order: the version
    that counts, or the latest received when none was accepted (STORED_STATUS_COLUMNS)."""
    status = select_frame(
        connection,
        "select_status",
        parse_dates=["received_at"],
        **period_parameters(connection, period, deadline_days),
    )
    return status.reindex(columns=list(STORED_STATUS_COLUMNS))


def latest_problems(connection: Connection, period: Period) -> pd.DataFrame:
    """Every problem of each unit's latest received file of the period (PROBLEM_COLUMNS)."""
    problems = select_frame(
        connection, "select_latest_problems", parse_dates=["received_at"], period=str(period)
    )
    return problems.reindex(columns=list(PROBLEM_COLUMNS))
