"""One run at a time per database: collection, consolidation and registry import hold the run
lock, so that two runs never interleave. PostgreSQL gives a session advisory lock and SQLite a
lock on a file beside the database; the operating system or the server releases either when the
holder dies, so a killed run never blocks the next one."""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from logging import Logger, LoggerAdapter, getLogger
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tonghop.database_urls import database_identity
from tonghop.errors import DatabaseUnavailable, RunInProgress
from tonghop.storage import load_sql, out_of_reach

_log = getLogger(__name__)


def lock_key(database_url: str) -> int:
    """The advisory lock number of a database (a signed 64-bit integer): the same for every URL
    that names it, with or without the session limits the settings add."""
    name = database_identity(database_url)
    digest = hashlib.sha256(f"tonghop-run|{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def run_lock(
    database_url: str,
    wait_seconds: float,
    on_wait: Callable[[], None] | None = None,
    poll_seconds: float = 0.5,
    logger: Logger | LoggerAdapter | None = None,
) -> Iterator[None]:
    """Hold the database's run lock, waiting up to `wait_seconds` for another run to end, then
    refusing with `RunInProgress`; `on_wait` is called once when the wait begins. Releasing
    never fails the run nor hides why the body failed: a failed release is logged on `logger`
    (by default this module's). Taken once, where a run starts: a run's steps are handed its
    context and never take it again, so a second taking is another run and waits its turn."""
    try_lock, release = _lock_functions(database_url)
    started = time.monotonic()
    waited = False
    try:
        while not try_lock():
            elapsed = time.monotonic() - started
            if elapsed >= wait_seconds:
                raise RunInProgress(elapsed)
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            time.sleep(min(poll_seconds, max(0.0, wait_seconds - elapsed)))
        yield
    finally:
        _release(release, logger or _log)


def _release(release: Callable[[], None], logger: Logger | LoggerAdapter) -> None:
    """Release the lock without letting a failure escape: this runs while the body's error is
    in flight (the database that failed the body has often failed the lock's session too), and
    after a successful body a lock that cannot be released is harmless — the server drops a
    session's advisory locks when the session ends, the system a file lock when it is closed."""
    try:
        release()
    except Exception as error:
        logger.warning(
            "Không giải phóng được khóa chạy (%s); khóa tự được giải phóng khi phiên làm việc "
            "với cơ sở dữ liệu kết thúc, các lần chạy sau không bị ảnh hưởng.",
            _first_line(error),
        )


def _first_line(error: BaseException) -> str:
    said = str(getattr(error, "orig", None) or error).strip()
    return said.splitlines()[0] if said else type(error).__name__


def _lock_functions(database_url: str) -> tuple[Callable[[], bool], Callable[[], None]]:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return _advisory_lock(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return _file_lock(Path(f"{url.database}.run-lock"))
    return (lambda: True), (lambda: None)


def _advisory_lock(database_url: str) -> tuple[Callable[[], bool], Callable[[], None]]:
    engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        connection = engine.connect()
    except DBAPIError as error:
        engine.dispose()
        raise DatabaseUnavailable(database_url, error) from error
    key = {"key": lock_key(database_url)}
    held = False

    def try_lock() -> bool:
        nonlocal held
        try:
            held = bool(connection.execute(text(load_sql("lock_run")), key).scalar())
        except DBAPIError as error:
            # Lost while waiting for another run, or timed out: the same message as a database
            # that could not be reached at all.
            if out_of_reach(error):
                raise DatabaseUnavailable(database_url, error) from error
            raise
        return held

    def release() -> None:
        # Each step runs whatever the one before did: the session's end is what matters, and
        # closing it releases the lock even when the unlock failed.
        try:
            if held:
                connection.execute(text(load_sql("unlock_run")), key)
        finally:
            try:
                connection.close()
            finally:
                engine.dispose()

    return try_lock, release


def _file_lock(path: Path) -> tuple[Callable[[], bool], Callable[[], None]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")

    def try_lock() -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release() -> None:
        # Closing the file releases the lock; the file itself stays, empty, for the next run.
        handle.close()

    return try_lock, release
