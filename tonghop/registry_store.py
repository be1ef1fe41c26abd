"""The stored registry: its units in hierarchy order (as `Unit`s, or as a frame with the columns
REGISTRY_COLUMNS), replacing it with its closure table, and the units with accepted reports that a
replacement would stop counting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from tonghop.registry import Unit, closure_rows, hierarchy_positions, levels
from tonghop.storage import execute_many, load_sql, select_frame, statements

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


def units_frame(connection: Connection) -> pd.DataFrame:
    """The stored registry as a frame (REGISTRY_COLUMNS), in hierarchy order."""
    return select_frame(connection, "select_units").reindex(columns=list(REGISTRY_COLUMNS))


def load_units(connection: Connection) -> list[Unit]:
    """The stored registry, in hierarchy order."""
    result = connection.execute(text(load_sql("select_units")))
    # Rows straight from the driver: a DataFrame would turn NULL into NaN, which is truthy.
    return [unit_from_row(row) for row in result]


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


def accepted_unit_periods(connection: Connection) -> list[tuple[str, str, Unit | None]]:
    """Every (unit code, quarter) with an accepted submission, with the unit as the stored
    registry has it, or None when the registry no longer has it."""
    result = connection.execute(text(load_sql("select_accepted_unit_periods")))
    return [
        (row.unit_code, row.period, None if row.code is None else unit_from_row(row))
        for row in result
    ]


def _as_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def replace_registry(connection: Connection, units: Sequence[Unit]) -> None:
    """Store a validated registry and its closure table in place of the old one."""
    positions, depth_of = hierarchy_positions(units), levels(units)
    for statement in statements("delete_registry"):
        connection.execute(text(statement))
    unit_rows = [
        {
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
        {"ancestor": ancestor, "descendant": descendant, "depth": depth}
        for ancestor, descendant, depth in closure_rows(units)
    ]
    execute_many(connection, "insert_unit_closure", closure)
    connection.execute(text(load_sql("insert_registry_import")), {"imported_at": datetime.now()})
