"""The `import_registry` flow: validate a registry CSV whole and store it with its closure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow
from prefect.utilities.annotations import quote

from tonghop.registry import RegistryProblem
from tonghop.registry_changes import RemovalNotice, removal_summary_vi
from tonghop_flows.failures import explained
from tonghop_flows.parameters import HOME, WorkspaceParameter, run_name
from tonghop_flows.run import exclusive_run, started_run, with_database_retries
from tonghop_tasks.registry import read_registry_file, store_registry


@dataclass(frozen=True)
class RegistryImport:
    """What an import did: `problems` refused the registry whole and nothing was stored;
    otherwise it was stored, and `notices` name the units it removed or ended that have
    accepted submissions in periods where they no longer count."""

    problems: list[RegistryProblem]
    notices: list[RemovalNotice] = field(default_factory=list)


@flow(
    name="import_registry",
    flow_run_name=run_name("nhập danh sách đơn vị", periodic=False),
    log_prints=True,
)
@explained
def import_registry(path: str, workspace: WorkspaceParameter = HOME) -> RegistryImport:
    """Import the registry at `path`; nothing is stored when it has any problem."""
    with started_run(workspace, None, exclusive=False) as context:
        units, problems = read_registry_file(Path(path))
        if problems:
            return RegistryImport(problems)
        with exclusive_run(context):
            notices = with_database_retries(store_registry, context.settings)(
                context.database_url, quote(units)
            )
    if notices:
        # The whole list reaches the flow run's log, whatever the command line shortens.
        print(removal_summary_vi(len(notices)))
        for notice in notices:
            print(f"  • {notice.message_vi}")
    return RegistryImport(problems, notices)
