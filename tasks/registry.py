"""Prefect tasks over the registry: importing it and reading what the period needs of it."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tonghop.registry import RegistryProblem, Unit, read_registry
from tonghop.storage import load_units, replace_registry, transaction


@task(name="read-registry", cache_policy=NO_CACHE)
def read_registry_file(path: Path) -> tuple[list[Unit], list[RegistryProblem]]:
    """Read and validate a registry CSV; units are empty when it has any problem."""
    return read_registry(path)


@task(name="store-registry", retries=3, retry_delay_seconds=5, cache_policy=NO_CACHE)
def store_registry(database_url: str, units: list[Unit]) -> int:
    """Replace the stored registry and its closure table in one transaction."""
    with transaction(database_url) as connection:
        replace_registry(connection, units)
    return len(units)


@task(name="load-registry", retries=3, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_registry(database_url: str) -> list[Unit]:
    """The stored registry in hierarchy order."""
    with transaction(database_url) as connection:
        return load_units(connection)
