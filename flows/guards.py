"""What every flow that writes does before its work: reach the database (retrying as the
settings say, so an unreachable database fails the run with a clear message before anything
starts), then hold the run lock so that two runs never interleave."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_run_logger

from tasks.database import check_database
from tonghop.config import Settings
from tonghop.locking import run_lock


@contextmanager
def exclusive_run(settings: Settings) -> Iterator[None]:
    """Check the database, then hold its run lock for the body."""
    url = settings.resolved_database_url
    check_database.with_options(
        retries=settings.database_retries, retry_delay_seconds=settings.database_retry_seconds
    )(url)
    logger = get_run_logger()

    def waiting() -> None:
        logger.warning(
            "Một lần chạy khác đang xử lý dữ liệu; chờ tối đa %.0f giây…",
            settings.lock_wait_seconds,
        )

    # Given the run's logger, a lock that cannot be released (its database failed too) is a
    # warning in the run's log, never the run's error.
    with run_lock(url, settings.lock_wait_seconds, on_wait=waiting, logger=logger):
        yield
