"""Collecting submissions (SPEC §5): finding new files in the inbox, archiving them byte for byte
before anything else, reading them in parallel, and turning a validated batch into the rows the
database stores."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from tonghop.catalogue import by_code
from tonghop.periods import Period, PeriodError
from tonghop.problems import ERROR, WARNING, Problem
from tonghop.reading import FormRead, read_form
from tonghop.validation import WHOLE_NUMBER

# Inbox folders are unit codes; anything else (a stray folder, `..`) is never used in a path.
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
# Files Excel and file managers leave behind are not submissions.
IGNORED_PREFIXES = ("~$", ".~lock", ".")
_WHOLE = re.compile(WHOLE_NUMBER)
T = TypeVar("T")


@dataclass(frozen=True)
class ReceivedFile:
    """A file seen for the first time, already copied into the archive."""

    submission_id: str
    unit_code: str
    file_name: str
    sha256: str
    size_bytes: int
    received_at: datetime
    archive_path: str  # relative to the workspace


def inbox_files(inbox: Path) -> tuple[list[tuple[str, Path]], list[Path]]:
    """Every file in `inbox/<unit>/`, as (folder unit, path); and the unsafe folders."""
    found, unsafe = [], []
    if not inbox.exists():
        return found, unsafe
    # scandir: the directory listing says what is a file, without a stat per file.
    for folder in sorted(os.scandir(inbox), key=lambda entry: entry.name):
        if not folder.is_dir():
            continue
        if not SAFE_FOLDER.match(folder.name):
            unsafe.append(Path(folder.path))
            continue
        for entry in sorted(os.scandir(folder.path), key=lambda entry: entry.name):
            if entry.is_file() and not entry.name.startswith(IGNORED_PREFIXES):
                found.append((folder.name, Path(entry.path)))
    return found, unsafe


@dataclass(frozen=True)
class InboxFile:
    """How an inbox file looked when it was read: unchanged name, size and modification time
    mean unchanged content, so it is not read again."""

    unit_code: str
    file_name: str
    size_bytes: int
    mtime_ns: int
    sha256: str


def changed_files(
    candidates: Iterable[tuple[str, Path]],
    remembered: Mapping[tuple[str, str], tuple[int, int]],
) -> list[tuple[str, Path, os.stat_result]]:
    """The inbox files not seen before, or changed since: (unit, path, stat) each."""
    changed = []
    for unit_code, path in candidates:
        stat = path.stat()
        if remembered.get((unit_code, path.name)) != (stat.st_size, stat.st_mtime_ns):
            changed.append((unit_code, path, stat))
    return changed


def archive_file(
    unit_code: str,
    path: Path,
    workspace: Path,
    archive: Path,
    timezone: ZoneInfo,
    known: Container[tuple[str, str]] = frozenset(),
) -> ReceivedFile:
    """Copy one inbox file into the archive under its checksum and record what was received;
    bytes the unit sent before (`known` (unit, checksum) pairs) are archived already and their
    copy is dropped — read once either way."""
    stat = path.stat()
    received_at = datetime.fromtimestamp(stat.st_mtime, timezone).replace(tzinfo=None)
    suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", path.suffix.lower()) else ""
    folder = archive / unit_code
    folder.mkdir(parents=True, exist_ok=True)
    # Stream the copy and hash it on the way, so a huge file never sits in memory.
    partial = folder / f".{uuid.uuid4().hex}.partial"
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source, partial.open("wb") as handle:
        while block := source.read(1 << 20):
            digest.update(block)
            handle.write(block)
            size += len(block)
        handle.flush()
        checksum = digest.hexdigest()
        is_known = (unit_code, checksum) in known
        if not is_known:
            os.fsync(handle.fileno())
    target = folder / f"{checksum}{suffix}"
    if is_known:
        partial.unlink()
    else:
        os.replace(partial, target)
    return ReceivedFile(
        submission_id=uuid.uuid4().hex,
        unit_code=unit_code,
        file_name=path.name,
        sha256=checksum,
        size_bytes=size,
        received_at=received_at,
        archive_path=target.relative_to(workspace).as_posix(),
    )


def first_sightings(received: Iterable[ReceivedFile]) -> list[ReceivedFile]:
    """One record per (unit, checksum): the same bytes sent twice are recorded once."""
    chosen: dict[tuple[str, str], ReceivedFile] = {}
    for item in sorted(received, key=lambda item: (item.received_at, item.file_name)):
        chosen.setdefault((item.unit_code, item.sha256), item)
    return list(chosen.values())


def read_forms(
    paths: Sequence[Path],
    names: Sequence[str],
    workers: int = 0,
    while_reading: Callable[[], None] | None = None,
) -> list[FormRead]:
    """Read many forms (messages naming each by `names`), in parallel processes when there are
    enough to pay for them; `while_reading` is work for this process meanwhile."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(paths) < 64:
        if while_reading:
            while_reading()
        return [read_form(path, name) for path, name in zip(paths, names, strict=True)]
    chunk = max(16, len(paths) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # The workers are forked by the first submission, before `while_reading` starts any
        # thread: a fork never copies a thread's half-held locks.
        results = pool.map(read_form, paths, names, chunksize=chunk)
        if while_reading:
            while_reading()
        return list(results)


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
) -> Outcome:
    """The submission row, its values (only when accepted) and its problems."""
    errors = sum(problem.severity == ERROR for problem in problems)
    warnings = sum(problem.severity == WARNING for problem in problems)
    status = "rejected" if errors else "accepted_with_warnings" if warnings else "accepted"
    submission = {
        "id": received.submission_id,
        "unit_code": received.unit_code,
        "period": period,
        "file_name": received.file_name,
        "sha256": received.sha256,
        "size_bytes": received.size_bytes,
        "received_at": received.received_at,
        "archive_path": received.archive_path,
        "declared_unit_code": form.unit_code,
        "declared_period": form.period,
        "outcome": status,
        "error_count": errors,
        "warning_count": warnings,
        "processed_at": processed_at,
    }
    values = [] if errors else stored_values(received.submission_id, form)
    problem_rows = [
        {
            "submission_id": received.submission_id,
            "seq": seq,
            "rule": problem.rule,
            "severity": problem.severity,
            "indicator_code": problem.indicator_code,
            "row_number": problem.row_number,
            "message": problem.message,
        }
        for seq, problem in enumerate(problems, start=1)
    ]
    return Outcome(submission, values, problem_rows)


def stored_values(submission_id: str, form: FormRead) -> list[dict[str, object]]:
    """An accepted form's non-blank values: counts and flags as numbers, texts as text."""
    catalogue: Mapping = by_code()
    rows = []
    for row in form.rows:
        indicator = catalogue.get(row.indicator_code)
        if indicator is None or row.value is None:
            continue
        if indicator.kind == "text":
            number, text_value = None, row.value
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
