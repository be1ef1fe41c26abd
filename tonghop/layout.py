"""Every path the product writes (SPEC §7), named in one place: the workspace's folders and
database (`Workspace`), a period's blank forms, the archive copies of received files, the Data
Docs site, and a period's published files — workbook, CSVs, feedback, narrative reports, charts.

A version is written whole into a hidden staging folder beside the period's files, then each
file is moved into place (a rename, which needs no room on the disk) and only then is the
version recorded as published. A run that fails or dies while writing leaves nothing of the
version where people look; the next run clears the staging folder and writes the version again.
Published files are never removed or overwritten: every name carries its version (`-v2`), and a
feedback workbook is named after the received file it answers. Each single file appears at once
too (`write_atomically`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tonghop.errors import DiskFull, is_disk_full
from tonghop.periods import Period

INBOX_DIR = "inbox"
ARCHIVE_DIR = "archive"
OUTBOX_DIR = "outbox"
PUBLISHED_DIR = "published"
# Great Expectations names its project folder inside the project root it is given (the
# workspace), and its Data Docs site after the site's name in the project's configuration.
GX_DIR = "gx"
DATA_DOCS_SITE = "local_site"
DATABASE_FILE = "tonghop.db"  # SQLite, when no database URL is configured
# The key the units' personal links are derived from (tonghop/portal/access.py), readable by
# the workspace's owner alone, unless TONGHOP_WEB_SECRET_KEY gives one.
PORTAL_KEY_FILE = ".khoa-lien-ket-cong-thong-tin"
# What `tonghop demo` writes in its workspace: the demo registry, and the marker that lets a
# later demo run replace the folder (never a workspace without it).
DEMO_REGISTRY = "registry.csv"
DEMO_MARKER = ".tonghop-demo"
# Each issuing unit's report settings (`<mã>.toml`) and the Word template they name.
REPORT_SETTINGS_DIR = "thiet-lap-bao-cao"

FEEDBACK_DIR = "phan-hoi"
MAIL_ARCHIVE_DIR = "_thu"
UNSENT_DIR = "thu-chua-gui"
CHARTS_DIR = "bieu-do"
WORKBOOK_STEM = "tong-hop"
CONSOLIDATED_CSV_STEM = "consolidated"
STATUS_CSV_STEM = "status"
EXCEL_CSV_SUFFIX = "-excel.csv"
REPORT_STEM = "bao-cao"
CHART_STEM = "bieu-do"
# Copies being written into the archive, still without their checksum names, wait in one
# folder of the archive (the same file system, so that taking the name is one rename): after a
# killed run, clearing them lists one folder, not every unit's.
ARCHIVE_STAGING = "_dang-ghi"  # no unit code starts with "_"
ARCHIVE_PARTIALS = f"{ARCHIVE_STAGING}/*.partial"
_STAGE_PREFIX = ".dang-ghi-phien-ban-"
# A unit code is only ever used as a file-name stem; refuse anything that could leave the folder.
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
# The sent file's suffix an archive copy keeps, when it is a plain one (`.xlsx`).
_PLAIN_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


@dataclass(frozen=True)
class Workspace:
    """One workspace's folders and files, under `root`: units drop files in the inbox, the
    archive keeps a copy of every file received, the outbox the blank forms, `published` what
    each period publishes."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / INBOX_DIR

    @property
    def archive(self) -> Path:
        return self.root / ARCHIVE_DIR

    @property
    def outbox(self) -> Path:
        return self.root / OUTBOX_DIR

    @property
    def published(self) -> Path:
        return self.root / PUBLISHED_DIR

    @property
    def gx_project(self) -> Path:
        """The Great Expectations project: its stores and the Data Docs site."""
        return self.root / GX_DIR

    @property
    def data_docs_index(self) -> Path:
        """The Data Docs site's index page: every run's results and the suites."""
        return self.gx_project / "uncommitted" / "data_docs" / DATA_DOCS_SITE / "index.html"

    @property
    def report_settings(self) -> Path:
        """`thiet-lap-bao-cao/`: how each issuing unit signs its reports, and their template."""
        return self.root / REPORT_SETTINGS_DIR

    @property
    def database_file(self) -> Path:
        return self.root / DATABASE_FILE

    @property
    def portal_key_file(self) -> Path:
        return self.root / PORTAL_KEY_FILE

    def forms_folder(self, period: Period) -> Path:
        """`outbox/<P>/`: the period's blank forms."""
        return period_folder(self.outbox, period)

    def published_folder(self, period: Period) -> Path:
        """`published/<P>/`: every version the period published."""
        return period_folder(self.published, period)

    def ensure(self) -> None:
        """Create the workspace's folders that are missing."""
        for folder in (self.root, self.inbox, self.archive, self.outbox, self.published):
            folder.mkdir(parents=True, exist_ok=True)


def period_folder(parent: Path, period: Period | str) -> Path:
    """A period's own folder in the outbox or in `published/`: `<parent>/2026Q3`."""
    return Path(parent) / str(period)


def blank_form_name(unit_code: str, period: Period) -> str:
    """The blank form a unit fills in: `CQ001-2026Q3.xlsx`."""
    return f"{unit_code}-{period}.xlsx"


def archive_copy(archive: Path, unit_code: str, checksum: str, sent_name: str) -> Path:
    """Where a received file is kept: `archive/<unit>/<sha256><suffix>`, the suffix of the name
    it was sent under when that is a plain one, so identical bytes are kept once per unit."""
    suffix = Path(sent_name).suffix.lower()
    suffix = suffix if _PLAIN_SUFFIX.fullmatch(suffix) else ""
    return Path(archive) / unit_code / f"{checksum}{suffix}"


def mail_archive_copy(archive: Path, checksum: str) -> Path:
    """Where a received e-mail is kept byte for byte: `archive/_thu/<sha256>.eml` (no unit code
    starts with `_`, so no unit's folder is ever this one)."""
    return Path(archive) / MAIL_ARCHIVE_DIR / f"{checksum}.eml"


def mail_attachment_copy(archive: Path, message_checksum: str, checksum: str) -> Path:
    """Where a form sent by e-mail is kept to be read: beside its message,
    `archive/_thu/<message sha256>/<sha256>.xlsx`."""
    return Path(archive) / MAIL_ARCHIVE_DIR / message_checksum / f"{checksum}.xlsx"


def unsent_letters_folder(outbox: Path, period: Period | str) -> Path:
    """`outbox/<P>/thu-chua-gui/`: with no mail server, each letter a run would have sent, as
    the `.eml` file it would have been."""
    return period_folder(outbox, period) / UNSENT_DIR


def answer_feedback_path(outbox: Path, period: Period | str, unit_code: str, arrival: int) -> Path:
    """The feedback workbook an acknowledgement carries: `outbox/<P>/phan-hoi/<unit>-<P>-lan-N.xlsx`
    for the unit's N-th file of the period."""
    return period_folder(outbox, period) / FEEDBACK_DIR / f"{unit_code}-{period}-lan-{arrival}.xlsx"


def archive_partial(archive: Path) -> Path:
    """A new name for a copy being written into the archive (see ARCHIVE_PARTIALS): its
    checksum, hence its name, is known only at the end."""
    return Path(archive) / ARCHIVE_STAGING / f"{uuid.uuid4().hex}.partial"


def version_marker(version: int) -> str:
    """What a published file name carries for its version: nothing for the first, `-v2` …"""
    return "" if version == 1 else f"-v{version}"


def published_name(stem: str, period: Period | str, version: int, suffix: str) -> str:
    """`tong-hop-2026Q3.xlsx` for the first version, `tong-hop-2026Q3-v2.xlsx` after it."""
    return f"{stem}-{period}{version_marker(version)}{suffix}"


def workbook_path(folder: Path, period: Period, version: int) -> Path:
    """The workbook people read: `tong-hop-<P>[-vN].xlsx`."""
    return Path(folder) / published_name(WORKBOOK_STEM, period, version, ".xlsx")


def unit_workbook_path(folder: Path, period: Period, unit_code: str, version: int) -> Path:
    """An upper-level unit's own workbook, of its subtree: `tong-hop-<P>-<unit>[-vN].xlsx`."""
    check_code(unit_code)
    return Path(folder) / f"{WORKBOOK_STEM}-{period}-{unit_code}{version_marker(version)}.xlsx"


def find_unit_workbooks(folder: Path, period: Period, version: int) -> dict[str, Path]:
    """The upper-level units' own workbooks a version published in `folder`, by unit code."""
    return _find_by_unit(folder, WORKBOOK_STEM, period, version, ".xlsx")


def excel_csv_path(csv_path: Path) -> Path:
    """The Excel-friendly copy of a published CSV, for people: `consolidated-<P>[-vN]-excel.csv`
    (UTF-8 with a byte order mark and CRLF lines, which Excel reads right on a double click)."""
    return csv_path.with_name(f"{csv_path.stem}{EXCEL_CSV_SUFFIX}")


def consolidated_csv_path(folder: Path, period: Period, version: int) -> Path:
    """Every unit's figures, for machines: `consolidated-<P>[-vN].csv`."""
    return Path(folder) / published_name(CONSOLIDATED_CSV_STEM, period, version, ".csv")


def status_csv_path(folder: Path, period: Period, version: int) -> Path:
    """Every expected unit's status, for machines: `status-<P>[-vN].csv`."""
    return Path(folder) / published_name(STATUS_CSV_STEM, period, version, ".csv")


def check_code(unit_code: object) -> str:
    """The unit code, when it is a plain file-name stem; else ValueError."""
    if not isinstance(unit_code, str) or not _SAFE_CODE.fullmatch(unit_code):
        raise ValueError(f"unit code unsafe for a file name: {unit_code!r}")
    return unit_code


def feedback_name(unit_code: str, period: Period, submission_number: int = 1) -> str:
    """The feedback workbook answering a unit's `submission_number`-th file of the period:
    `CB01-2025Q3.xlsx` for the first, `CB01-2025Q3-lan2.xlsx` for the second…"""
    check_code(unit_code)
    suffix = "" if submission_number <= 1 else f"-lan{submission_number}"
    return f"{unit_code}-{period}{suffix}.xlsx"


def feedback_path(folder: Path, unit_code: str, period: Period, submission_number: int = 1) -> Path:
    """`phan-hoi/<feedback_name>` in the period's folder."""
    return Path(folder) / FEEDBACK_DIR / feedback_name(unit_code, period, submission_number)


def report_paths(folder: Path, period: Period, unit_code: str, version: int) -> tuple[Path, Path]:
    """`bao-cao-<P>-<unit_code>.docx` and `.html` in `folder`; `-v2`, `-v3` … after the stem
    for later versions, so that a draft an operator has started editing is never written over."""
    check_code(unit_code)
    stem = f"{REPORT_STEM}-{period}-{unit_code}{version_marker(version)}"
    return Path(folder) / f"{stem}.docx", Path(folder) / f"{stem}.html"


def find_reports(folder: Path, period: Period, version: int) -> dict[str, Path]:
    """The Word reports of a version already drafted in `folder`, by unit code."""
    return _find_by_unit(folder, REPORT_STEM, period, version, ".docx")


def _find_by_unit(
    folder: Path, stem: str, period: Period, version: int, suffix: str
) -> dict[str, Path]:
    """The files `<stem>-<P>-<unit>[-vN]<suffix>` of one version in `folder`, by unit code."""
    marker = re.escape(version_marker(version))
    name = re.compile(rf"{stem}-{period}-(?P<unit>.+?){marker}{re.escape(suffix)}")
    return {
        match["unit"]: path
        for path in sorted(Path(folder).glob(f"{stem}-{period}-*{suffix}"))
        # a version 1 name must not swallow a later version's `-vN` (nor take the province's
        # `tong-hop-<P>-v2.xlsx` for a unit's)
        if (match := name.fullmatch(path.name)) and not re.search(r"(^|-)v\d+$", match["unit"])
    }


# Every chart a report may have; "quarters" only for a period of several quarters (drawn by
# tonghop/charts.py, which imports matplotlib: named here so that naming them does not).
CHART_NAMES = ("attendance", "reporting", "sessions", "quarters")


def chart_file_name(name: str, period: Period, unit_code: str, version: int = 1) -> str:
    """`bieu-do-attendance-2026Q3-TU.png` (`…-TU-v2.png` for version 2: each version's report
    keeps its own charts, in CHARTS_DIR), refusing a code that is not a plain file-name stem."""
    check_code(unit_code)
    return f"{CHART_STEM}-{name}-{period}-{unit_code}{version_marker(version)}.png"


@dataclass(frozen=True)
class PublicationFolders:
    """A version's place: `final` is `published/<P>/`, `stage` the hidden folder inside it the
    version is written into before its files appear."""

    final: Path
    stage: Path

    @classmethod
    def of(cls, period_folder: Path, version: int) -> PublicationFolders:
        return cls(Path(period_folder), Path(period_folder) / f"{_STAGE_PREFIX}{version}")

    def staged(self, final_path: Path) -> Path:
        """Where a file that will appear at `final_path` is written first."""
        return self.stage / Path(final_path).relative_to(self.final)


def clear_stages(period_folder: Path) -> None:
    """Remove what a run that failed or died left unpublished (and the temporary files of
    runs from before staging existed)."""
    folder = Path(period_folder)
    if not folder.is_dir():
        return
    for stage in folder.glob(f"{_STAGE_PREFIX}*"):
        shutil.rmtree(stage, ignore_errors=True)
    for temporary in [*folder.glob(".*.tmp"), *(folder / FEEDBACK_DIR).glob(".*.tmp")]:
        temporary.unlink(missing_ok=True)


def commit_stage(folders: PublicationFolders) -> list[Path]:
    """Move every staged file into place (renames only), then remove the staging folder;
    returns the files now published."""
    moved = []
    if folders.stage.is_dir():
        for path in sorted(folders.stage.rglob("*")):
            if path.is_dir():
                continue
            target = folders.final / path.relative_to(folders.stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            moved.append(target)
        shutil.rmtree(folders.stage, ignore_errors=True)
    _sync_directory(folders.final)
    return moved


def _sync_directory(folder: Path) -> None:
    # The renames themselves reach the disk before the version is recorded as published.
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary file beside `path`, then move it into place in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        # mkstemp creates the file private; published files are meant to be read by others.
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# Up to this many files, each is synced by itself; more are synced all at once. Every fsync is
# a journal commit (15 s for 19,400 letters), while a sync of the disks writes what every
# program has pending — the database's, the Prefect server's — a price worth paying only for
# many files (a late form's one file waited 0.75 s for it).
SYNC_EACH_UP_TO = 32


def make_durable(paths: Sequence[Path], *, with_names: bool = False) -> None:
    """Bring the files `paths` to the disk — one by one when few, by one sync of the disks
    when many — and, `with_names`, their entries in their folders too."""
    if len(paths) > SYNC_EACH_UP_TO:
        os.sync()
        return
    for path in paths:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
    if with_names:
        for folder in {Path(path).parent for path in paths}:
            _sync_directory(folder)


def write_all_atomically(
    files: Iterable[tuple[Path, Callable[[Path], None]]],
) -> dict[Path, OSError]:
    """`write_atomically` for many files at once, taken one at a time from `files`: each is
    written beside its place, then all are made durable by one sync of the disks (an fsync per
    file costs a journal commit each: 15 s for 19,400 letters), then each is moved into place.
    Returns the files that could not be written, with why; the others are written still."""
    staged: list[tuple[Path, Path]] = []
    failed: dict[Path, OSError] = {}
    try:
        for path, write in files:
            path = Path(path)
            temp: Path | None = None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle, name = tempfile.mkstemp(
                    dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
                )
                os.close(handle)
                temp = Path(name)
                write(temp)
                staged.append((temp, path))
            except OSError as error:
                if temp is not None:
                    temp.unlink(missing_ok=True)
                failed[path] = error
        make_durable([temp for temp, _ in staged])
        while staged:
            temp, path = staged.pop()
            try:
                os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
                os.replace(temp, path)
            except OSError as error:
                temp.unlink(missing_ok=True)
                failed[path] = error
    finally:
        for temp, _ in staged:  # what an interruption left aside
            temp.unlink(missing_ok=True)
    return failed


def staged_bytes(folders: PublicationFolders) -> int:
    """What the staging folder holds so far."""
    if not folders.stage.is_dir():
        return 0
    return sum(path.stat().st_size for path in folders.stage.rglob("*") if path.is_file())


@contextmanager
def disk_full_explained(
    folders: PublicationFolders, period: Period, version: int
) -> Iterator[None]:
    """Turn "no space left" while writing a version into the operator's message, after the
    partial version is removed: nothing of it is left where people look."""
    try:
        yield
    except Exception as error:
        if not is_disk_full(error):
            raise
        written = staged_bytes(folders)
        shutil.rmtree(folders.stage, ignore_errors=True)
        raise DiskFull(
            folders.final,
            f"ghi phiên bản {version} của kết quả tổng hợp {period.label_vi}",
            f"Phiên bản {version} chưa được công bố: không có tệp nào của phiên bản này trong "
            f"«{folders.final}» (các phiên bản đã công bố trước đó vẫn nguyên vẹn), và mọi báo "
            "cáo đã nhận vẫn được lưu đầy đủ trong cơ sở dữ liệu.",
            written=written,
        ) from error
