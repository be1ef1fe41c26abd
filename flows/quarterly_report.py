"""The `quarterly_report` flow: collect, then consolidate, publish and send the reports — the
scheduled run."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from flows.collect import CollectSummary, collect
from flows.consolidate import consolidate
from flows.deliver import deliver_reports
from flows.guards import exclusive_run
from flows.parameters import resolve
from tonghop.delivery import DeliverySummary, ReportsNotDelivered, not_delivered_message
from tonghop.errors import TonghopError
from tonghop.periods import Period
from tonghop.publishing import PublishedFiles


@dataclass(frozen=True)
class QuarterlyReport:
    """The outcome of one scheduled run; `corrections` republished earlier periods, and
    `deliveries` says how each publication (the period's first, then the corrections') was
    sent to the units."""

    collected: CollectSummary
    published: PublishedFiles
    corrections: tuple[PublishedFiles, ...] = ()
    deliveries: tuple[DeliverySummary, ...] = ()

    @property
    def undelivered(self) -> list[DeliverySummary]:
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


def _deliver(period: str, home: str, published: PublishedFiles) -> DeliverySummary:
    """Send one publication; a failed delivery is kept, not raised, so that the corrections
    after it are still published and sent."""
    try:
        return deliver_reports(period, home, published.version)
    except ReportsNotDelivered as error:
        return error.summary


@flow(name="quarterly_report", log_prints=True)
def quarterly_report(period: str | None = None, workspace: str | None = None) -> QuarterlyReport:
    """Collect the period's new submissions, then consolidate, publish and send it, and any
    earlier period that received a correction; raise PublishedNotDelivered at the end when
    some report was not sent."""
    settings, chosen = resolve(workspace, period)
    home = str(settings.home)
    # Held across every step, so that no other run slips in between them.
    with exclusive_run(settings):
        collected = collect(str(chosen), home)
        published = consolidate(str(chosen), home)
        deliveries = [_deliver(str(chosen), home, published)]
        corrections = []
        for other in collected.other_periods:
            corrections.append(consolidate(other, home))
            deliveries.append(_deliver(other, home, corrections[-1]))
    report = QuarterlyReport(collected, published, tuple(corrections), tuple(deliveries))
    if report.undelivered:
        # The publication stands; the run still fails, so that the operator sees why in the UI
        # and a rerun (which sends only what failed) is not forgotten.
        raise PublishedNotDelivered(
            "Đã công bố kết quả tổng hợp và dự thảo báo cáo, nhưng có thư chưa gửi được đến đơn "
            "vị.\n" + "\n".join(_failures(summary) for summary in report.undelivered),
            report,
        )
    return report


def _failures(summary: DeliverySummary) -> str:
    return not_delivered_message(Period.parse(summary.period), summary.version, summary.failed)
