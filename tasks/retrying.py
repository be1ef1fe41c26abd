"""When a failed task is worth running again: a database or a file that fails for a moment may
pass on the next attempt; a full disk does not free itself, so the run stops at once with its
message instead of waiting through every retry."""

from __future__ import annotations

from typing import Any

from tonghop.errors import DatabaseFull, DiskFull


def worth_retrying(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`: retry anything but a full disk."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception:  # a result that cannot be read says nothing against retrying
        return True
    return not isinstance(error, DiskFull | DatabaseFull)
