"""The folder inbox (SPEC §3, §5): `inbox/<unit code>/` folders mapped to registry units without
regard to case, their entries listed without following anything, and files opened so that
nothing outside the inbox is ever read — no symbolic link (to a file or a folder), no device,
pipe or socket, no hard link, nothing mounted from another file system. What is refused is
reported to its unit and to the operator; its bytes are never opened."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from tonghop.text import name_key, shown_name

# Inbox folders are unit codes (SPEC §1 restricts codes to these characters); a folder named
# otherwise is never looked up, let alone used in a path.
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
# Files Excel and file managers leave behind are not submissions.
IGNORED_PREFIXES = ("~$", ".~lock", ".")
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()

# What an entry of a unit's folder is, as listed and as opened.
FILE = "file"
SYMLINK = "symlink"
FOLDER = "folder"
SPECIAL = "special"  # device, pipe or socket
HARD_LINK = "hard_link"
OTHER_DISK = "other_disk"  # a file mounted onto the folder from another file system

_ADVICE = "Đề nghị gửi chính tệp báo cáo .xlsx, đặt trực tiếp trong thư mục của đơn vị."
# Why an entry is refused, to the unit: what it is, and that it was not opened.
REFUSALS_VI = {
    SYMLINK: (
        "«{name}» là một liên kết (symlink) trỏ đến nơi khác, không phải tệp báo cáo; vì an "
        f"toàn, hệ thống không mở liên kết. {_ADVICE}"
    ),
    FOLDER: (
        "«{name}» là một thư mục, không phải tệp báo cáo; hệ thống chỉ đọc các tệp nằm trực "
        "tiếp trong thư mục của đơn vị, không đọc thư mục con. Đề nghị đặt tệp .xlsx trực tiếp "
        "vào thư mục của đơn vị (không để trong thư mục con) rồi gửi lại."
    ),
    SPECIAL: (
        "«{name}» không phải một tệp thông thường (là thiết bị, ống dẫn hoặc socket của hệ "
        f"điều hành); hệ thống không mở. {_ADVICE}"
    ),
    HARD_LINK: (
        "«{name}» là liên kết cứng (hard link) dùng chung nội dung với một tệp khác trên máy "
        f"chủ; vì an toàn, hệ thống không mở. {_ADVICE}"
    ),
    OTHER_DISK: (
        "«{name}» được gắn vào thư mục nộp báo cáo từ một ổ đĩa khác; vì an toàn, hệ thống "
        f"không mở. {_ADVICE}"
    ),
}
# Why an inbox entry belongs to no unit, to the operator.
NOT_A_FOLDER_VI = "là tệp nằm ngay trong hộp thư đến, không thuộc thư mục của đơn vị nào"
LINKED_FOLDER_VI = "là liên kết (symlink) đến nơi khác; hệ thống không theo liên kết ra ngoài"
UNSAFE_NAME_VI = "tên không phải mã đơn vị hợp lệ"
UNKNOWN_CODE_VI = "không có đơn vị nào mang mã này trong danh sách đơn vị"

_OPEN_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a pipe swapped in after listing must not block the open; fstat refuses it next.
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


@dataclass(frozen=True)
class SkippedEntry:
    """Something in the inbox that belongs to no unit, left unread; `name` as people read it."""

    name: str
    reason: str


@dataclass(frozen=True)
class InboxEntry:
    """One entry of a unit's folder as listed, never following a link."""

    unit_code: str  # the registry code the folder maps to
    folder: str  # the folder's own name (codes differing only by case share a unit)
    name: bytes  # the entry's name exactly as the file system has it
    kind: str  # FILE, or why it is refused
    size_bytes: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """The name as a lossless text key (`tonghop.text.name_key`)."""
        return name_key(self.name)

    @property
    def shown(self) -> str:
        """The name as people read it."""
        return shown_name(self.name)


class RefusedEntry(Exception):
    """An entry turned out not to be a plain file of the folder when it was opened."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def folder_units(unit_codes: Iterable[str]) -> dict[str, str]:
    """Registry codes by their case-folded form: the folder each unit's files arrive in (the
    registry refuses two codes that differ only by case)."""
    return {code.casefold(): code for code in unit_codes}


def scan_inbox(
    inbox: Path, units_by_folder: Mapping[str, str]
) -> tuple[list[InboxEntry], list[SkippedEntry]]:
    """Every entry of every unit folder of `inbox`, in name order, and what was skipped."""
    entries: list[InboxEntry] = []
    skipped: list[SkippedEntry] = []
    if not inbox.is_dir():
        return entries, skipped
    root = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name, entry in _sorted_entries(root):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                skipped.append(SkippedEntry(shown_name(name), LINKED_FOLDER_VI))
                continue
            if not stat.S_ISDIR(info.st_mode):
                if not entry.name.startswith(IGNORED_PREFIXES):
                    skipped.append(SkippedEntry(shown_name(name), NOT_A_FOLDER_VI))
                continue
            if not SAFE_FOLDER.match(entry.name):
                skipped.append(SkippedEntry(shown_name(name), UNSAFE_NAME_VI))
                continue
            unit_code = units_by_folder.get(entry.name.casefold())
            if unit_code is None:
                skipped.append(SkippedEntry(shown_name(name), UNKNOWN_CODE_VI))
                continue
            try:
                with _opened_folder(root, entry.name) as folder:
                    entries += _folder_entries(folder, unit_code, entry.name)
            except OSError:
                # Swapped for a link or removed since it was listed: nothing of it is read.
                skipped.append(SkippedEntry(shown_name(name), LINKED_FOLDER_VI))
    finally:
        os.close(root)
    return entries, skipped


def _sorted_entries(directory: int) -> list[tuple[bytes, os.DirEntry]]:
    """The folder's entries with their names as bytes, sorted by those: the same inbox gives
    the same order whatever the names' encoding."""
    # str.encode as os.fsencode does it, without its checks: 40,000 names a province's run.
    with os.scandir(directory) as listing:
        named = [(entry.name.encode(_FS_ENCODING, _FS_ERRORS), entry) for entry in listing]
    named.sort(key=itemgetter(0))
    return named


@contextmanager
def _opened_folder(root: int, name: str) -> Iterator[int]:
    folder = os.open(name, _OPEN_DIRECTORY, dir_fd=root)
    try:
        yield folder
    finally:
        os.close(folder)


def _folder_entries(folder: int, unit_code: str, folder_name: str) -> list[InboxEntry]:
    device = os.fstat(folder).st_dev
    found = []
    for name, entry in _sorted_entries(folder):
        if entry.name.startswith(IGNORED_PREFIXES):
            continue
        info = entry.stat(follow_symlinks=False)
        found.append(
            InboxEntry(
                unit_code=unit_code,
                folder=folder_name,
                name=name,
                kind=entry_kind(info, device),
                size_bytes=0 if stat.S_ISDIR(info.st_mode) else info.st_size,
                mtime_ns=info.st_mtime_ns,
            )
        )
    return found


def entry_kind(info: os.stat_result, folder_device: int) -> str:
    """FILE for a plain file of the folder's own file system with one name, else the refusal."""
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return SYMLINK
    if stat.S_ISDIR(mode):
        return FOLDER
    if not stat.S_ISREG(mode):
        return SPECIAL
    if info.st_dev != folder_device:
        return OTHER_DISK
    if info.st_nlink != 1:
        return HARD_LINK
    return FILE


def changed_entries(
    entries: Iterable[InboxEntry], remembered: Mapping[tuple[str, str], tuple[int, int]]
) -> list[InboxEntry]:
    """The entries not seen before, or changed since (name, size and modification time)."""
    return [
        entry
        for entry in entries
        if remembered.get((entry.folder, entry.key)) != (entry.size_bytes, entry.mtime_ns)
    ]


@contextmanager
def open_entry(inbox: Path, entry: InboxEntry) -> Iterator[int]:
    """A read-only descriptor of a listed plain file, opened without following any link and
    checked again once open (it may have been swapped since it was listed); raises
    `RefusedEntry` when it is no longer a plain file of its folder."""
    root = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            folder = os.open(entry.folder, _OPEN_DIRECTORY, dir_fd=root)
        except OSError:
            raise RefusedEntry(SYMLINK) from None
        try:
            try:
                handle = os.open(entry.name, _OPEN_FILE, dir_fd=folder)
            except OSError as error:
                kind = _kind_of_unopenable(folder, entry.name)
                if kind is None:
                    raise error from None
                raise RefusedEntry(kind) from None
            try:
                kind = entry_kind(os.fstat(handle), os.fstat(folder).st_dev)
                if kind != FILE:
                    raise RefusedEntry(kind)
                os.set_blocking(handle, True)
                yield handle
            finally:
                os.close(handle)
        finally:
            os.close(folder)
    finally:
        os.close(root)


def _kind_of_unopenable(folder: int, name: bytes) -> str | None:
    """Why an entry could not be opened, when it is no plain file (a link: O_NOFOLLOW)."""
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return None
    kind = entry_kind(info, os.fstat(folder).st_dev)
    return None if kind == FILE else kind
