"""Collecting submissions (SPEC §5): finding new files in the inbox, archiving them byte for byte
before anything else, reading them in parallel, and turning a validated batch into the rows the
database stores."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from tonghop.catalogue import by_code
from tonghop.inbox import FILE, REFUSALS_VI, InboxEntry, RefusedEntry, open_entry
from tonghop.layout import archive_copy, archive_partial
from tonghop.parallel import process_pool, worker_count
from tonghop.periods import Period, PeriodError
from tonghop.problems import ERROR, WARNING, Problem
from tonghop.reading import FormRead, failed_read, read_form
from tonghop.text import raw_name, without_controls
from tonghop.validation import WHOLE_NUMBER

_WHOLE = re.compile(WHOLE_NUMBER)
T = TypeVar("T")
# Room kept free beyond what the archive copies need: the database and the published files of
# the run are still to be written, often on the same disk.
ARCHIVE_HEADROOM_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedFile:
    """A file seen for the first time: copied into the archive, or refused unopened (`refusal`
    says why, to the unit; nothing of it was read or kept)."""

    submission_id: str
    unit_code: str
    file_name: str  # as people read it
    raw_file_name: str | None  # its bytes in hex when `file_name` cannot give them back
    sha256: str
    size_bytes: int
    received_at: datetime
    archive_path: str  # relative to the workspace; "" when refused unopened
    refusal: str | None = None
    sender: str | None = None  # the address it came from by e-mail; None from the folder inbox


@dataclass(frozen=True)
class InboxFile:
    """How an inbox entry looked when it was read: unchanged name, size and modification time
    mean unchanged content, so it is not read again. `folder` and `file_name` (a lossless key,
    see `tonghop.text.name_key`) say where it is."""

    folder: str
    file_name: str
    size_bytes: int
    mtime_ns: int
    sha256: str


def receipt_time(mtime_ns: int, seen_at: datetime, timezone: ZoneInfo) -> datetime:
    """When a file was received (SPEC §5): its modification time in the operators' time zone,
    but never later than when the collector first saw it — a clock a unit controls cannot date
    a file in the future."""
    modified = datetime.fromtimestamp(mtime_ns / 1e9, timezone).replace(tzinfo=None)
    return min(modified, seen_at)


def archive_entry(
    entry: InboxEntry,
    inbox: Path,
    workspace: Path,
    archive: Path,
    seen_at: datetime,
    timezone: ZoneInfo,
    known: Container[tuple[str, str]] = frozenset(),
) -> ReceivedFile:
    """Copy one inbox file into the archive under its checksum, or record why it was refused
    unopened; bytes the unit sent before (`known` (unit, checksum) pairs) are archived already
    and their copy is dropped — read once either way. The copy is not synced to the disk here:
    the caller makes a whole batch durable at once (`layout.make_durable`) before anything
    records it."""
    received_at = receipt_time(entry.mtime_ns, seen_at, timezone)
    if entry.kind != FILE:
        return refused_entry(entry, entry.kind, received_at)
    try:
        with open_entry(inbox, entry) as handle:
            checksum, size, target = _copy_to_archive(
                handle, entry, archive, entry.unit_code, known
            )
    except RefusedEntry as refused:
        return refused_entry(entry, refused.kind, received_at)
    return _received(entry, received_at, checksum, size, target.relative_to(workspace).as_posix())


def _copy_to_archive(
    handle: int, entry: InboxEntry, archive: Path, unit_code: str, known: Container
) -> tuple[str, int, Path]:
    """Stream the open file into its archive copy (`layout.archive_copy`), hashing on the way, so
    that a huge file never sits in memory; the copy takes its name once written whole."""
    partial = archive_partial(archive)
    partial.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "rb", closefd=False) as source, partial.open("wb") as copy:
            while block := source.read(1 << 20):
                digest.update(block)
                copy.write(block)
                size += len(block)
            checksum = digest.hexdigest()
            is_known = (unit_code, checksum) in known
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    target = archive_copy(archive, unit_code, checksum, entry.shown)
    if is_known:
        partial.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, target)
    return checksum, size, target


def refused_entry(entry: InboxEntry, kind: str, received_at: datetime) -> ReceivedFile:
    """The record of an entry refused unopened: recorded once per unit, kind and name."""
    fingerprint = hashlib.sha256(f"refused|{kind}|".encode() + entry.name).hexdigest()
    refusal = REFUSALS_VI[kind].format(name=entry.shown)
    return _received(entry, received_at, fingerprint, 0, "", refusal)


def _received(
    entry: InboxEntry,
    received_at: datetime,
    sha256: str,
    size_bytes: int,
    archive_path: str,
    refusal: str | None = None,
) -> ReceivedFile:
    return ReceivedFile(
        submission_id=uuid.uuid4().hex,
        unit_code=entry.unit_code,
        file_name=entry.shown,
        raw_file_name=raw_name(entry.name),
        sha256=sha256,
        size_bytes=size_bytes,
        received_at=received_at,
        archive_path=archive_path,
        refusal=refusal,
    )


def archive_room_needed(entries: Iterable[InboxEntry]) -> int:
    """Bytes the archive copies of these entries may take, with the headroom kept free; 0 when
    there is nothing to copy."""
    copied = sum(entry.size_bytes for entry in entries if entry.kind == FILE)
    return copied + ARCHIVE_HEADROOM_BYTES if copied else 0


def first_sightings(received: Iterable[ReceivedFile]) -> list[ReceivedFile]:
    """One record per (unit, checksum) — the same bytes sent twice are recorded once — in the
    order versions arrive within one collection: receipt time, then file name (SPEC §5)."""
    chosen: dict[tuple[str, str], ReceivedFile] = {}
    for item in sorted(received, key=arrival_order):
        chosen.setdefault((item.unit_code, item.sha256), item)
    return list(chosen.values())


def arrival_order(item: ReceivedFile) -> tuple:
    """Receipt time, then file name; the unit and checksum only make the order total."""
    return (item.received_at, item.file_name, item.raw_file_name or "", item.unit_code, item.sha256)


def read_forms(
    paths: Sequence[Path],
    names: Sequence[str],
    workers: int = 0,
    while_reading: Callable[[], None] | None = None,
) -> list[FormRead]:
    """Read many forms (messages naming each by `names`), in parallel processes when there are
    enough to pay for them; `while_reading` is work for this process meanwhile."""
    workers = worker_count(workers)
    if workers == 1 or len(paths) < 64:
        if while_reading:
            while_reading()
        return [read_form(path, name) for path, name in zip(paths, names, strict=True)]
    chunk = max(16, len(paths) // (workers * 8))
    with process_pool(workers) as pool:
        results = pool.map(read_form, paths, names, chunksize=chunk)
        if while_reading:
            while_reading()
        return list(results)


def read_received(
    workspace: Path,
    received: Sequence[ReceivedFile],
    workers: int = 0,
    while_reading: Callable[[], None] | None = None,
) -> list[FormRead]:
    """Each received file's form as read from its archive copy (`read_forms`); an entry refused
    unopened gives its F1 without anything being read."""
    copies = [item for item in received if item.refusal is None]
    forms = iter(
        read_forms(
            [workspace / item.archive_path for item in copies],
            [item.file_name for item in copies],
            workers,
            while_reading,
        )
    )
    return [
        failed_read(Problem("F1", ERROR, item.refusal)) if item.refusal else next(forms)
        for item in received
    ]


def chunked(items: Sequence[T], count: int) -> list[list[T]]:
    """`items` in at most `count` consecutive chunks of nearly equal size, none empty."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(list(items[start:end]))
        start = end
    return [chunk for chunk in chunks if chunk]


def target_period(form: FormRead, period: Period, known_periods: set[str]) -> str:
    """The period a file is recorded under: its own, when that is a period already collected
    (a correction sent after the run moved on); else the period being collected, where F5
    rejects a wrong one, and where an unreadable file is charged."""
    if form.problems:
        return str(period)
    try:
        declared = str(Period.parse(form.period or ""))
    except PeriodError:
        return str(period)
    return declared if declared in known_periods else str(period)


@dataclass(frozen=True)
class Outcome:
    """What a validated submission becomes in the database."""

    submission: dict[str, object]
    values: list[dict[str, object]]
    problems: list[dict[str, object]]


def outcome_of(
    received: ReceivedFile,
    form: FormRead,
    problems: Sequence[Problem],
    period: str,
    processed_at: datetime,
    arrival: int,
) -> Outcome:
    """The submission row, its values (only when accepted) and its problems; `arrival` orders
    the unit's versions (SPEC §5)."""
    errors = sum(problem.severity == ERROR for problem in problems)
    warnings = sum(problem.severity == WARNING for problem in problems)
    status = "rejected" if errors else "accepted_with_warnings" if warnings else "accepted"
    submission = {
        "id": received.submission_id,
        "unit_code": received.unit_code,
        "period": period,
        "file_name": received.file_name,
        "raw_file_name": received.raw_file_name,
        "sha256": received.sha256,
        "size_bytes": received.size_bytes,
        "received_at": received.received_at,
        "arrival": arrival,
        "archive_path": received.archive_path,
        "declared_unit_code": _stored(form.unit_code),
        "declared_period": _stored(form.period),
        "outcome": status,
        "error_count": errors,
        "warning_count": warnings,
        "processed_at": processed_at,
        "sender": received.sender,
    }
    values = [] if errors else stored_values(received.submission_id, form)
    problem_rows = [
        {
            "submission_id": received.submission_id,
            "seq": seq,
            "rule": problem.rule,
            "severity": problem.severity,
            "indicator_code": _stored(problem.indicator_code),
            "row_number": problem.row_number,
            "message": _stored(problem.message),
        }
        for seq, problem in enumerate(problems, start=1)
    ]
    return Outcome(submission, values, problem_rows)


def _stored(text: str | None) -> str | None:
    """Text as both databases store it alike: the reader's rule (no control characters) applied
    once more at the boundary, whatever a message quoted."""
    return None if text is None else without_controls(text)


def stored_values(submission_id: str, form: FormRead) -> list[dict[str, object]]:
    """An accepted form's non-blank values: counts and flags as numbers, texts as text."""
    catalogue: Mapping = by_code()
    rows = []
    for row in form.rows:
        indicator = catalogue.get(row.indicator_code)
        if indicator is None or row.value is None:
            continue
        if indicator.kind == "text":
            number, text_value = None, _stored(row.value)
        elif _WHOLE.match(row.value):
            number, text_value = float(row.value), None
        else:
            continue
        rows.append(
            {
                "submission_id": submission_id,
                "indicator_code": row.indicator_code,
                "number": number,
                "text_value": text_value,
            }
        )
    return rows
