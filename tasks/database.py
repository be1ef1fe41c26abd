"""The check every flow that writes runs first, with retries, so that an unreachable database
fails the run with a clear message before anything starts."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tonghop.storage import transaction
from tonghop_tasks.names import unmarked


@task(
    name="check-database",
    task_run_name=unmarked("Kiểm tra kết nối cơ sở dữ liệu"),
    cache_policy=NO_CACHE,
)
def check_database(database_url: str) -> None:
    """Reach the database and put the schema in place; retried as the flow's settings say."""
    with transaction(database_url):
        pass
