"""Consolidating a period in the database: computing its figures and statuses into the current
version or the next one (or nothing at all when nothing came in since), and reading a stored
version back whole as the consolidation model that every output is written from. A quarter is
aggregated in the database; a longer period is combined from its quarters
(tonghop/longer_periods.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection

from tonghop.aggregation import consolidated_values, sector_totals, unit_texts
from tonghop.consolidation import PROBLEM_COLUMNS, TEXT_COLUMNS, Consolidation
from tonghop.incremental import incremental_values
from tonghop.longer_periods import carry, hierarchy_on
from tonghop.periods import Period
from tonghop.registry_store import (
    REGISTRY_COLUMNS,
    load_successors,
    registry_version_on,
    registry_versions,
    units_frame,
)
from tonghop.submission_store import latest_problems, period_status
from tonghop.versions import (
    Version,
    changes_since_previous,
    inputs_of,
    latest_version,
    period_inputs,
    remember_inputs,
    store_version,
    version_status,
    version_values,
)


@dataclass(frozen=True)
class Consolidated:
    """What consolidating did: the version that stands, whether anything came in since it was
    published (`fresh`; when nothing did, nothing was computed), how many figures and units it
    has, and, for a new version built on the one before, the only units whose rows it changed
    (`moved`; None when it may differ anywhere)."""

    version: Version
    fresh: bool
    figures: int = 0
    moved: list[str] | None = None
    units: int = 0  # the units the version has a status for


def consolidate(
    connection: Connection, period: Period, deadline_days: int, now: datetime
) -> Consolidated:
    """Aggregate the period up the hierarchy; keep the version when nothing changed, else store
    the next one. Nothing is computed when the period's inputs have not moved since its version
    was published."""
    signature = period_inputs(connection, period, deadline_days)
    latest = latest_version(connection, period)
    if (
        latest is not None
        and latest.published_at is not None
        and inputs_of(connection, latest) == signature
    ):
        return Consolidated(latest, fresh=False)
    if period.is_quarter:
        status = period_status(connection, period, deadline_days)
        # A late form or a correction: the published version plus what moved, when it can be
        # (tonghop/incremental.py); else the whole quarter summed again.
        values, delta = None, None
        if latest is not None and latest.published_at is not None:
            base_inputs = inputs_of(connection, latest)
            delta = incremental_values(
                connection, period, deadline_days, latest, base_inputs, signature, status
            )
        if delta is None:
            values = consolidated_values(connection, period, deadline_days)
    else:
        carried = carry(connection, period, deadline_days)
        values, status, delta = carried.values, carried.status, None
    version = store_version(connection, period, values, status, now, delta)
    remember_inputs(connection, version, signature)
    # A delta is taken from the latest version, published: a new version is the next one.
    moved = delta.units if delta is not None and version.is_new else None
    figures = delta.figures if delta is not None else len(values or ())
    return Consolidated(version, fresh=True, figures=figures, moved=moved, units=len(status))


def load_consolidation(
    connection: Connection,
    version: Version,
    deadline_days: int,
    *,
    with_changes: bool = True,
    moved: list[str] | None = None,
) -> Consolidation:
    """One stored version as publishing and the reports read it, with what it changed against
    the version before unless `with_changes` is off; `moved` (from `Consolidated`) limits
    that comparison to the units the version changed."""
    period = Period.parse(version.period)
    units = units_frame(connection, period.last_day)
    values = version_values(connection, period, version.number)
    status = version_status(connection, period, version.number)
    sectors = sector_totals(connection, period, version.number)
    changes = (
        changes_since_previous(connection, version, values, status, moved) if with_changes else None
    )
    active = units["code"].isin(status["unit_code"])
    if period.is_quarter:
        problems = latest_problems(connection, period)
        texts = unit_texts(connection, period, deadline_days)
        own_texts = texts[texts["ancestor_code"] == texts["unit_code"]]
    else:
        # Units send quarters, not longer periods: no file, no problem of its own; the texts
        # are each unit's over the quarters.
        problems = pd.DataFrame(columns=list(PROBLEM_COLUMNS))
        own_texts = carry(connection, period, deadline_days).own_texts
    return Consolidation(
        period=period,
        generated_at=version.created_at,
        deadline=period.deadline(deadline_days),
        units=units[active].reset_index(drop=True),
        values=values,
        sectors=sectors,
        status=status,
        problems=problems,
        texts=own_texts[list(TEXT_COLUMNS)].reset_index(drop=True),
        version=version.number,
        changes=changes,
    )


def comparison_period(period: Period) -> Period:
    """What the reports compare a period with: a quarter with the one before, a longer period
    with the same period a year earlier ("so với cùng kỳ năm trước")."""
    return period.previous() if period.is_quarter else period.same_period_last_year()


def same_hierarchy(connection: Connection, earlier: Period, period: Period) -> bool:
    """Whether `earlier` was consolidated under the hierarchy of `period`: the same registry
    version on both last days, and no successor link in force in between."""
    return registry_version_on(connection, earlier.last_day) == registry_version_on(
        connection, period.last_day
    ) and not any(
        earlier.last_day < link.effective <= period.last_day for link in load_successors(connection)
    )


def previous_quarter(
    connection: Connection, period: Period, deadline_days: int
) -> Consolidation | None:
    """The period the reports compare with (`comparison_period`), under the hierarchy of
    `period`: its latest published version when the hierarchy did not change in between, else
    consolidated again from its quarters under today's hierarchy, so that a merged unit is
    compared with the sum of its predecessors (SPEC §1). None when it has nothing."""
    earlier = comparison_period(period)
    if same_hierarchy(connection, earlier, period) and earlier.is_quarter:
        previous = latest_version(connection, earlier)
        if previous is None or previous.published_at is None:
            return None
        return load_consolidation(connection, previous, deadline_days, with_changes=False)
    target = hierarchy_on(connection, period.last_day, registry_versions(connection))
    carried = carry(connection, earlier, deadline_days, target)
    if not any(row["number"] is not None for row in carried.values):
        return None
    values = pd.DataFrame(carried.values).rename(columns={"text_value": "text"})
    return Consolidation(
        period=earlier,
        generated_at=datetime.now(),
        deadline=earlier.deadline(deadline_days),
        units=target.units.reindex(columns=list(REGISTRY_COLUMNS)),
        values=values,
        sectors=pd.DataFrame(columns=["sector", "indicator_code", "number"]),
        status=carried.status,
        problems=pd.DataFrame(columns=list(PROBLEM_COLUMNS)),
        texts=carried.own_texts,
    )
