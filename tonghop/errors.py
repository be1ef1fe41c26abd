"""Errors an operator can act on, each carrying its Vietnamese explanation: the command line
prints the message alone, and a Prefect flow run that fails on one shows it as its state."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from tonghop.database_urls import database_identity
from tonghop.formatting import format_bytes


class TonghopError(Exception):
    """A failure explained to the operator; `str()` is the Vietnamese message."""


class DatabaseUnavailable(TonghopError):
    """The database cannot be reached."""

    def __init__(self, database_url: str, reason: object) -> None:
        # The database without the session limits the settings add to its URL.
        shown = database_identity(database_url)
        # The driver's first line says what failed (refused, unknown host, no such file).
        detail = str(getattr(reason, "orig", None) or reason).strip().splitlines()[0]
        super().__init__(
            f"Không kết nối được cơ sở dữ liệu {shown} ({detail}). Kiểm tra máy chủ cơ sở dữ "
            "liệu đã chạy chưa và TONGHOP_DATABASE_URL có đúng không; chưa có dữ liệu nào bị "
            "thay đổi, có thể chạy lại khi cơ sở dữ liệu hoạt động trở lại."
        )


class RunInProgress(TonghopError):
    """Another run holds the workspace."""

    def __init__(self, waited_seconds: float) -> None:
        waited = f" sau {waited_seconds:.0f} giây chờ" if waited_seconds >= 1 else ""
        super().__init__(
            "Một lần chạy khác đang thu thập hoặc tổng hợp dữ liệu của cùng cơ sở dữ liệu; lần "
            f"chạy này dừng lại{waited} và không thay đổi gì. Hãy chạy lại khi lần chạy kia "
            "kết thúc (xem trong giao diện Prefect)."
        )


# errno values that mean "no room": a full disk, or a user's quota used up.
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
# What SQLite (SQLITE_FULL) and PostgreSQL (SQLSTATE 53100) say when their disk is full.
_DATABASE_FULL = ("database or disk is full", "No space left on device", "could not extend file")


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` (or what it wraps) says a disk has no room left."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_ROOM:
            return True
        if getattr(current, "sqlstate", None) == "53100":
            return True
        if any(phrase in str(current) for phrase in _DATABASE_FULL):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not path.exists() or not path.is_mount():
        if path.parent == path:
            break
        path = path.parent
    return path


class DiskFull(TonghopError):
    """A disk has no room for what a run must write; says which disk, what it has free, what
    was needed (`needed`, when known beforehand, or how far the writing got, `written`), and
    what exists now (`kept`)."""

    def __init__(
        self, path: Path, doing: str, kept: str, needed: int | None = None, written: int = 0
    ) -> None:
        mount = _mount_point(Path(path))
        free = format_bytes(shutil.disk_usage(mount).free)
        if needed:
            room = f"cần khoảng {format_bytes(needed)} nhưng chỉ còn trống {free}"
        else:
            room = (
                f"còn trống {free}, không đủ: đã ghi được {format_bytes(written)} thì ổ đĩa "
                "đầy, nên cần nhiều hơn số còn trống"
            )
        super().__init__(
            f"Ổ đĩa chứa «{path}» (ổ gắn tại {mount}) không còn đủ chỗ để {doing}: {room}. "
            f"{kept} Hãy giải phóng dung lượng trên ổ đĩa này (hoặc chuyển thư mục làm việc sang "
            "ổ khác) rồi chạy lại."
        )


class DatabaseFull(TonghopError):
    """The database's disk is full: nothing of the transaction was stored."""

    def __init__(self, database_url: str, kept: str) -> None:
        url = make_url(database_url)
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite" and url.database:
            where = _mount_point(Path(url.database))
            disk = (
                f"ổ đĩa chứa tệp cơ sở dữ liệu {url.database} (ổ gắn tại {where}, còn trống "
                f"{format_bytes(shutil.disk_usage(where).free)})"
            )
        else:
            disk = f"ổ đĩa của máy chủ cơ sở dữ liệu {shown}"
        super().__init__(
            f"Cơ sở dữ liệu không ghi được vì {disk} đã đầy. {kept} Hãy giải phóng dung lượng "
            "trên ổ đĩa đó rồi chạy lại."
        )
