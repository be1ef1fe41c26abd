"""The `quarterly_report` flow: collect, then consolidate, publish and send the reports — the
scheduled run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from prefect import flow

from tonghop.context import RunContext
from tonghop.errors import TonghopError
from tonghop.outbox import MailNotSent, OutboxSummary, not_sent_message
from tonghop.periods import Period
from tonghop.publishing import PublishedFiles
from tonghop_flows.collect import CollectSummary, collect_step
from tonghop_flows.consolidate import consolidate_step
from tonghop_flows.deliver import deliver_step
from tonghop_flows.run import started_run, with_database_retries
from tonghop_tasks.consolidating import find_longer_periods


@dataclass(frozen=True)
class QuarterlyReport:
    """The outcome of one scheduled run; `corrections` republished earlier periods (quarters
    that received a correction, then the longer periods containing them), and `deliveries` says
    how each publication (the period's first, then the corrections') was sent to the units. A
    longer period collects nothing (`collected` None): it is combined from stored quarters."""

    collected: CollectSummary | None
    published: PublishedFiles
    corrections: tuple[PublishedFiles, ...] = ()
    deliveries: tuple[OutboxSummary, ...] = ()

    @property
    def undelivered(self) -> list[OutboxSummary]:
        return [summary for summary in self.deliveries if summary.failed]


class PublishedNotDelivered(TonghopError):
    """Everything was published, but some reports did not reach their unit; `report` is what
    the run would otherwise have returned."""

    def __init__(self, message: str, report: QuarterlyReport) -> None:
        super().__init__(message)
        self.report = report

    def __reduce__(self) -> tuple[object, ...]:
        # Prefect may pickle a flow's exception; keep the report through it.
        return (type(self), (self.args[0], self.report))


def _deliver(
    context: RunContext, published: PublishedFiles, resend_unconfirmed: bool
) -> OutboxSummary:
    """Send one publication; a failed delivery is kept, not raised, so that the corrections
    after it are still published and sent."""
    try:
        return deliver_step(context, published.version, resend_unconfirmed)
    except MailNotSent as error:
        return error.summary


@flow(name="quarterly_report", log_prints=True)
def quarterly_report(
    period: str | None = None, workspace: str | None = None, resend_unconfirmed: bool = False
) -> QuarterlyReport:
    """Collect the period's new submissions, then consolidate, publish and send it, and any
    earlier period that received a correction; raise PublishedNotDelivered at the end when
    some report was not sent. With `resend_unconfirmed`, reports an interrupted run may have
    sent are sent again. A half-year, year or span (2025H1, 2025, 2021Q2-2023Q2) is combined
    from its stored quarters and collects nothing."""
    # Resolved and locked once, and held across every step, so that no other run slips in
    # between them; each step is handed the context.
    with started_run(workspace, period) as context:
        report = report_period(context, resend_unconfirmed)
    return delivered(report)


@flow(name="longer_report", log_prints=True)
def longer_report(
    length: Literal[2, 4] = 2,
    period: str | None = None,
    workspace: str | None = None,
    resend_unconfirmed: bool = False,
) -> QuarterlyReport:
    """Publish and send the half-year (`length` 2) or the year (4) that just ended, combined
    from its stored quarters under the hierarchy of its last day, or the period given."""
    with started_run(workspace, period, length=length) as context:
        report = report_period(context, resend_unconfirmed)
    return delivered(report)


def report_period(context: RunContext, resend_unconfirmed: bool) -> QuarterlyReport:
    """Collect (a quarter only), consolidate, publish and send the run's period, then the
    earlier quarters that received a correction and the published longer periods containing
    them, in the run of `context` (which holds the run lock)."""
    # Units report quarters: a longer period is combined from the stored ones (SPEC §2).
    collected = collect_step(context) if context.period.is_quarter else None
    published = consolidate_step(context)
    deliveries = [_deliver(context, published, resend_unconfirmed)]
    corrections = []
    changed = [Period.parse(other) for other in collected.other_periods] if collected else []
    for earlier_period in changed:
        earlier = context.for_period(earlier_period)
        corrections.append(consolidate_step(earlier))
        deliveries.append(_deliver(earlier, corrections[-1], resend_unconfirmed))
    # A late correction changes the half-years, years and spans already published that contain
    # its quarter: each is published again (only when a figure moved).
    quarters = [context.period, *changed] if context.period.is_quarter else []
    for longer in with_database_retries(find_longer_periods, context.settings)(
        context.database_url, quarters
    ):
        around = context.for_period(longer)
        corrections.append(consolidate_step(around))
        if corrections[-1].newly_published:
            deliveries.append(_deliver(around, corrections[-1], resend_unconfirmed))
    return QuarterlyReport(collected, published, tuple(corrections), tuple(deliveries))


def delivered(report: QuarterlyReport) -> QuarterlyReport:
    """The report, or PublishedNotDelivered when some letter did not go."""
    if report.undelivered:
        # The publication stands; the run still fails, so that the operator sees why in the UI
        # and a rerun (which sends only what failed) is not forgotten.
        raise PublishedNotDelivered(
            "Đã công bố kết quả tổng hợp và dự thảo báo cáo, nhưng có thư chưa gửi được đến đơn "
            "vị.\n" + "\n".join(not_sent_message(summary) for summary in report.undelivered),
            report,
        )
    return report
