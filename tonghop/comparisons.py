"""What the audit rules O1 and O2 compare a batch with: each unit's members in its last accepted
earlier quarter, and the period's counted figures of the other units, placed in the hierarchy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection

from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.storage import select_frame

SIBLING_COLUMNS = ["unit_code", "parent_code", "kind", "indicator_code", "number"]


# Not compared by value: a DataFrame has no single truth value.
@dataclass(frozen=True, eq=False)
class Comparisons:
    """The figures outside the batch that the audit rules read.

    `previous`: unit code → (quarter, members) of the unit's latest accepted submission in the
    most recent earlier quarter that has one. `siblings`: the period's counted numbers, one row
    per (unit, indicator) with the unit's parent and kind (SIBLING_COLUMNS). `units`: the
    registry by code, which places a batch's units among their siblings and names parents.
    Empty by default: then neither rule has anything to compare with and says nothing.
    """

    previous: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    siblings: pd.DataFrame | None = None
    units: Mapping[str, Unit] = field(default_factory=dict)


def load_comparisons(connection: Connection, period: Period, units: Sequence[Unit]) -> Comparisons:
    """Read what O1 and O2 compare the batch of `period` with from the stored submissions."""
    previous = select_frame(connection, "select_previous_members", period=str(period))
    siblings = select_frame(connection, "select_counted_values", period=str(period))
    siblings = siblings.reindex(columns=SIBLING_COLUMNS).astype({"number": "float64"})
    return Comparisons(
        previous={
            row.unit_code: (str(row.period), float(row.members))
            for row in previous.itertuples(index=False)
        },
        siblings=siblings,
        units={unit.code: unit for unit in units},
    )
