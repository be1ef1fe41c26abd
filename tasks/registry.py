"""Prefect tasks over the registry: importing it and reading what the period needs of it."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tonghop.registry import RegistryProblem, Unit, read_registry
from tonghop.registry_changes import RemovalNotice, removal_notices
from tonghop.registry_store import accepted_unit_periods, load_units, replace_registry
from tonghop.storage import transaction
from tonghop_tasks.names import unmarked


@task(
    name="read-registry", task_run_name=unmarked("Đọc tệp danh sách đơn vị"), cache_policy=NO_CACHE
)
def read_registry_file(path: Path) -> tuple[list[Unit], list[RegistryProblem]]:
    """Read and validate a registry CSV; units are empty when it has any problem."""
    return read_registry(path)


@task(name="store-registry", task_run_name=unmarked("Lưu danh sách đơn vị"), cache_policy=NO_CACHE)
def store_registry(database_url: str, units: list[Unit]) -> list[RemovalNotice]:
    """Replace the stored registry and its closure table in one transaction, and tell which
    units the replacement stops counting where they have accepted figures."""
    with transaction(database_url) as connection:
        # Compared in the same transaction, against the registry being replaced: the units
        # removed are gone, names and all, once the new one is stored.
        notices = removal_notices(accepted_unit_periods(connection), units)
        replace_registry(connection, units)
    return notices


@task(name="load-registry", task_run_name=unmarked("Đọc danh sách đơn vị"), cache_policy=NO_CACHE)
def load_registry(database_url: str) -> list[Unit]:
    """The stored registry in hierarchy order."""
    with transaction(database_url) as connection:
        return load_units(connection)
