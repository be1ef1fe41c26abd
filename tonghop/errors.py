"""Errors an operator can act on, each carrying its Vietnamese explanation: the command line
prints the message alone, and a Prefect flow run that fails on one shows it as its state."""

from __future__ import annotations

from tonghop.database_urls import database_identity


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
