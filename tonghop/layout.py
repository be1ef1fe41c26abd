"""Where a period's published files go (SPEC §7) and how a version's files appear all at once.

A version is written whole into a hidden staging folder beside the period's files, then each
file is moved into place (a rename, which needs no room on the disk) and only then is the
version recorded as published. A run that fails or dies while writing leaves nothing of the
version where people look; the next run clears the staging folder and writes the version again.
Published files are never removed or overwritten: every name carries its version (`-v2`), and a
feedback workbook is named after the received file it answers.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tonghop.errors import DiskFull, is_disk_full
from tonghop.periods import Period

FEEDBACK_DIR = "phan-hoi"
CHARTS_DIR = "bieu-do"
_STAGE_PREFIX = ".dang-ghi-phien-ban-"
# A unit code is only ever used as a file-name stem; refuse anything that could leave the folder.
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def version_marker(version: int) -> str:
    """What a published file name carries for its version: nothing for the first, `-v2` …"""
    return "" if version == 1 else f"-v{version}"


def published_name(stem: str, period: Period | str, version: int, suffix: str) -> str:
    """`tong-hop-2026Q3.xlsx` for the first version, `tong-hop-2026Q3-v2.xlsx` after it."""
    return f"{stem}-{period}{version_marker(version)}{suffix}"


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
