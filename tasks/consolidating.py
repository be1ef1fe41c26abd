"""Prefect tasks that consolidate a period into its current or next published version, gather
what publishing needs, and record a version as published once its files are written."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tonghop.carry_over import CarryOver, plan_carry_over
from tonghop.consolidating import Consolidated, consolidate, load_consolidation
from tonghop.consolidation import Consolidation
from tonghop.context import local_now
from tonghop.formatting import format_count
from tonghop.periods import Period
from tonghop.storage import transaction
from tonghop.versions import Version, longer_periods_containing, mark_published
from tonghop_tasks.names import unmarked


@task(
    name="consolidate-period",
    task_run_name=unmarked("Tổng hợp số liệu theo cấp"),
    cache_policy=NO_CACHE,
)
def consolidate_period(
    database_url: str, period: Period, deadline_days: int, timezone: str
) -> Consolidated:
    """Aggregate the period into its current or next version, in one transaction; returns the
    version, whether anything came in since it was published, and what moved."""
    with transaction(database_url) as connection:
        done = consolidate(connection, period, deadline_days, local_now(timezone))
    logger = get_run_logger()
    version = done.version
    if not done.fresh:
        logger.info(
            "Kỳ %s: không có báo cáo mới từ lần tổng hợp trước; giữ phiên bản %d.",
            period,
            version.number,
        )
    elif version.is_new:
        logger.info(
            "Kỳ %s: phiên bản %d với %s số liệu.",
            period,
            version.number,
            format_count(done.figures),
        )
    else:
        logger.info("Kỳ %s: không có gì thay đổi so với phiên bản %d.", period, version.number)
    return done


@task(
    name="plan-carry-over",
    task_run_name=unmarked("Xác định tệp giữ nguyên từ phiên bản trước"),
    cache_policy=NO_CACHE,
)
def find_carry_over(database_url: str, consolidation: Consolidation) -> CarryOver:
    """Which upper levels' reports, charts and workbooks the version copies from the one before
    (their subtree did not move), and which it draws."""
    with transaction(database_url) as connection:
        carry = plan_carry_over(connection, consolidation)
    if carry.previous is not None:
        get_run_logger().info(
            "Phiên bản %d: %s đơn vị có số liệu cả cấp dưới không đổi so với phiên bản %d; báo "
            "cáo, biểu đồ và bảng tổng hợp riêng của các cấp ấy được giữ nguyên, không soạn lại.",
            consolidation.version,
            format_count(len(carry.unchanged)),
            carry.previous,
        )
    return carry


@task(
    name="gather-consolidation",
    task_run_name=unmarked("Đọc phiên bản tổng hợp"),
    cache_policy=NO_CACHE,
)
def gather_consolidation(
    database_url: str, version: Version, deadline_days: int, moved: list[str] | None = None
) -> Consolidation:
    """Read one version's figures and statuses, what it changed (among the `moved` units only,
    when consolidating said which), and the problems to report."""
    with transaction(database_url) as connection:
        return load_consolidation(connection, version, deadline_days, moved=moved)


@task(
    name="find-longer-periods",
    task_run_name=unmarked("Tìm các kỳ dài hơn chứa quý vừa tổng hợp"),
    cache_policy=NO_CACHE,
)
def find_longer_periods(database_url: str, quarters: list[Period]) -> list[Period]:
    """The published half-years, years and spans that contain one of the quarters."""
    if not quarters:
        return []
    with transaction(database_url) as connection:
        return longer_periods_containing(connection, quarters)


@task(
    name="mark-published",
    task_run_name=unmarked("Ghi nhận phiên bản đã công bố"),
    cache_policy=NO_CACHE,
)
def mark_version_published(database_url: str, version: Version, timezone: str) -> None:
    """Record that every file of the version is in place."""
    if version.published_at is not None:
        return
    with transaction(database_url) as connection:
        mark_published(connection, version, local_now(timezone))
