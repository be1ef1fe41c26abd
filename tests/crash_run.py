"""Run the quarterly flow and kill this very process with SIGKILL at a chosen point, the way a
power cut or an operator's `kill -9` would: `python -m tests.crash_run POINT PERIOD WORKSPACE`.
The fault tests run it, then run again normally and compare with an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

POINTS = (
    "after-archive",  # files archived, nothing stored
    "mid-load",  # submissions inserted, values half-way, transaction open
    "mid-consolidate",  # a new version's figures half-inserted, transaction open
    "mid-publish",  # the workbook written, the CSVs not
    "inside-file",  # a temporary file written, not yet moved into place
    "before-mark",  # every file written, the version not yet marked published
)
# Points that need a mailbox configured (tests/test_mail_collect.py).
MAIL_POINTS = ("before-mail-move",)  # the mailed submissions stored, the messages not moved


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _die_after(original: Callable[..., Any], when: Callable[..., bool]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            _die()
        return result

    return wrapped


def arm(point: str) -> None:
    """Patch the product so that it kills itself at `point`."""
    import tonghop.publishing
    import tonghop.submission_store
    import tonghop.versions
    import tonghop_tasks.collecting
    import tonghop_tasks.consolidating
    import tonghop_tasks.mailbox

    if point == "after-archive":
        tonghop_tasks.collecting.read_received = lambda *args, **kwargs: _die()
    elif point == "mid-load":
        tonghop.submission_store.execute_many = _die_after(
            tonghop.submission_store.execute_many,
            lambda _c, name, *a, **k: name == "insert_submission_value",
        )
    elif point == "mid-consolidate":
        tonghop.versions.execute_many = _die_after(
            tonghop.versions.execute_many,
            lambda _c, name, *a, **k: name == "insert_published_value",
        )
    elif point == "mid-publish":
        calls = []
        tonghop.publishing.write_atomically = _die_after(
            tonghop.publishing.write_atomically, lambda *a, **k: calls.append(1) or len(calls) == 1
        )
    elif point == "inside-file":
        original = tonghop.publishing.write_atomically

        def half_written(path: Path, write: Callable[[Path], None]) -> None:
            original(path, lambda temp: (write(temp), _die()))

        tonghop.publishing.write_atomically = half_written
    elif point == "before-mark":
        tonghop_tasks.consolidating.mark_published = lambda *args, **kwargs: _die()
    elif point == "before-mail-move":
        tonghop_tasks.mailbox.move_messages = lambda *args, **kwargs: _die()
    else:
        raise SystemExit(f"unknown point {point!r}; one of {', '.join(POINTS + MAIL_POINTS)}")


def main() -> None:
    point, period, workspace = sys.argv[1:4]
    from tonghop.config import quiet_libraries

    quiet_libraries()
    arm(point)
    from tonghop_flows.quarterly_report import quarterly_report

    quarterly_report(period, workspace)
    raise SystemExit(f"the run finished without reaching {point!r}")


if __name__ == "__main__":
    main()
