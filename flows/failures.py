"""How a run fails in front of an operator. A failure the operator can act on (a TonghopError:
the database down, a disk full, mail refused…) ends the run with one short Vietnamese line in
its log, no traceback, and a state message that starts with what to do — the UI shows a long
message cut short, and the notification e-mail carries it whole. A defect (any other exception)
fails the run as Prefect does, traceback included, for whoever maintains the system.

After fixing the cause, the operator presses Retry on the failed run: it runs again with the same
parameters, and every flow is safe to run again (nothing is stored, published or sent twice).
Starting a new run from the deployment is as safe; Retry keeps the period the failed run had."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import get_run_logger
from prefect.states import Failed, State

from tonghop.errors import (
    DatabaseFull,
    DatabaseUnavailable,
    DiskFull,
    RunInProgress,
    TonghopError,
)
from tonghop.mailbox import MailboxUnavailable
from tonghop.outbox import MailNotConfigured, MailNotSent
from tonghop.periods import PeriodError

P = ParamSpec("P")
R = TypeVar("R")

RETRY = "bấm Retry trên trang lần chạy này"
# What to do about each failure the domain explains; the first class that matches wins. A flow's
# own failure says it in its `action` attribute.
ACTIONS: tuple[tuple[type[TonghopError], str], ...] = (
    (
        DatabaseUnavailable,
        "Khởi động máy chủ cơ sở dữ liệu hoặc sửa TONGHOP_DATABASE_URL, rồi " + RETRY,
    ),
    (RunInProgress, "Chờ lần chạy đang xử lý cùng dữ liệu kết thúc, rồi " + RETRY),
    (DiskFull, "Giải phóng dung lượng ổ đĩa được nêu dưới đây, rồi " + RETRY),
    (DatabaseFull, "Giải phóng dung lượng ổ đĩa của cơ sở dữ liệu, rồi " + RETRY),
    (PeriodError, "Chạy lại với kỳ báo cáo viết đúng dạng, ví dụ 2025Q3"),
    (
        MailNotConfigured,
        "Cấu hình máy chủ thư (khối Email Server Credentials trong trang Blocks và "
        "TONGHOP_EMAIL_BLOCK, hoặc TONGHOP_SMTP_HOST), rồi " + RETRY,
    ),
    (
        MailNotSent,
        "Sửa địa chỉ thư của đơn vị hoặc cấu hình máy chủ thư theo lý do dưới đây, rồi "
        + RETRY
        + " (chỉ những thư chưa gửi được sẽ được gửi)",
    ),
    (MailboxUnavailable, "Kiểm tra hộp thư điện tử của tỉnh (TONGHOP_IMAP_*), rồi " + RETRY),
)
DEFAULT_ACTION = "Khắc phục theo lý do dưới đây, rồi " + RETRY


def action_for(error: TonghopError) -> str:
    """What the operator should do about `error`."""
    own = getattr(error, "action", None)
    if own:
        return own
    return next((action for kind, action in ACTIONS if isinstance(error, kind)), DEFAULT_ACTION)


def state_message(error: TonghopError) -> str:
    """The failed run's state message: what to do first, then why."""
    return f"Cần làm: {action_for(error)}. Lý do: {error}"


def explained(fn: Callable[P, R]) -> Callable[P, R | State]:
    """A flow's body whose TonghopError ends the run Failed with `state_message`, also its one
    ERROR line in the run's log; the error itself still reaches whoever called the flow (the
    command line, an enclosing run), as the failed state's result."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> R | State:
        try:
            return fn(*args, **kwargs)
        except TonghopError as error:
            message = state_message(error)
            get_run_logger().error(message)
            return Failed(message=message, data=error)

    # Prefect reads the parameters and their types (the run form, the validation) from the
    # function it is given: resolved here, against the flow's own module.
    run.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return run
