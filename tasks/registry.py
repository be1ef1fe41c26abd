"""Prefect tasks over the registry: importing a new version of it (with its successor links)
and reading what a period needs of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tonghop.registry import RegistryProblem, Unit, read_registry, validate_registry
from tonghop.registry_store import (
    accepted_unit_periods,
    load_successors,
    load_units,
    registry_versions,
    store_registry_version,
    store_successors,
)
from tonghop.restructuring import (
    Successor,
    accepted_figures_problems,
    effective_date_vi,
    next_registry,
    read_successors,
    same_registry,
    successor_problems,
)
from tonghop.storage import transaction
from tonghop_tasks.names import unmarked


@dataclass(frozen=True)
class StoredRegistry:
    """What storing a registry did: the version made (None when the file changed nothing, or
    when `problems` refused it), when it comes into force, and how many units it ended."""

    problems: list[RegistryProblem]
    version: int | None = None
    effective_from: date | None = None
    units: int = 0
    ended: int = 0


@task(
    name="read-registry", task_run_name=unmarked("Đọc tệp danh sách đơn vị"), cache_policy=NO_CACHE
)
def read_registry_file(
    path: Path, successors: Path | None = None, effective: date | None = None
) -> tuple[list[Unit], list[Successor], list[RegistryProblem]]:
    """Read and check a registry CSV in force from `effective` and its successor CSV for their
    form; units and links are empty when either has a problem."""
    units, problems = read_registry(path, effective)
    links: list[Successor] = []
    if successors is not None:
        links, successor_form = read_successors(successors)
        problems = problems + [
            RegistryProblem(problem.line, f"Tệp kế thừa «{successors.name}», {_lower(problem)}")
            for problem in successor_form
        ]
    return (units, links, []) if not problems else ([], [], problems)


def _lower(problem: RegistryProblem) -> str:
    return problem.message[:1].lower() + problem.message[1:]


@task(name="store-registry", task_run_name=unmarked("Lưu danh sách đơn vị"), cache_policy=NO_CACHE)
def store_registry(
    database_url: str,
    units: list[Unit],
    successors: list[Successor],
    effective_from: date | None,
    now: datetime,
    file_name: str,
) -> StoredRegistry:
    """Store the registry as the next version, in force from `effective_from`, in one
    transaction: stored units the file leaves out are carried over and ended, never deleted.
    Refused whole when it would stop counting accepted figures or its successor links are
    wrong; nothing is stored when it changes nothing."""
    with transaction(database_url) as connection:
        versions = registry_versions(connection)
        stored = load_units(connection) if versions else []
        effective = effective_from if versions else None
        latest = versions[-1].effective_from if versions else None
        if effective is not None and latest is not None and effective < latest:
            return StoredRegistry(
                [
                    RegistryProblem(
                        0,
                        f"Danh sách đơn vị hiện hành có hiệu lực {effective_date_vi(latest)}: "
                        f"không thể nhập danh sách có hiệu lực sớm hơn "
                        f"({effective_date_vi(effective)}).",
                    )
                ]
            )
        snapshot = next_registry(stored, units, effective)
        # The first registry is in force for every period: its units' whole spans must fit.
        problems = [] if versions else validate_registry(units)
        problems += accepted_figures_problems(
            accepted_unit_periods(connection), snapshot, effective
        )
        if successors:
            problems += successor_problems(successors, snapshot, load_successors(connection))
        if problems:
            return StoredRegistry(sorted(problems, key=lambda problem: problem.line))
        if versions and not successors and same_registry(stored, snapshot):
            return StoredRegistry([], None, effective, len(snapshot))
        number = store_registry_version(connection, snapshot, effective, now, file_name)
        store_successors(connection, successors, number)
    stored_ends = {unit.code: unit.valid_to for unit in stored}
    # Units this version ends: a new end date, or one the stored version did not have.
    ended = sum(
        1
        for unit in snapshot
        if unit.valid_to is not None
        and unit.code in stored_ends
        and stored_ends[unit.code] != unit.valid_to
    )
    return StoredRegistry([], number, effective, len(snapshot), ended)


@task(name="load-registry", task_run_name=unmarked("Đọc danh sách đơn vị"), cache_policy=NO_CACHE)
def load_registry(database_url: str, day: date | None = None) -> list[Unit]:
    """The registry in force on `day` (the latest when None), in hierarchy order."""
    with transaction(database_url) as connection:
        return load_units(connection, day)
