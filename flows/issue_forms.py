"""The `issue_forms` flow: blank forms for every unit active in the period, written to the
outbox folder and e-mailed to each unit (or its nearest ancestor with an address)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow
from prefect.utilities.annotations import quote

from tonghop.form_letters import FORM
from tonghop.outbox import OutboxSummary
from tonghop_flows.failures import explained
from tonghop_flows.mailing import send_planned
from tonghop_flows.parameters import (
    HOME,
    IN_PROGRESS,
    PeriodParameter,
    ResendParameter,
    WorkspaceParameter,
    run_name,
)
from tonghop_flows.run import exclusive_run, started_run, with_database_retries
from tonghop_tasks.forms import write_blank_forms
from tonghop_tasks.outbox import plan_form_letters
from tonghop_tasks.registry import load_registry


@dataclass(frozen=True)
class IssuedForms:
    """What one `issue_forms` run did: the forms written in `folder`, and how they were mailed."""

    count: int
    folder: Path
    mail: OutboxSummary


@flow(name="issue_forms", flow_run_name=run_name("phát mẫu biểu", upcoming=True), log_prints=True)
@explained
def issue_forms(
    period: PeriodParameter = IN_PROGRESS,
    workspace: WorkspaceParameter = HOME,
    resend_unconfirmed: ResendParameter = False,
) -> IssuedForms:
    """Write `outbox/<P>/<unit>-<P>.xlsx` for every active unit, then e-mail each unit its form
    once per form version; with no mail server configured the forms stay in the folder and the
    run says so. Raise MailNotSent, after recording every outcome, when a form did not go."""
    with started_run(workspace, period, upcoming=True, exclusive=False) as context:
        settings = context.settings
        units = with_database_retries(load_registry, settings)(context.database_url)
        forms = write_blank_forms(
            quote(units), context.period, context.workspace.outbox, settings.read_workers
        )
        # Held from planning to recording: two runs at once would both send what neither
        # recorded.
        with exclusive_run(context):
            planned = with_database_retries(plan_form_letters, settings)(
                context.database_url,
                context.period,
                quote(units),
                forms,
                settings,
                resend_unconfirmed,
            )
            mail = send_planned(context, FORM, planned, optional=True)
    return IssuedForms(len(forms), context.workspace.forms_folder(context.period), mail)
