"""The `quarterly_report` flow: collect, then consolidate, publish and send the reports — the
scheduled run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from prefect import flow
from pydantic import Field

from tonghop.context import RunContext
from tonghop.errors import TonghopError
from tonghop.outbox import MailNotSent, OutboxSummary, not_sent_message
from tonghop.periods import Period
from tonghop.portal.addresses import OutputAddresses
from tonghop.publishing import PublishedFiles
from tonghop.run_summary import delivery_line, nothing_new_line, publication_line
from tonghop_flows.collect import CollectSummary, collect_step, summary_lines
from tonghop_flows.consolidate import consolidate_step
from tonghop_flows.deliver import deliver_step
from tonghop_flows.failures import explained
from tonghop_flows.parameters import (
    HOME,
    JUST_ENDED,
    PeriodParameter,
    ResendParameter,
    WorkspaceParameter,
    run_name,
)
from tonghop_flows.run import started_run, tell, with_database_retries
from tonghop_tasks.artifacts import create_run_summary
from tonghop_tasks.consolidating import find_longer_periods


@dataclass(frozen=True)
class QuarterlyReport:
    """The outcome of one scheduled run; `corrections` republished earlier periods (quarters
    that received a correction, then the published longer periods containing them), and
    `deliveries` says how each publication (the period's first, then the corrections') was
    sent to the units. A longer period collects nothing (`collected` None): it is combined
    from the stored quarters."""

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

    action = (
        "Sửa địa chỉ thư của đơn vị hoặc cấu hình máy chủ thư theo lý do dưới đây, rồi bấm "
        "Retry trên trang lần chạy này: kết quả đã công bố giữ nguyên, chỉ những thư chưa gửi "
        "được sẽ được gửi"
    )

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


class Story:
    """The outermost run's story, told as it happens: each line goes to the run's log at once
    and, with its links, to the summary the run leaves as its first artifact."""

    def __init__(self, context: RunContext) -> None:
        self.addresses = OutputAddresses(context.workspace, context.settings.web_public_url)
        self.shown: list[str] = []

    def tell(self, *lines: str) -> None:
        tell(list(lines))
        self.shown += lines

    def tell_publication(
        self, context: RunContext, published: PublishedFiles, *, nothing_new: bool
    ) -> None:
        """The version published, or the version that stands; the log names the workbook's
        address (or path), the summary links it."""
        workbook = published.workbook

        def line(where: str) -> str:
            if nothing_new:
                return nothing_new_line(
                    context.period, published.version, published.published_at, where
                )
            return publication_line(
                context.period,
                published.version,
                published.newly_published,
                published.published_at,
                where,
            )

        logged = line(self.addresses.url(workbook) or str(workbook))
        tell([logged])
        self.shown.append(line(self.addresses.markdown(workbook.name, workbook)))


@flow(name="quarterly_report", flow_run_name=run_name("tổng hợp"), log_prints=True)
@explained
def quarterly_report(
    period: PeriodParameter = JUST_ENDED,
    workspace: WorkspaceParameter = HOME,
    resend_unconfirmed: ResendParameter = False,
) -> QuarterlyReport:
    """Collect the period's new submissions, then consolidate, publish and send it, and any
    earlier period that received a correction; raise PublishedNotDelivered at the end when
    some report was not sent. With `resend_unconfirmed`, reports an interrupted run may have
    sent are sent again. A half-year, year or span (2025H1, 2025, 2021Q2-2023Q2) is combined
    from its stored quarters and collects nothing. The run's log and its artifacts tell what
    each stage did."""
    # Resolved and locked once, and held across every step, so that no other run slips in
    # between them; each step is handed the context.
    with started_run(workspace, period) as context:
        report = report_period(context, resend_unconfirmed)
    return delivered(report)


LengthParameter = Annotated[
    Literal[2, 4],
    Field(
        json_schema_extra={
            "title": "Loại kỳ",
            "description": "2: sáu tháng vừa kết thúc; 4: năm vừa kết thúc (khi không ghi kỳ).",
        }
    ),
]


@flow(name="longer_report", flow_run_name=run_name("tổng hợp kỳ dài"), log_prints=True)
@explained
def longer_report(
    length: LengthParameter = 2,
    period: PeriodParameter = "",
    workspace: WorkspaceParameter = HOME,
    resend_unconfirmed: ResendParameter = False,
) -> QuarterlyReport:
    """Publish and send the half-year (`length` 2) or the year (4) that just ended, or the
    period given, combined from its stored quarters under the hierarchy of its last day."""
    with started_run(workspace, period or None, length=length) as context:
        report = report_period(context, resend_unconfirmed)
    return delivered(report)


def report_period(context: RunContext, resend_unconfirmed: bool) -> QuarterlyReport:
    """Collect (a quarter only), consolidate, publish and send the run's period, then the
    earlier quarters that received a correction and the published longer periods containing
    them, in the run of `context` (which holds the run lock), telling each stage."""
    story = Story(context)
    # Units report quarters: a longer period is combined from the stored ones (SPEC §2).
    collected = collect_step(context) if context.period.is_quarter else None
    if collected is not None and (collected.received or collected.messages):
        story.tell(*summary_lines(collected))
    published = consolidate_step(context)
    received = bool(collected and collected.received)
    nothing_new = not (received or published.newly_published)
    story.tell_publication(context, published, nothing_new=nothing_new)
    deliveries = [_deliver(context, published, resend_unconfirmed)]
    if not nothing_new or _did_something(deliveries[0]):
        story.tell(delivery_line(len(published.reports), deliveries[0]))
    corrections = []
    changed = [Period.parse(other) for other in collected.other_periods] if collected else []
    for earlier_period in changed:
        earlier = context.for_period(earlier_period)
        corrections.append(consolidate_step(earlier))
        story.tell_publication(earlier, corrections[-1], nothing_new=False)
        deliveries.append(_deliver(earlier, corrections[-1], resend_unconfirmed))
        story.tell(delivery_line(len(corrections[-1].reports), deliveries[-1]))
    # A late correction changes the half-years, years and spans already published that contain
    # its quarter: each is published again (only when a figure moved).
    quarters = [context.period, *changed] if context.period.is_quarter else []
    for longer in with_database_retries(find_longer_periods, context.settings)(
        context.database_url, quarters
    ):
        around = context.for_period(longer)
        corrections.append(consolidate_step(around))
        if corrections[-1].newly_published:
            story.tell_publication(around, corrections[-1], nothing_new=False)
            deliveries.append(_deliver(around, corrections[-1], resend_unconfirmed))
            story.tell(delivery_line(len(corrections[-1].reports), deliveries[-1]))
    create_run_summary(
        f"tom-tat-{str(context.period).lower()}",
        f"Tổng hợp {context.period.label_vi} — tóm tắt lần chạy",
        story.shown,
    )
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


def _did_something(delivery: OutboxSummary) -> bool:
    """Whether a delivery tried to send anything this run, or found letters an interrupted run
    left unconfirmed: a nothing-new run may send what an earlier run could not."""
    return bool(delivery.outcomes or delivery.unconfirmed)
