"""Consolidating a period in the database: computing its figures and statuses into the current
version or the next one (or nothing at all when nothing came in since), and reading a stored
version back whole as the consolidation model that every output is written from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from tonghop.aggregation import consolidated_values, sector_totals, unit_texts
from tonghop.consolidation import TEXT_COLUMNS, Consolidation
from tonghop.periods import Period
from tonghop.registry_store import units_frame
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
    published (`fresh`; when nothing did, nothing was computed), and how many figures it has."""

    version: Version
    fresh: bool
    figures: int = 0


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
    values = consolidated_values(connection, period, deadline_days)
    status = period_status(connection, period, deadline_days)
    version = store_version(connection, period, values, status, now)
    remember_inputs(connection, version, signature)
    return Consolidated(version, fresh=True, figures=len(values))


def load_consolidation(
    connection: Connection, version: Version, deadline_days: int, *, with_changes: bool = True
) -> Consolidation:
    """One stored version as publishing and the reports read it, with what it changed against
    the version before unless `with_changes` is off."""
    period = Period.parse(version.period)
    units = units_frame(connection, period.last_day)
    values = version_values(connection, period, version.number)
    status = version_status(connection, period, version.number)
    sectors = sector_totals(connection, period, version.number)
    problems = latest_problems(connection, period)
    texts = unit_texts(connection, period, deadline_days)
    changes = changes_since_previous(connection, version, values, status) if with_changes else None
    active = units["code"].isin(status["unit_code"])
    own_texts = texts[texts["ancestor_code"] == texts["unit_code"]]
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


def previous_quarter(
    connection: Connection, period: Period, deadline_days: int
) -> Consolidation | None:
    """The previous quarter's latest published version, which the reports compare with (without
    what it changed itself: nobody reads that there)."""
    previous = latest_version(connection, period.previous())
    if previous is None or previous.published_at is None:
        return None
    return load_consolidation(connection, previous, deadline_days, with_changes=False)
