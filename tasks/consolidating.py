"""Prefect tasks that consolidate a period in the database and gather what publishing needs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.database import engine_for
from tonghop.aggregation import consolidate, period_parameters, sector_totals
from tonghop.periods import Period
from tonghop.publishing import Consolidation
from tonghop.storage import select_frame


@task(name="consolidate-period", retries=3, retry_delay_seconds=5, cache_policy=NO_CACHE)
def consolidate_period(database_url: str, period: Period, deadline_days: int) -> int:
    """Aggregate the period up the hierarchy and store it, replacing the old result atomically."""
    with engine_for(database_url).begin() as connection:
        rows = consolidate(connection, period, deadline_days)
    get_run_logger().info("Đã tổng hợp %d số liệu cho kỳ %s.", rows, period)
    return rows


@task(name="gather-consolidation", retries=3, retry_delay_seconds=5, cache_policy=NO_CACHE)
def gather_consolidation(
    database_url: str, period: Period, deadline_days: int, timezone: str
) -> Consolidation:
    """Read the stored consolidation, progress and problems of the period in one snapshot."""
    parameters = period_parameters(period, deadline_days)
    with engine_for(database_url).begin() as connection:
        units = select_frame(connection, "select_units")
        values = select_frame(connection, "select_consolidated", period=str(period))
        sectors = sector_totals(connection, period)
        status = select_frame(
            connection, "select_status", parse_dates=["received_at"], **parameters
        )
        problems = select_frame(
            connection, "select_latest_problems", parse_dates=["received_at"], period=str(period)
        )
        texts = select_frame(connection, "select_own_texts", **parameters)
    active = units["code"].isin(status["unit_code"])
    # SQLite answers 1/0 and PostgreSQL may too; None means the unit has nothing accepted
    status["on_time"] = [None if pd.isna(flag) else bool(flag) for flag in status["on_time"]]
    own_texts = texts[texts["ancestor_code"] == texts["unit_code"]]
    return Consolidation(
        period=period,
        generated_at=datetime.now(ZoneInfo(timezone)).replace(tzinfo=None),
        deadline=period.deadline(deadline_days),
        units=units[active].reset_index(drop=True),
        values=values,
        sectors=sectors,
        status=status,
        problems=problems,
        texts=own_texts[["unit_code", "indicator_code", "text"]].reset_index(drop=True),
    )
