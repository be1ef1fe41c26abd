"""The `collect` flow: archive, read, validate and store every new submission of a period — the
evening run during the collection window, and the first step of `quarterly_report`."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow, get_run_logger, unmapped
from prefect.runtime import flow_run
from prefect.states import State
from prefect.utilities.annotations import quote

from tonghop.collecting import arrival_order, chunked
from tonghop.context import RunContext
from tonghop.formatting import format_count
from tonghop.inbox import SkippedEntry
from tonghop.mailbox import MailboxUnavailable, MailIntake
from tonghop.outbox import OutboxSummary
from tonghop.periods import Period
from tonghop.run_summary import outcome_lines, received_line
from tonghop.validation import validation_process
from tonghop_flows.answer import answer_submissions
from tonghop_flows.automations import announce_rejections
from tonghop_flows.failures import explained
from tonghop_flows.parameters import HOME, JUST_ENDED, PeriodParameter, WorkspaceParameter, run_name
from tonghop_flows.run import (
    reading_plan,
    started_run,
    task_runner_for,
    tell,
    with_database_retries,
)
from tonghop_tasks.collecting import (
    archive_new_files,
    create_collection_artifacts,
    load_history,
    publish_data_docs,
    read_progress,
    read_submissions,
    store_outcomes,
    validate_batch,
)
from tonghop_tasks.mailbox import (
    file_processed_mail,
    mailbox_config,
    place_mailed_forms,
    receive_mail,
)
from tonghop_tasks.registry import load_registry


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
    messages: int = 0  # e-mails taken from the mailbox
    answers: tuple[OutboxSummary, ...] = ()  # the answers to units, by period and kind
    mailbox_problem: str | None = None  # why the mailbox could not be read or tidied


def collect_batch(context: RunContext) -> CollectSummary:
    """Collect the period's new submissions into the database, in the run of `context` (which
    holds the run lock)."""
    settings, period, url = context.settings, context.period, context.database_url
    outcomes = []
    docs = None
    # The registry says which inbox folders are units' (without regard to case).
    units = with_database_retries(load_registry, settings)(url)
    workspace = context.workspace
    received, seen, skipped = with_database_retries(archive_new_files, settings)(
        url,
        workspace.root,
        workspace.inbox,
        workspace.archive,
        settings.timezone,
        quote([unit.code for unit in units]),
    )
    mailbox = mailbox_config(settings)
    intake, mailbox_problem = MailIntake([], []), None
    if mailbox is not None:
        taken = receive_mail(
            url,
            workspace.root,
            workspace.archive,
            str(period),
            mailbox,
            quote(units),
            [settings.mail_from],
            settings.timezone,
            return_state=True,
        )
        # A mailbox that does not answer stops no one: the folder inbox is collected, and the
        # messages wait on the server for the next run.
        try:
            intake = taken.result()
        except MailboxUnavailable as error:
            mailbox_problem = str(error)
            get_run_logger().warning(
                "%s Các thư vẫn nằm trên máy chủ và sẽ được đọc ở lần chạy sau.", error
            )
    mailed = [item for message in intake.messages for item in message.files]
    mail_rows = [message.row for message in intake.messages]
    # A province's batch is validated in a process that ends with the collection
    # (VALIDATE_APART_FROM): what Great Expectations leaves never weighs on the publication.
    with validation_process(len(received) + len(mailed)) as validator:
        forms: list = []
        if received or mailed:
            chunks, workers = reading_plan(settings)
            # The runner the settings choose, for the one stage that spreads over processes.
            with task_runner_for(settings) as runner:
                reads = runner.map(
                    read_submissions,
                    {
                        "workspace": unmapped(workspace.root),
                        "received": chunked(received + mailed, chunks),
                        "workers": unmapped(workers),
                        "validated_here": unmapped(validator is None),
                    },
                )
                forms = [form for chunk in reads.result() for form in chunk]
        if mailed:
            placed, placed_forms, mail_rows = place_mailed_forms(
                url,
                quote(intake),
                quote(forms[len(received) :]),
                quote(units),
                period.last_day,
                quote(received),
            )
            # One batch in arrival order, whichever way each file came.
            merged = sorted(
                zip(received + placed, forms[: len(received)] + placed_forms, strict=True),
                key=lambda pair: arrival_order(pair[0]),
            )
            received, forms = [item for item, _ in merged], [form for _, form in merged]
        if received:
            # quote(): Prefect would otherwise walk every row of these batches looking for
            # futures — seconds per thousand forms.
            history = with_database_retries(load_history, settings)(
                url, period, quote(forms), quote(units)
            )
            outcomes, validations = validate_batch(
                period,
                quote(units),
                quote(received),
                quote(forms),
                quote(history),
                settings.timezone,
                quote(validator),
            )
        if seen or mail_rows:
            with_database_retries(store_outcomes, settings)(
                url, quote(outcomes), quote(seen), settings.insert_batch_rows, quote(mail_rows)
            )
        if mailbox is not None and intake.uids:
            # Only now, with what they carried stored: a crash before this leaves them in the
            # folder, and the next run knows them by checksum.
            moved = file_processed_mail(mailbox, intake.uids, return_state=True)
            try:
                moved.result()
            except MailboxUnavailable as error:
                mailbox_problem = str(error)
                get_run_logger().warning(
                    "Chưa chuyển được thư đã xử lý sang «%s»: %s Lần chạy sau sẽ nhận ra các thư "
                    "này và chuyển chúng, không ghi nhận hai lần.",
                    mailbox.done_folder,
                    error,
                )
        if received:
            # After storing: the submissions count whether or not their pages can be written.
            docs = publish_data_docs(
                workspace.root,
                period,
                quote(validations),
                settings.timezone,
                settings.web_public_url,
                quote(validator),
                return_state=True,
            )
    decided = [outcome.submission["outcome"] for outcome in outcomes]
    other = {str(outcome.submission["period"]) for outcome in outcomes} - {str(period)}
    # Every run, not only one that received something: an answer a failed server kept back
    # goes as soon as it can, and none goes twice (the outbox's record).
    answers = answer_submissions(context, [str(period), *sorted(other)], units=units)
    summary = CollectSummary(
        period=str(period),
        received=len(outcomes),
        accepted=decided.count("accepted"),
        warned=decided.count("accepted_with_warnings"),
        rejected=decided.count("rejected"),
        other_periods=tuple(sorted(other)),
        skipped=tuple(skipped),
        data_docs=_docs_index(docs),
        messages=len(intake.messages),
        mailbox_problem=mailbox_problem,
        answers=answers,
    )
    tell(summary_lines(summary))
    if announce_rejections(context, flow_run.name, summary.received, summary.rejected):
        get_run_logger().warning(
            "%s trong %s tệp nhận được bị trả lại, nhiều hơn thường lệ: thư báo đi đến cán bộ "
            "vận hành (khi đã thiết lập bằng `tonghop automations`).",
            format_count(summary.rejected),
            format_count(summary.received),
        )
    # Every collection leaves the period's progress so far and what it received, even an
    # evening with nothing new: the operator sees that it ran and where things stand.
    progress = with_database_retries(read_progress, settings)(url, period, settings.deadline_days)
    create_collection_artifacts(
        period,
        quote(progress),
        quote(outcomes),
        quote({unit.code: unit.name for unit in units}),
        settings.timezone,
    )
    return summary


def summary_lines(summary: CollectSummary) -> list[str]:
    """The collection's story, one line per stage: received, accepted, warned, rejected."""
    period = Period.parse(summary.period)
    received = received_line(period, summary.received, summary.messages)
    if not summary.received:
        return [received]
    return [received, *outcome_lines(summary.accepted, summary.warned, summary.rejected)]


@flow(name="collect", flow_run_name=run_name("thu thập"), log_prints=True)
@explained
def collect(
    period: PeriodParameter = JUST_ENDED, workspace: WorkspaceParameter = HOME
) -> CollectSummary:
    """Collect the period's new submissions from the inbox into the database."""
    with started_run(workspace, period) as context:
        return collect_batch(context)


# The same collection as a step of a larger run, which hands over its context.
collect_step = flow(
    name="collect", flow_run_name=run_name("thu thập"), log_prints=True, validate_parameters=False
)(explained(collect_batch))


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
