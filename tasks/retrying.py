"""When a failed task is worth running again: only input and output that fail for a moment —
a database that drops the connection or cannot be reached, a file system or network error —
may pass on the next attempt. A full disk does not free itself, and a mistake in the data or
the code fails the same way every time: those stop the run at once with their message instead
of waiting through every retry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from tonghop.errors import DatabaseFull, DatabaseUnavailable, DiskFull, is_disk_full

# Errors of input and output that a later attempt may not meet.
TRANSIENT = (OSError, TimeoutError, DatabaseUnavailable, OperationalError, InterfaceError)
NEVER = (DiskFull, DatabaseFull)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and those it was raised from or during, each once."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def worth_retrying(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`: retry a transient I/O error, never a full disk."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception:  # a result that cannot be read says nothing against retrying
        return True
    if not isinstance(error, BaseException):
        return False
    chain = list(_chain(error))
    if any(isinstance(link, NEVER) for link in chain) or is_disk_full(error):
        return False
    return any(isinstance(link, TRANSIENT) for link in chain)
