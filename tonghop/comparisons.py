"""What the audit rules O1 and O2 compare a batch with: each unit's members in its last accepted
earlier quarter, and the period's counted figures of the other units, placed in the hierarchy."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection

from tonghop.periods import Period
from tonghop.registry import Unit
from tonghop.registry_store import load_successors, registry_version_on
from tonghop.restructuring import Successor
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


def load_comparisons(
    connection: Connection,
    period: Period,
    units: Sequence[Unit],
    batch_units: Collection[str] | None = None,
) -> Comparisons:
    """Read what O1 and O2 compare the batch of `period` with from the stored submissions; a
    unit's previous members take in those of the units it succeeded since (SPEC §1). The
    siblings are those of `batch_units` (the units whose files the batch holds), or of every
    unit when not given."""
    previous = select_frame(connection, "select_previous_members", period=str(period))
    parent_of = {unit.code: unit.parent_code for unit in units}
    codes = parent_of.keys() if batch_units is None else batch_units
    parents = sorted({parent for code in codes if (parent := parent_of.get(code))})
    siblings = pd.DataFrame(columns=SIBLING_COLUMNS)
    if parents:
        siblings = select_frame(
            connection,
            "select_counted_values",
            period=str(period),
            registry_version=registry_version_on(connection, period.last_day),
            parent_codes=parents,
        )
    siblings = siblings.reindex(columns=SIBLING_COLUMNS).astype({"number": "float64"})
    own = {
        row.unit_code: (str(row.period), float(row.members))
        for row in previous.itertuples(index=False)
    }
    return Comparisons(
        previous=with_predecessors(own, load_successors(connection), period),
        siblings=siblings,
        units={unit.code: unit for unit in units},
    )


def with_predecessors(
    own: Mapping[str, tuple[str, float]], successors: Sequence[Successor], period: Period
) -> dict[str, tuple[str, float]]:
    """Each unit's previous members (quarter, members), the members of the units it succeeded
    added in by their shares when the change came after the unit's own previous report: after
    a merger the merged unit is compared with the sum of what merged into it, so that O1 does
    not fire on every merged unit (a split unit's predecessor is shared by `share`)."""
    incoming: dict[str, list[Successor]] = {}
    for link in successors:
        if link.effective <= period.last_day:
            incoming.setdefault(link.successor_code, []).append(link)

    def members(code: str, seen: frozenset[str]) -> tuple[str, float] | None:
        found = own.get(code)
        total, latest = (found[1], found[0]) if found else (0.0, "")
        added = False
        for link in incoming.get(code, []):
            if link.code in seen:
                continue
            if found and Period.parse(found[0]).last_day >= link.effective:
                continue  # the unit reported after the change: its own figure says it all
            before = members(link.code, seen | {code})
            if before is not None:
                total += link.share * before[1]
                latest = max(latest, before[0])
                added = True
        return (latest, total) if found or added else None

    result = dict(own)
    for code in incoming:
        found = members(code, frozenset())
        if found is not None:
            result[code] = found
    return result
