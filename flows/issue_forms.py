"""The `issue_forms` flow: blank forms for every unit active in the period."""

from __future__ import annotations

from prefect import flow
from prefect.utilities.annotations import quote

from flows.parameters import resolve
from tasks.forms import write_blank_forms
from tasks.registry import load_registry


@flow(name="issue_forms", log_prints=True)
def issue_forms(period: str | None = None, workspace: str | None = None) -> int:
    """Write `outbox/<P>/<unit>-<P>.xlsx` for every active unit; return how many."""
    settings, chosen = resolve(workspace, period, upcoming=True)
    units = load_registry(settings.resolved_database_url)
    return write_blank_forms(quote(units), chosen, settings.outbox, settings.read_workers)
