"""The `quarterly_report` flow: collect, then consolidate, publish and send the reports — the
scheduled run."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

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
from tonghop_flows.run import started_run, tell
from tonghop_tasks.artifacts import create_run_summary


@dataclass(frozen=True)
class QuarterlyReport:
    """The outcome of one scheduled run; `corrections` republished earlier periods, and
    `deliveries` says how each publication (the period's first, then the corrections') was
    sent to the units."""

    collected: CollectSummary
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
    sent are sent again. The run's log and its artifacts tell what each stage did."""
    # Resolved and locked once, and held across every step, so that no other run slips in
    # between them; each step is handed the context.
    with started_run(workspace, period) as context:
        story = Story(context)
        collected = collect_step(context)
        if collected.received or collected.messages:
            story.tell(*summary_lines(collected))
        published = consolidate_step(context)
        nothing_new = not (collected.received or published.newly_published)
        story.tell_publication(context, published, nothing_new=nothing_new)
        deliveries = [_deliver(context, published, resend_unconfirmed)]
        if not nothing_new or _did_something(deliveries[0]):
            story.tell(delivery_line(len(published.reports), deliveries[0]))
        corrections = []
        for other in collected.other_periods:
            earlier = context.for_period(Period.parse(other))
            corrections.append(consolidate_step(earlier))
            story.tell_publication(earlier, corrections[-1], nothing_new=False)
            deliveries.append(_deliver(earlier, corrections[-1], resend_unconfirmed))
            story.tell(delivery_line(len(corrections[-1].reports), deliveries[-1]))
        create_run_summary(
            f"tom-tat-{str(context.period).lower()}",
            f"Tổng hợp {context.period.label_vi} — tóm tắt lần chạy",
            story.shown,
        )
    report = QuarterlyReport(collected, published, tuple(corrections), tuple(deliveries))
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
