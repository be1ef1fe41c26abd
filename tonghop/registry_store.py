"""The stored registry (SPEC §1): every version ever imported with when it comes into force
(`RegistryVersion`), each version's units in hierarchy order (as `Unit`s, or as a frame with
the columns REGISTRY_COLUMNS) and its closure table, the version in force on a day, and the
successor links of ended units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from tonghop.registry import Unit, closure_rows, hierarchy_positions, levels
from tonghop.restructuring import Successor
from tonghop.storage import (
    execute_many,
    load_sql,
    select_frame,
    statements,
)

# The columns of `units_frame`: the registry's, and where each unit stands in the hierarchy
# (`position` in pre-order, `level` 0 for the province).
REGISTRY_COLUMNS = (
    "code",
    "name",
    "parent_code",
    "kind",
    "sector",
    "valid_from",
    "valid_to",
    "email",
    "position",
    "level",
)


@dataclass(frozen=True)
class RegistryVersion:
    """One imported registry: in force from `effective_from` (None: from the beginning) until a
    later version's date."""

    number: int
    effective_from: date | None
    imported_at: datetime
    file_name: str | None = None


def registry_versions(connection: Connection) -> list[RegistryVersion]:
    """Every version, oldest first."""
    rows = connection.execute(text(load_sql("select_registry_versions")))
    return [
        RegistryVersion(row.number, _as_date(row.effective_from), row.imported_at, row.file_name)
        for row in rows
    ]


def version_in_force(versions: Sequence[RegistryVersion], day: date | None) -> int | None:
    """The version a period ending on `day` is consolidated under: the newest to come into
    force by that day (of two from the same day, the later import); the latest of all when
    `day` is None; None before the first import."""
    if not versions:
        return None
    if day is None:
        return versions[-1].number
    candidates = [
        version
        for version in versions
        if version.effective_from is None or version.effective_from <= day
    ]
    if not candidates:
        return versions[0].number
    return max(candidates, key=lambda v: (v.effective_from or date.min, v.number)).number


def registry_version_on(connection: Connection, day: date | None = None) -> int | None:
    """The number of the version in force on `day` (the latest when None)."""
    return version_in_force(registry_versions(connection), day)


def units_frame(connection: Connection, day: date | None = None) -> pd.DataFrame:
    """The registry in force on `day` (the latest when None) as a frame (REGISTRY_COLUMNS), in
    hierarchy order."""
    version = registry_version_on(connection, day)
    return select_frame(connection, "select_units", registry_version=version).reindex(
        columns=list(REGISTRY_COLUMNS)
    )


def load_units(connection: Connection, day: date | None = None) -> list[Unit]:
    """The registry in force on `day` (the latest when None), in hierarchy order."""
    version = registry_version_on(connection, day)
    result = connection.execute(text(load_sql("select_units")), {"registry_version": version})
    # The driver's own tuples (SQLAlchemy's Row objects cost more than the query), not a
    # DataFrame, which would turn NULL into NaN, which is truthy.
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return [
        Unit(code, name, parent, kind, sector, _as_date(start), _as_date(end), email)
        for code, name, parent, kind, sector, start, end, email, *_ in rows
    ]


def unit_from_row(row: Any) -> Unit:
    """The unit of a row with the `unit` table's columns."""
    return Unit(
        code=row.code,
        name=row.name,
        parent_code=row.parent_code,
        kind=row.kind,
        sector=row.sector,
        valid_from=_as_date(row.valid_from),
        valid_to=_as_date(row.valid_to),
        email=row.email,
    )


def accepted_unit_periods(connection: Connection) -> list[tuple[str, str]]:
    """Every (unit code, quarter) with an accepted submission."""
    result = connection.execute(text(load_sql("select_accepted_unit_periods")))
    return [(row.unit_code, row.period) for row in result]


def _as_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def store_registry_version(
    connection: Connection,
    units: Sequence[Unit],
    effective_from: date | None,
    now: datetime,
    file_name: str | None = None,
) -> int:
    """Store a validated registry as the next version, with its closure table; its number."""
    versions = registry_versions(connection)
    number = versions[-1].number + 1 if versions else 1
    connection.execute(
        text(load_sql("insert_registry_version")),
        {
            "number": number,
            "effective_from": effective_from,
            "imported_at": now,
            "file_name": file_name,
        },
    )
    positions, depth_of = hierarchy_positions(units), levels(units)
    unit_rows = [
        {
            "registry_version": number,
            "code": unit.code,
            "name": unit.name,
            "parent_code": unit.parent_code,
            "kind": unit.kind,
            "sector": unit.sector,
            "valid_from": unit.valid_from,
            "valid_to": unit.valid_to,
            "email": unit.email,
            "position": positions[unit.code],
            "level": depth_of[unit.code],
        }
        for unit in units
    ]
    execute_many(connection, "insert_unit", unit_rows)
    closure = [
        {"registry_version": number, "ancestor": ancestor, "descendant": descendant, "depth": depth}
        for ancestor, descendant, depth in closure_rows(units)
    ]
    execute_many(connection, "insert_unit_closure", closure)
    connection.execute(text(load_sql("insert_registry_import")), {"imported_at": now})
    return number


def load_successors(connection: Connection) -> list[Successor]:
    """Every successor link, oldest change first."""
    rows = connection.execute(text(load_sql("select_successors")))
    return [
        Successor(row.code, row.successor_code, float(row.share), _as_date(row.effective))
        for row in rows
    ]


def store_successors(
    connection: Connection, successors: Sequence[Successor], registry_version: int
) -> None:
    """Record the links of a successor CSV (a link given again replaces the old one)."""
    for successor in successors:
        for statement in statements("upsert_successor"):
            connection.execute(
                text(statement),
                {
                    "code": successor.code,
                    "successor_code": successor.successor_code,
                    "share": successor.share,
                    "effective": successor.effective,
                    "registry_version": registry_version,
                },
            )
