"""The `issue_forms` flow: blank forms for every unit active in the period."""

from __future__ import annotations

from prefect import flow
from prefect.utilities.annotations import quote
from tonghop_flows.run import started_run, with_database_retries
from tonghop_tasks.forms import write_blank_forms
from tonghop_tasks.registry import load_registry


@flow(name="issue_forms", log_prints=True)
def issue_forms(period: str | None = None, workspace: str | None = None) -> int:
    """Write `outbox/<P>/<unit>-<P>.xlsx` for every active unit; return how many."""
    # Only reads the registry and writes into the outbox: no run lock needed.
    with started_run(workspace, period, upcoming=True, exclusive=False) as context:
        settings = context.settings
        units = with_database_retries(load_registry, settings)(context.database_url)
        return write_blank_forms(
            quote(units), context.period, context.workspace.outbox, settings.read_workers
        )
