"""Prefect tasks that consolidate a period into its current or next published version, gather
what publishing needs, and record a version as published once its files are written."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from tonghop.aggregation import consolidated_values, sector_totals, unit_texts
from tonghop.consolidation import TEXT_COLUMNS, Consolidation
from tonghop.periods import Period
from tonghop.registry_store import units_frame
from tonghop.storage import transaction
from tonghop.submission_store import latest_problems, period_status
from tonghop.versions import (
    Version,
    changes_since_previous,
    inputs_of,
    latest_version,
    mark_published,
    period_inputs,
    remember_inputs,
    store_version,
    version_status,
    version_values,
)


def _now(timezone: str) -> datetime:
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


@task(name="consolidate-period", cache_policy=NO_CACHE)
def consolidate_period(
    database_url: str, period: Period, deadline_days: int, timezone: str
) -> tuple[Version, bool]:
    """Aggregate the period up the hierarchy; keep the version if nothing changed, else store
    the next one — in one transaction. Returns the version and whether anything came in since
    it was published: when nothing did, nothing is computed at all."""
    logger = get_run_logger()
    with transaction(database_url) as connection:
        signature = period_inputs(connection, period, deadline_days)
        latest = latest_version(connection, period)
        if (
            latest is not None
            and latest.published_at is not None
            and inputs_of(connection, latest) == signature
        ):
            logger.info(
                "Kỳ %s: không có báo cáo mới từ lần tổng hợp trước; giữ phiên bản %d.",
                period,
                latest.number,
            )
            return latest, False
        values = consolidated_values(connection, period, deadline_days)
        status = period_status(connection, period, deadline_days)
        version = store_version(connection, period, values, status, _now(timezone))
        remember_inputs(connection, version, signature)
    if version.is_new:
        logger.info("Kỳ %s: phiên bản %d với %d số liệu.", period, version.number, len(values))
    else:
        logger.info("Kỳ %s: không có gì thay đổi so với phiên bản %d.", period, version.number)
    return version, True


@task(name="gather-consolidation", cache_policy=NO_CACHE)
def gather_consolidation(database_url: str, version: Version, deadline_days: int) -> Consolidation:
    """Read one version's figures and statuses, what it changed, and the problems to report."""
    with transaction(database_url) as connection:
        return load_consolidation(connection, version, deadline_days)


def previous_quarter(database_url: str, period: Period, deadline_days: int) -> Consolidation | None:
    """The previous quarter's latest published version, which the reports compare with (without
    what it changed itself: nobody reads that here)."""
    with transaction(database_url) as connection:
        previous = latest_version(connection, period.previous())
        if previous is None or previous.published_at is None:
            return None
        return load_consolidation(connection, previous, deadline_days, with_changes=False)


def load_consolidation(
    connection: Connection, version: Version, deadline_days: int, *, with_changes: bool = True
) -> Consolidation:
    """One version as publishing and the reports read it."""
    period = Period.parse(version.period)
    units = units_frame(connection)
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


@task(name="mark-published", cache_policy=NO_CACHE)
def mark_version_published(database_url: str, version: Version, timezone: str) -> None:
    """Record that every file of the version is in place."""
    if version.published_at is not None:
        return
    with transaction(database_url) as connection:
        mark_published(connection, version, _now(timezone))
