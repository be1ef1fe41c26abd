"""The `import_registry` flow: validate a registry CSV whole and store it with its closure."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.utilities.annotations import quote

from flows.guards import exclusive_run
from flows.parameters import resolve
from tasks.registry import read_registry_file, store_registry
from tonghop.registry import RegistryProblem


@flow(name="import_registry", log_prints=True)
def import_registry(path: str, workspace: str | None = None) -> list[RegistryProblem]:
    """Import the registry at `path`; nothing is stored when it has any problem."""
    settings, _ = resolve(workspace, None)
    units, problems = read_registry_file(Path(path))
    if not problems:
        with exclusive_run(settings):
            store_registry(settings.resolved_database_url, quote(units))
    return problems
