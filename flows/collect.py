"""The `collect` flow: archive, read, validate and store every new submission of a period."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow, get_run_logger
from prefect.states import State
from prefect.utilities.annotations import quote

from flows.guards import exclusive_run
from flows.parameters import reading_plan, resolve, task_runner_for
from tasks.collecting import (
    archive_new_files,
    load_history,
    publish_data_docs,
    read_submissions,
    store_outcomes,
    validate_batch,
)
from tasks.registry import load_registry
from tonghop.collecting import chunked
from tonghop.config import Settings
from tonghop.inbox import SkippedEntry


@dataclass(frozen=True)
class CollectSummary:
    """What one collection did; `other_periods` received corrections for earlier periods."""

    period: str
    received: int
    accepted: int
    warned: int
    rejected: int
    other_periods: tuple[str, ...] = ()
    skipped: tuple[SkippedEntry, ...] = ()  # what in the inbox belongs to no unit, and why
    data_docs: str | None = None  # the Data Docs index, when the run validated anything


# The runner is chosen when the flow is defined: a deployment's worker and the command line
# both define it from the same settings.
@flow(name="collect", log_prints=True, task_runner=task_runner_for(Settings()))
def collect(period: str | None = None, workspace: str | None = None) -> CollectSummary:
    """Collect the period's new submissions from the inbox into the database."""
    settings, chosen = resolve(workspace, period)
    url = settings.resolved_database_url
    outcomes = []
    docs = None
    with exclusive_run(settings):
        # The registry says which inbox folders are units' (without regard to case).
        units = load_registry(url)
        received, seen, skipped = archive_new_files(
            url,
            settings.home,
            settings.inbox,
            settings.archive,
            settings.timezone,
            quote([unit.code for unit in units]),
        )
        if received:
            chunks, workers = reading_plan(settings)
            reads = read_submissions.map(settings.home, chunked(received, chunks), workers)
            forms = [form for chunk in reads.result() for form in chunk]
            # quote(): Prefect would otherwise walk every row of these batches looking for
            # futures — seconds per thousand forms.
            history = load_history(url, chosen, quote(forms), quote(units))
            outcomes, validations = validate_batch(
                chosen,
                quote(units),
                quote(received),
                quote(forms),
                quote(history),
                settings.timezone,
            )
        if seen:
            store_outcomes(url, quote(outcomes), quote(seen), settings.insert_batch_rows)
        if received:
            # After storing: the submissions count whether or not their pages can be written.
            docs = publish_data_docs(
                settings.home, chosen, quote(validations), settings.timezone, return_state=True
            )
    decided = [outcome.submission["outcome"] for outcome in outcomes]
    other = {str(outcome.submission["period"]) for outcome in outcomes} - {str(chosen)}
    return CollectSummary(
        period=str(chosen),
        received=len(outcomes),
        accepted=decided.count("accepted"),
        warned=decided.count("accepted_with_warnings"),
        rejected=decided.count("rejected"),
        other_periods=tuple(sorted(other)),
        skipped=tuple(skipped),
        data_docs=_docs_index(docs),
    )


def _docs_index(state: State | None) -> str | None:
    """The Data Docs index, or None when none was built (nothing validated, or building failed:
    the pages are for reading, and the run's figures do not depend on them)."""
    if state is None:
        return None
    if not state.is_completed():
        get_run_logger().warning(
            "Không tạo được trang kết quả kiểm tra (Data Docs): %s. Số liệu của lần chạy vẫn "
            "được lưu đầy đủ.",
            state.message,
        )
        return None
    docs = state.result()
    return str(docs.index) if docs else None
