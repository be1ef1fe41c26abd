"""Publishing a consolidated period (SPEC §7): which files a version publishes — the workbook,
each upper-level unit's own workbook of its subtree, the two CSVs (each with its Excel-friendly
copy for people) and a feedback workbook per unit whose latest file needs one — each written
atomically into the version's staging folder, and what a publication produced.

The files' contents are written by `tonghop.workbook`, `tonghop.exports` and `tonghop.feedback`,
their names and folders come from `tonghop.layout`."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from tonghop.carry_over import NOTHING_CARRIED, CarryOver, carry_file
from tonghop.consolidation import Consolidation
from tonghop.exports import write_consolidated_csv, write_status_csv
from tonghop.feedback import FeedbackFile, feedback_due, subject_of, write_feedback_files
from tonghop.layout import (
    PublicationFolders,
    consolidated_csv_path,
    excel_csv_path,
    feedback_path,
    find_unit_workbooks,
    status_csv_path,
    unit_workbook_path,
    workbook_path,
    write_atomically,
)
from tonghop.periods import Period
from tonghop.registry import GRASSROOTS_KINDS
from tonghop.subtree import subtree_consolidation
from tonghop.workbook import write_workbook


@dataclass
class PublishedFiles:
    """What a publication produced: where each of the version's files is (`feedback` by unit
    code), and whether this run published it.

    It lives here rather than in `tonghop.layout` because it is the outcome of publishing, not a
    naming rule: which feedback was due, which reports were drafted, whether anything new was
    published; the layout only says where such files go."""

    workbook: Path
    consolidated_csv: Path
    status_csv: Path
    feedback: dict[str, Path]
    version: int = 1
    newly_published: bool = True  # False when the run changed nothing already published
    # the narrative report (Word) of the province and of each upper-level unit, by unit code
    reports: dict[str, Path] = field(default_factory=dict)
    # each upper-level unit's own workbook (its subtree), by unit code
    unit_workbooks: dict[str, Path] = field(default_factory=dict)
    # when an earlier run published the version (None when this run did)
    published_at: datetime | None = None

    @property
    def excel_csvs(self) -> tuple[Path, Path]:
        """The CSVs' copies for people to open in Excel."""
        return excel_csv_path(self.consolidated_csv), excel_csv_path(self.status_csv)

    @property
    def complete(self) -> bool:
        """Whether the workbook and the CSVs are on disk."""
        outputs = (self.workbook, self.consolidated_csv, self.status_csv, *self.excel_csvs)
        return all(path.exists() for path in outputs)

    def workbook_for(self, unit_code: str) -> Path:
        """The workbook a unit receives: its own, of its subtree, or the province's."""
        return self.unit_workbooks.get(unit_code, self.workbook)


def publish(
    consolidation: Consolidation,
    folders: PublicationFolders,
    *,
    rewrite: bool = True,
    carry: CarryOver = NOTHING_CARRIED,
    pool: Executor | None = None,
) -> PublishedFiles:
    """Write the version's workbook, CSVs and feedback into `folders.stage`, from where they
    appear in `folders.final` (normally `published/<P>/`) all at once; returns where they will be.

    The version's own files are written when `rewrite` is set or when one is missing; a file
    already published is never written over. An upper level's own workbook is copied from the
    version before when `carry` says its subtree did not move. Feedback answers each unit's
    latest file once. Given a `pool` of processes, the workbooks are written there while this
    process writes the CSVs and the feedback (`publishes_in_parallel` says when that pays), and
    half of the feedback too when there is much of it (`write_feedback_files`).
    """
    period, version = consolidation.period, consolidation.version
    book = workbook_path(folders.final, period, version)
    # The workbooks to write: the whole consolidation's (None) and the upper levels' own.
    books: list[tuple[str | None, Path]] = []
    if rewrite or not book.exists():
        books.append((None, folders.staged(book)))
    unit_workbooks: dict[str, Path] = {}
    for unit in consolidation.units.sort_values("position", kind="stable").itertuples():
        if unit.kind != "upper":
            continue
        path = unit_workbook_path(folders.final, period, unit.code, version)
        unit_workbooks[unit.code] = path
        if not rewrite and path.exists():
            continue
        if not carry.carries(unit.code) or not carry_file(
            unit_workbook_path(folders.final, period, unit.code, carry.previous),
            folders.staged(path),
        ):
            books.append((unit.code, folders.staged(path)))
    # In a pool, one job writes them all, started before anything else: the longest work, sent
    # the consolidation once.
    written: Future[None] | None = None
    if pool is not None and books:
        written = pool.submit(write_workbooks, workbook_consolidation(consolidation), books)
    else:
        write_workbooks(consolidation, books)
    view = consolidation.view
    consolidated = consolidated_csv_path(folders.final, period, version)
    status = status_csv_path(folders.final, period, version)
    for_people = excel_csv_path(consolidated)
    outputs = [
        (consolidated, write_consolidated_csv),
        (status, write_status_csv),
        (for_people, partial(write_consolidated_csv, excel=True)),
        (excel_csv_path(status), partial(write_status_csv, excel=True)),
    ]
    if rewrite or not (consolidated.exists() or for_people.exists()):
        # Both copies of the consolidated CSV in one pass over its 900,000 rows.
        write_atomically(
            folders.staged(consolidated),
            lambda plain: write_atomically(
                folders.staged(for_people),
                lambda excel: write_consolidated_csv(view, plain, also=excel),
            ),
        )
        outputs = [output for output in outputs if output[0] not in (consolidated, for_people)]
    for path, write in outputs:
        if rewrite or not path.exists():
            write_atomically(folders.staged(path), lambda temp, write=write: write(view, temp))
    feedback: dict[str, Path] = {}
    to_write: list[FeedbackFile] = []
    for due in feedback_due(view):
        path = feedback_path(folders.final, due.unit_code, period, due.submission_number)
        if not path.exists():
            to_write.append(FeedbackFile(subject_of(view, due), due.problems, folders.staged(path)))
        feedback[due.unit_code] = path
    write_feedback_files(to_write, pool)
    if written is not None:
        written.result()  # a workbook that failed fails the publication, as in this process
    return PublishedFiles(
        book,
        consolidated,
        status,
        feedback=feedback,
        version=version,
        unit_workbooks=unit_workbooks,
    )


def write_workbooks(consolidation: Consolidation, books: Sequence[tuple[str | None, Path]]) -> None:
    """Write, atomically, the consolidation's workbook (code None) and the units' own workbooks
    of their subtree, each to the path given (in a pool's process too)."""
    for code, path in books:
        of = consolidation if code is None else subtree_consolidation(consolidation, code)
        write_atomically(path, lambda temp, of=of: write_workbook(of.view, temp))


# The units whose figures a workbook shows: its levels and the grassroots organisations. The
# figures of the units below them (nine in ten of a province's) are in the CSVs only.
WORKBOOK_KINDS = ("province", "upper", *GRASSROOTS_KINDS)


def workbook_consolidation(consolidation: Consolidation) -> Consolidation:
    """The consolidation as its workbooks read it: every unit, status, problem, text and change,
    and the figures of the units of WORKBOOK_KINDS only (what a pool's process is sent)."""
    units = consolidation.units
    shown = units.loc[units["kind"].isin(WORKBOOK_KINDS), "code"]
    values = consolidation.values
    return replace(
        consolidation, values=values[values["unit_code"].isin(shown)].reset_index(drop=True)
    )


# From this many units a workbook costs seconds, far more than sending the consolidation to
# another process (half a second at 20,000 units): the workbooks are then written there.
PARALLEL_FROM_UNITS = 5_000


def publishes_in_parallel(units: int) -> bool:
    """Whether the workbooks of a consolidation of so many units are worth writing in another
    process."""
    return units >= PARALLEL_FROM_UNITS


def published_files(out_dir: Path, period: Period, version: int) -> PublishedFiles:
    """The files a version already published left in `out_dir` (the narrative reports are
    found by `tonghop.layout.find_reports`; feedback answers files, not versions)."""
    return PublishedFiles(
        workbook_path(out_dir, period, version),
        consolidated_csv_path(out_dir, period, version),
        status_csv_path(out_dir, period, version),
        feedback={},
        version=version,
        newly_published=False,
        unit_workbooks=find_unit_workbooks(out_dir, period, version),
    )
