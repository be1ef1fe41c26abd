"""Prefect tasks that collect a run's new submissions: archive, read, validate, store — each
over the whole batch at once."""

from __future__ import annotations

import shutil
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tonghop.collecting import (
    InboxFile,
    Outcome,
    ReceivedFile,
    archive_entry,
    archive_room_needed,
    first_sightings,
    outcome_of,
    read_received,
    target_period,
)
from tonghop.comparisons import Comparisons, load_comparisons
from tonghop.context import local_now
from tonghop.data_docs import DataDocs, build_sealed_data_docs, run_name_of
from tonghop.errors import DiskFull, is_disk_full
from tonghop.formatting import format_count, format_datetime
from tonghop.inbox import SkippedEntry, changed_entries, folder_units, scan_inbox
from tonghop.layout import ARCHIVE_PARTIALS, Workspace, make_durable
from tonghop.periods import Period
from tonghop.portal.addresses import OutputAddresses
from tonghop.reading import FormRead
from tonghop.registry import Unit, active_units, codes_with_active_children
from tonghop.registry_store import load_units, registry_version_on, units_frame
from tonghop.run_summary import progress_table, received_markdown
from tonghop.storage import transaction
from tonghop.submission_store import (
    collected_periods,
    known_files,
    period_status,
    remembered_inbox,
    store_batch,
)
from tonghop.validation import (
    SealedValidation,
    SubmissionInput,
    ValidationContext,
    sealed_validation,
    warm_up,
)
from tonghop_tasks.names import unmarked

# Archive copies in flight at once: their time is spent in the kernel, not in Python.
ARCHIVE_THREADS = 8
# Up to this many units in a batch, O2 reads only their parents' other units (a late form, a
# correction); a larger batch reads the whole period at once.
SMALL_BATCH_UNITS = 1_000


@task(
    name="archive-new-files",
    task_run_name=unmarked("Lưu trữ tệp mới trong hộp thư đến"),
    cache_policy=NO_CACHE,
)
def archive_new_files(
    database_url: str,
    workspace: Path,
    inbox: Path,
    archive: Path,
    timezone: str,
    unit_codes: list[str],
) -> tuple[list[ReceivedFile], list[InboxFile], list[SkippedEntry]]:
    """Copy every inbox file not seen before into the archive (refusing, unopened, anything
    that is not a plain file of its unit's folder); return what was received in the order it
    arrived, how each changed entry looked (to remember with the submissions), and what in the
    inbox belongs to no unit."""
    logger = get_run_logger()
    zone = ZoneInfo(timezone)
    # The moment the collector sees this batch: no receipt time is later (SPEC §5).
    seen_at = local_now(timezone)
    with transaction(database_url) as connection:
        known = known_files(connection)
        remembered = remembered_inbox(connection)
    # Copies a killed run left half-written are never recorded; they go before anything else.
    for partial in archive.glob(ARCHIVE_PARTIALS):
        partial.unlink(missing_ok=True)
    entries, skipped = scan_inbox(inbox, folder_units(unit_codes))
    for entry in skipped:
        logger.warning("Bỏ qua «%s» trong hộp thư đến: %s.", entry.name, entry.reason)
    # Files unchanged since a run read them are not even opened.
    changed = changed_entries(entries, remembered)
    _check_room(archive, archive_room_needed(changed))
    # Hashing and copying spend their time outside the interpreter: threads overlap them.
    try:
        with ThreadPoolExecutor(max_workers=ARCHIVE_THREADS) as pool:
            received = list(
                pool.map(
                    lambda entry: archive_entry(
                        entry, inbox, workspace, archive, seen_at, zone, known
                    ),
                    changed,
                )
            )
        # Every copy reaches the disk before anything records it, as one sync for a large
        # batch (an fsync per copy is a journal commit each: seconds over 20,000 files). A
        # copy a crash left incomplete under its name is never recorded, and the next run
        # copies it again.
        make_durable(
            [workspace / item.archive_path for item in received if item.archive_path],
            with_names=True,
        )
    except OSError as error:
        if is_disk_full(error):
            raise _archive_full(archive, archive_room_needed(changed)) from error
        raise
    seen = [
        InboxFile(entry.folder, entry.key, entry.size_bytes, entry.mtime_ns, item.sha256)
        for entry, item in zip(changed, received, strict=True)
    ]
    # Bytes already recorded (a copy under another name, a file touched) are no new version.
    fresh = [
        item for item in first_sightings(received) if (item.unit_code, item.sha256) not in known
    ]
    logger.info(
        "Đã lưu trữ %s tệp mới (hộp thư đến có %s tệp; %s tệp mới hoặc đã thay đổi được đọc).",
        format_count(len(fresh)),
        format_count(len(entries)),
        format_count(len(changed)),
    )
    return fresh, seen, skipped


def _check_room(archive: Path, needed: int) -> None:
    """Refuse before copying anything when the archive's disk cannot take the batch."""
    archive.mkdir(parents=True, exist_ok=True)
    if needed and shutil.disk_usage(archive).free < needed:
        raise _archive_full(archive, needed)


def _archive_full(archive: Path, needed: int) -> DiskFull:
    return DiskFull(
        archive,
        "lưu bản sao các tệp báo cáo mới nhận",
        "Chưa có tệp nào được ghi nhận trong lần chạy này; các tệp vẫn nằm nguyên trong hộp "
        "thư đến và sẽ được đọc ở lần chạy sau.",
        needed,
    )


@task(name="read-submissions", task_run_name=unmarked("Đọc tệp báo cáo"), cache_policy=NO_CACHE)
def read_submissions(
    workspace: Path, received: list[ReceivedFile], workers: int, validated_here: bool = True
) -> list[FormRead]:
    """Read the archive copies of received files with `workers` > 1 in a local process pool,
    meanwhile importing Great Expectations for the validation that follows when it is to be
    `validated_here`, in this process."""
    forms = read_received(
        workspace,
        received,
        workers,
        # Great Expectations' import takes seconds: it happens while the processes read.
        while_reading=warm_up if workers != 1 and validated_here else None,
    )
    get_run_logger().info("Đã đọc %s tệp.", format_count(len(forms)))
    return forms


@task(
    name="load-history",
    task_run_name=unmarked("Đọc số liệu kỳ trước để so sánh"),
    cache_policy=NO_CACHE,
)
def load_history(
    database_url: str, period: Period, forms: list[FormRead], units: list[Unit]
) -> dict[str, Comparisons]:
    """For each period the batch's files belong to, what the audit rules compare them with;
    `units` is the latest registry, read again only for a period another was in force for."""
    with transaction(database_url) as connection:
        known = collected_periods(connection)
        targets = {target_period(form, period, known) for form in forms}
        # Each period against the registry in force on its last day (SPEC §1).
        comparisons = {}
        # O2 compares a unit with its siblings: a small batch reads its units' parents' only.
        declared = {form.unit_code for form in forms if form.unit_code}
        batch_units = declared if len(declared) <= SMALL_BATCH_UNITS else None
        latest = registry_version_on(connection)
        for target in sorted(targets):
            collected = Period.parse(target)
            period_units = (
                units
                if registry_version_on(connection, collected.last_day) == latest
                else load_units(connection, collected.last_day)
            )
            comparisons[target] = load_comparisons(connection, collected, period_units, batch_units)
        return comparisons


@task(
    name="validate-submissions",
    task_run_name=unmarked("Kiểm tra báo cáo theo quy tắc"),
    cache_policy=NO_CACHE,
)
def validate_batch(
    period: Period,
    units: list[Unit],
    received: list[ReceivedFile],
    forms: list[FormRead],
    history: dict[str, Comparisons],
    timezone: str,
    validator: Executor | None = None,
) -> tuple[list[Outcome], list[SealedValidation]]:
    """Run every rule over the batch — one validation per period the files belong to, in the
    `validator` process when there is one — and decide each submission; the validations are
    kept for Data Docs."""
    targets = [target_period(form, period, set(history)) for form in forms]
    found: dict[str, list] = {}
    validations = []
    for target in sorted(set(targets)):
        collected = Period.parse(target)
        # The registry in force on the period's last day, which its comparisons were read with.
        period_units = list(history[target].units.values()) or units
        context = ValidationContext(
            period=target,
            active_unit_codes=frozenset(
                unit.code for unit in active_units(period_units, collected.last_day)
            ),
            units_with_children=frozenset(
                codes_with_active_children(period_units, collected.last_day)
            ),
            comparisons=history[target],
        )
        readable = [
            SubmissionInput(item.submission_id, item.unit_code, form)
            for item, form, chosen in zip(received, forms, targets, strict=True)
            if chosen == target and not form.problems
        ]
        validation = sealed_validation(readable, context, validator)
        found |= validation.problems
        validations.append(validation)
    processed_at = local_now(timezone)
    # `received` is in arrival order; the store task shifts these past the stored versions.
    outcomes = [
        outcome_of(
            item, form, form.problems or found[item.submission_id], target, processed_at, arrival
        )
        for arrival, (item, form, target) in enumerate(
            zip(received, forms, targets, strict=True), start=1
        )
    ]
    logger = get_run_logger()
    rejected = sum(outcome.submission["outcome"] == "rejected" for outcome in outcomes)
    logger.info(
        "Đã kiểm tra %s báo cáo: %s bị trả lại.",
        format_count(len(outcomes)),
        format_count(rejected),
    )
    for other in sorted(set(targets) - {str(period)}):
        logger.info("%s báo cáo gửi bổ sung cho kỳ %s.", format_count(targets.count(other)), other)
    return outcomes, validations


@task(
    name="build-data-docs",
    task_run_name=unmarked("Tạo trang kết quả kiểm tra (Data Docs)"),
    retries=2,
    retry_delay_seconds=2,
    cache_policy=NO_CACHE,
)
def publish_data_docs(
    workspace: Path,
    period: Period,
    validations: list[SealedValidation],
    timezone: str,
    public_url: str | None = None,
    validator: Executor | None = None,
) -> DataDocs | None:
    """Store the run's validation results in the workspace's Great Expectations project, build
    their Data Docs pages (in the `validator` process when there is one) and link them from the
    run."""
    run_time = datetime.now(ZoneInfo(timezone))
    # The period and the time, as the collection's flow run is named in the UI; the pages show
    # it as "2025Q3 · thu thập 06/12/2026 18:00" (tonghop/data_docs_view.py).
    run_name = run_name_of(period, run_time)
    docs = build_sealed_data_docs(validations, workspace, run_name, run_time, validator)
    if docs is None:
        return None
    create_markdown_artifact(
        key=f"kiem-tra-{str(period).lower()}",
        markdown=data_docs_markdown(docs, OutputAddresses(Workspace(workspace), public_url)),
        description=f"Kết quả kiểm tra của lần chạy {run_name} (Great Expectations Data Docs)",
    )
    get_run_logger().info("Kết quả kiểm tra (Data Docs): %s", docs.index)
    return docs


def data_docs_markdown(docs: DataDocs, addresses: OutputAddresses) -> str:
    """The run's pages with what each checked, and the site's index (through the portal when
    there is one, else as paths)."""
    lines = [
        "# Kết quả kiểm tra dữ liệu (Great Expectations Data Docs)",
        "",
        "| Kỳ | Bộ quy tắc | Số dòng đã kiểm tra | Quy tắc không đạt / đã kiểm tra | Trang |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for page in docs.pages:
        lines.append(
            f"| {page.period} | {page.title_vi} | {format_count(page.rows)} | "
            f"{page.failed}/{page.evaluated} | {addresses.markdown('Xem', page.path)} |"
        )
    lines += [
        "",
        f"Mọi lần chạy và các bộ quy tắc: {addresses.markdown('trang chủ Data Docs', docs.index)}.",
    ]
    return "\n".join(lines)


@task(
    name="store-submissions",
    task_run_name=unmarked("Lưu báo cáo vào cơ sở dữ liệu"),
    cache_policy=NO_CACHE,
)
def store_outcomes(
    database_url: str,
    outcomes: list[Outcome],
    seen: list[InboxFile],
    batch_rows: int,
    messages: list[dict[str, object]] | None = None,
) -> int:
    """Store the batch's submissions with the inbox entries and e-mails they came from, in one
    transaction."""
    with transaction(database_url) as connection:
        return store_batch(connection, outcomes, seen, batch_rows, messages or ())


@task(name="read-progress", task_run_name=unmarked("Đọc tiến độ báo cáo"), cache_policy=NO_CACHE)
def read_progress(database_url: str, period: Period, deadline_days: int) -> list[dict[str, str]]:
    """The period's reporting progress so far, per upper-level unit with the totals first."""
    with transaction(database_url) as connection:
        status = period_status(connection, period, deadline_days)
        units = units_frame(connection, period.last_day)
    return progress_table(status, units)


@task(
    name="create-collection-artifacts",
    task_run_name=unmarked("Tạo bảng tiến độ và danh sách tệp đã nhận"),
    cache_policy=NO_CACHE,
)
def create_collection_artifacts(
    period: Period,
    progress: list[dict[str, str]],
    outcomes: list[Outcome],
    names: dict[str, str],
    timezone: str,
) -> None:
    """What this collection leaves in the UI, every time, even with nothing received: the
    period's progress so far, and the files it received with how each was decided."""
    key = str(period).lower()
    at = format_datetime(local_now(timezone))
    create_table_artifact(
        key=f"tien-do-thu-thap-{key}",
        table=progress,
        description=(
            f"Tiến độ nộp báo cáo {period.label_vi} đến {at}, theo đơn vị cấp trên trực tiếp: "
            "tổng cộng, rồi các đơn vị còn đơn vị trực thuộc chưa nộp hoặc bị trả lại"
        ),
    )
    create_markdown_artifact(
        key=f"tep-da-nhan-{key}",
        markdown=received_markdown(outcomes, names, f"Tệp báo cáo nhận lúc {at}"),
        description=f"Các tệp lần thu thập này nhận được ({period.label_vi}) và kết quả kiểm tra",
    )
