"""The `remind` flow: a few days before the deadline, e-mail every parent unit the list of its
units whose report is still missing or rejected, and each of those units that has an address
its own reminder with its form attached again; a reminder that cannot be sent fails the run."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow
from prefect.utilities.annotations import quote

from tonghop.errors import TonghopError
from tonghop.outbox import MailNotSent, OutboxSummary, not_sent_message
from tonghop.reminders import REMINDER, UNIT_REMINDER
from tonghop_flows.failures import explained
from tonghop_flows.mailing import send_planned
from tonghop_flows.parameters import (
    HOME,
    JUST_ENDED,
    PeriodParameter,
    ResendParameter,
    WorkspaceParameter,
    run_name,
)
from tonghop_flows.run import exclusive_run, started_run, with_database_retries
from tonghop_tasks.forms import write_blank_forms
from tonghop_tasks.outbox import plan_reminders
from tonghop_tasks.registry import load_registry


@dataclass(frozen=True)
class Reminded:
    """What one `remind` run sent: the lists to parent units, and the units' own reminders."""

    upper: OutboxSummary
    units: OutboxSummary

    @property
    def summaries(self) -> tuple[OutboxSummary, OutboxSummary]:
        return self.upper, self.units


class RemindersNotSent(TonghopError):
    """Some reminders did not reach their recipient; raised after every outcome is recorded,
    with what the run did."""

    action = (
        "Sửa địa chỉ thư hoặc cấu hình máy chủ thư theo lý do dưới đây, rồi bấm Retry trên "
        "trang lần chạy này: chỉ những thư chưa gửi được sẽ được gửi"
    )

    def __init__(self, message: str, reminded: Reminded) -> None:
        super().__init__(message)
        self.reminded = reminded

    def __reduce__(self) -> tuple[object, ...]:
        # Prefect may pickle a flow's exception; keep what it carries through it.
        return (type(self), (self.args[0], self.reminded))


@flow(name="remind", flow_run_name=run_name("đôn đốc"), log_prints=True)
@explained
def remind(
    period: PeriodParameter = JUST_ENDED,
    workspace: WorkspaceParameter = HOME,
    resend_unconfirmed: ResendParameter = False,
) -> Reminded:
    """Send the period's reminders not sent yet (with `resend_unconfirmed`, also those an
    interrupted run may have sent); raise RemindersNotSent, after recording every outcome,
    when any of them did not reach its recipient."""
    with started_run(workspace, period, exclusive=False) as context:
        settings, url = context.settings, context.database_url
        forms_folder = context.workspace.forms_folder(context.period)
        # Held from planning to recording: two runs at once would both send what neither
        # recorded.
        with exclusive_run(context):
            units = with_database_retries(load_registry, settings)(url)
            upper, own = with_database_retries(plan_reminders, settings)(
                url, context.period, quote(units), settings, forms_folder, resend_unconfirmed
            )
            if own.to_send:
                # The form goes again with each unit's reminder: written afresh, as issued.
                write_blank_forms(
                    quote(units),
                    context.period,
                    context.workspace.outbox,
                    settings.read_workers,
                    frozenset(letter.about_code for letter in own.to_send),
                )
            summaries = []
            for kind, planned in ((REMINDER, upper), (UNIT_REMINDER, own)):
                try:
                    summaries.append(send_planned(context, kind, planned))
                except MailNotSent as error:
                    summaries.append(error.summary)
    reminded = Reminded(*summaries)
    failed = [summary for summary in summaries if summary.failed]
    if failed:
        raise RemindersNotSent("\n".join(not_sent_message(s) for s in failed), reminded)
    return reminded
