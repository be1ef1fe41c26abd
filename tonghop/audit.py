"""Where a figure came from: every version a unit sent for a period with its outcome and
problems (`tonghop history`), and the values that count with the file they came from
(`tonghop show`), for every unit that is in the registry or ever sent anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection, text

from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.registry_store import registry_version_on, unit_from_row
from tonghop.storage import load_sql, select_frame
from tonghop.versions import latest_version, version_values


@dataclass(frozen=True)
class KnownUnit:
    """A unit code the database knows: its row of the current registry (None once the registry
    no longer has it; its submissions stay) and how many files it ever sent."""

    code: str
    unit: Unit | None
    submissions: int

    def counts_in(self, period: Period) -> bool:
        """Whether the current registry counts the unit in the period (active on its last day)."""
        return self.unit is not None and self.unit.active_on(period.last_day)


def known_unit(connection: Connection, unit_code: str, day: date | None = None) -> KnownUnit | None:
    """The unit as the registry in force on `day` (the latest when None) knows it; None when the
    code is neither in the registry nor on any file received."""
    row = connection.execute(
        text(load_sql("select_known_unit")),
        {"unit_code": unit_code, "registry_version": registry_version_on(connection, day)},
    ).one()
    if row.code is None and not row.submissions:
        return None
    unit = None if row.code is None else unit_from_row(row)
    return KnownUnit(code=unit_code, unit=unit, submissions=int(row.submissions))


@dataclass(frozen=True)
class UnitHistory:
    """Every version a unit sent for a period, oldest first, and each version's problems."""

    submissions: pd.DataFrame  # id, file_name, sha256, size_bytes, received_at, … counts (0/1)
    problems: pd.DataFrame  # submission_id, seq, rule, severity, indicator_code, row_number, …


@dataclass(frozen=True)
class CountedValues:
    """The version that counts for a unit (None if none was accepted) and its values, with the
    latest published consolidation of the unit beside them."""

    submission: dict | None
    values: pd.DataFrame  # indicator_code, number, text
    published_version: int | None
    published: pd.DataFrame  # indicator_code, number, text of the unit's consolidated figures


def unit_history(connection: Connection, unit_code: str, period: Period) -> UnitHistory:
    """Every version the unit sent for the period."""
    key = {"unit_code": unit_code, "period": str(period)}
    return UnitHistory(
        submissions=select_frame(
            connection,
            "select_unit_submissions",
            parse_dates=["received_at", "processed_at"],
            **key,
        ),
        problems=select_frame(connection, "select_unit_problems", **key),
    )


def counted_values(connection: Connection, unit_code: str, period: Period) -> CountedValues:
    """The values that count for the unit, the file they came from and its published totals."""
    history = unit_history(connection, unit_code, period)
    counted = history.submissions[history.submissions["counts"] == 1]
    values = select_frame(
        connection, "select_unit_counted_values", unit_code=unit_code, period=str(period)
    )
    version = latest_version(connection, period)
    published = pd.DataFrame(columns=["indicator_code", "number", "text"])
    if version is not None:
        every = version_values(connection, period, version.number)
        published = every[every["unit_code"] == unit_code].drop(columns="unit_code")
    return CountedValues(
        submission=None if counted.empty else counted.iloc[0].to_dict(),
        values=values,
        published_version=None if version is None else version.number,
        published=published.reset_index(drop=True),
    )
