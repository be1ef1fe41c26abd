"""Which failed task runs are tried again: transient input and output, never a full disk nor a
mistake that would fail the same way every time."""

from __future__ import annotations

import errno
from dataclasses import dataclass

import pytest
from sqlalchemy.exc import OperationalError

from tonghop.errors import DatabaseUnavailable
from tonghop_tasks.retrying import worth_retrying


@dataclass
class Failed:
    """A failed state as Prefect hands it to `retry_condition_fn`."""

    error: BaseException

    def result(self, raise_on_failure: bool = True) -> BaseException:
        return self.error


def raised_from(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


def lost_connection() -> OperationalError:
    return OperationalError("select 1", {}, ConnectionResetError("server closed the connection"))


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (lost_connection(), True),
        (DatabaseUnavailable("sqlite:///x.db", ConnectionRefusedError(111, "refused")), True),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), True),
        (PermissionError(errno.EACCES, "Permission denied"), True),
        (raised_from(RuntimeError("while writing"), TimeoutError()), True),
        (OSError(errno.ENOSPC, "No space left on device"), False),
        (OperationalError("insert", {}, Exception("database or disk is full")), False),
        (ValueError("a figure that is not a number"), False),
        (KeyError("members"), False),
        (raised_from(RuntimeError("while writing"), OSError(errno.ENOSPC, "full")), False),
    ],
)
def test_only_transient_input_and_output_is_tried_again(error, retried) -> None:
    assert worth_retrying(None, None, Failed(error)) is retried


def test_a_result_that_cannot_be_read_is_tried_again() -> None:
    class Unreadable:
        def result(self, raise_on_failure: bool = True) -> None:
            raise RuntimeError("result storage is gone")

    assert worth_retrying(None, None, Unreadable()) is True
