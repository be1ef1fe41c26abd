"""A database that hangs or dies: every connection gives up after the settings' timeouts, so a
frozen server fails the run as promptly and as clearly as a dead one; a connection lost or a
statement cancelled mid-run is the same "database unreachable" message; and clean-up (rollback,
closing, releasing the run lock) never replaces the error in flight nor fails a run that
succeeded. Servers that must freeze or die are private to the test, never the shared one."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests import private_postgres
from tests.conftest import POSTGRES_URL, free_port
from tests.private_postgres import PrivatePostgres
from tests.test_end_to_end import PERIOD, build_workspace
from tests.test_faults import ROOT, environment
from tonghop import locking
from tonghop.config import Settings
from tonghop.database_urls import database_identity, with_session_limits
from tonghop.errors import DatabaseUnavailable
from tonghop.locking import lock_key, run_lock
from tonghop.storage import execute_many, transaction
from tonghop_flows.import_registry import import_registry

UNREACHABLE = "Không kết nối được cơ sở dữ liệu"
# Run only where a PostgreSQL is configured (as .ci/run does); deselected elsewhere, not skipped.
needs_postgres = pytest.mark.postgresql
on_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
needs_private_server = pytest.mark.usefixtures("private_server_possible")


@pytest.fixture(scope="session")
def private_server_possible() -> None:
    """These tests start their own PostgreSQL: the machine must have its binaries (CI does)."""
    assert private_postgres.available(), (
        "a private PostgreSQL needs the PostgreSQL 15 binaries (Debian postgresql-15) and, as "
        "root, the postgres user"
    )


# --- the settings' limits in the URL -------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "expected_query"),
    [
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/test",
            {"connect_timeout": "10", "options": "-c statement_timeout=600000"},
        ),
        # the tests' own options are kept, the limit joins them
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dt_1",
            {
                "connect_timeout": "10",
                "options": "-csearch_path=t_1 -c statement_timeout=600000",
            },
        ),
        # what the operator wrote in the URL wins
        (
            "postgresql+psycopg://u:p%40ss@db/t?connect_timeout=3&options=-c%20statement_timeout%3D5s",
            {"connect_timeout": "3", "options": "-c statement_timeout=5s"},
        ),
        (
            "postgresql+psycopg://u@db/t?options=--statement-timeout%3D1min",
            {"connect_timeout": "10", "options": "--statement-timeout=1min"},
        ),
    ],
)
def test_a_postgresql_url_gets_the_session_limits_unless_it_sets_them(
    configured: str, expected_query: dict[str, str]
) -> None:
    resolved = Settings(database_url=configured).resolved_database_url
    assert dict(make_url(resolved).query) == expected_query
    assert make_url(resolved).password == make_url(configured).password
    # the same database for the run lock and in messages, with the limits or without
    assert database_identity(resolved) == database_identity(configured)
    assert lock_key(resolved) == lock_key(configured)
    assert "statement_timeout" not in database_identity(resolved)
    assert "p@ss" not in database_identity(resolved)


def test_no_limit_is_added_when_turned_off_nor_to_sqlite(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    off = Settings(
        database_url=url,
        database_connect_timeout_seconds=0,
        database_statement_timeout_seconds=0,
    )
    assert off.resolved_database_url == url
    sqlite = Settings(workspace=tmp_path).resolved_database_url
    assert sqlite == f"sqlite:///{(tmp_path / 'tonghop.db').resolve()}"
    assert with_session_limits(sqlite, 10, 600) == sqlite


def test_an_unreachable_database_is_named_without_the_limits() -> None:
    url = with_session_limits("postgresql+psycopg://tonghop:secret@db:5432/tonghop", 10, 600)
    message = str(DatabaseUnavailable(url, "connection timeout expired"))
    assert f"{UNREACHABLE} postgresql+psycopg://tonghop:***@db:5432/tonghop (" in message
    assert "connection timeout expired" in message


@needs_postgres
@on_postgres
def test_every_connection_from_the_settings_url_has_the_limits(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    with transaction(url) as connection:
        assert connection.execute(text("show statement_timeout")).scalar() == "10min"
        parameters = connection.connection.dbapi_connection.info.get_parameters()
        assert parameters["connect_timeout"] == "10"
        # the test's schema still applies: options were merged, not replaced
        assert connection.execute(text("show search_path")).scalar().startswith("t_")


# --- lost or cancelled mid-query: the same message ------------------------------------------


def _terminate(pid: int) -> None:
    """End a backend of the shared server from another session, as an administrator or a
    crash of that backend would, and wait until it is gone."""
    admin = create_engine(POSTGRES_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(
                text("select pg_terminate_backend(:pid, 10000)"), {"pid": pid}
            ).scalar()
    finally:
        admin.dispose()


@needs_postgres
@on_postgres
def test_a_statement_timeout_is_database_unavailable(database_url: str) -> None:
    url = with_session_limits(database_url, 10, 0.2)
    with pytest.raises(DatabaseUnavailable) as raised, transaction(url) as connection:
        connection.execute(text("select pg_sleep(5)"))
    assert "canceling statement due to statement timeout" in str(raised.value)
    assert "statement_timeout" not in str(raised.value)  # the database named without limits


@needs_postgres
@on_postgres
@pytest.mark.parametrize("through", ["sqlalchemy", "driver"])
def test_a_connection_lost_mid_transaction_is_database_unavailable(
    database_url: str, through: str
) -> None:
    with pytest.raises(DatabaseUnavailable) as raised, transaction(database_url) as connection:
        _terminate(connection.execute(text("select pg_backend_pid()")).scalar())
        if through == "sqlalchemy":
            connection.execute(text("select 1"))
        else:  # COPY goes to the driver directly, past SQLAlchemy
            execute_many(
                connection,
                "insert_unit_closure",
                [{"ancestor": "P", "descendant": "P", "depth": 0}],
            )
    assert UNREACHABLE in str(raised.value)
    # and the next transaction simply reconnects
    with transaction(database_url) as connection:
        assert connection.execute(text("select 1")).scalar() == 1


@needs_postgres
@on_postgres
def test_a_dead_connection_never_replaces_the_error_in_flight(database_url: str) -> None:
    class Defect(Exception):
        pass

    with pytest.raises(Defect), transaction(database_url) as connection:
        _terminate(connection.execute(text("select pg_backend_pid()")).scalar())
        raise Defect("the body's own failure, whose rollback then fails")


# --- releasing the run lock ------------------------------------------------------------------


def _lock_holder(database_url: str) -> int:
    """The backend holding the run lock of this database: its advisory lock, by number."""
    key = lock_key(database_url) & 0xFFFF_FFFF_FFFF_FFFF
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            return connection.execute(
                text(
                    "select pid from pg_locks where locktype = 'advisory' and granted "
                    "and classid::bigint = :high and objid::bigint = :low and objsubid = 1"
                ),
                {"high": key >> 32, "low": key & 0xFFFF_FFFF},
            ).scalar_one()
    finally:
        admin.dispose()


@needs_postgres
@on_postgres
def test_a_lost_lock_session_never_hides_why_the_run_failed(database_url: str) -> None:
    failure = DatabaseUnavailable(database_url, "server closed the connection unexpectedly")
    with pytest.raises(DatabaseUnavailable) as raised, run_lock(database_url, wait_seconds=0):
        _terminate(_lock_holder(database_url))
        raise failure
    assert raised.value is failure


@needs_postgres
@on_postgres
def test_a_lost_lock_session_does_not_fail_a_run_that_succeeded(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="tonghop.locking"),
        run_lock(database_url, wait_seconds=0),
    ):
        _terminate(_lock_holder(database_url))
    assert "Không giải phóng được khóa chạy" in caplog.text
    # the server released it with the session: the next run takes it at once
    with run_lock(database_url, wait_seconds=0):
        pass


@pytest.mark.parametrize("in_flight", [True, False])
def test_a_failing_release_is_only_logged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    in_flight: bool,
) -> None:
    """Whatever the lock (file or advisory), its release failing changes nothing else."""

    def failing_release() -> None:
        raise OSError("the lock's file system went away")

    monkeypatch.setattr(locking, "_lock_functions", lambda _url: ((lambda: True), failing_release))
    failure = DatabaseUnavailable("sqlite:///x.db", "disk I/O error")
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    with caplog.at_level(logging.WARNING, logger="tonghop.locking"):
        if in_flight:
            with pytest.raises(DatabaseUnavailable) as raised, run_lock(url, wait_seconds=0):
                raise failure
            assert raised.value is failure
        else:
            with run_lock(url, wait_seconds=0):
                pass
    assert "the lock's file system went away" in caplog.text


# --- a private server that freezes or dies ---------------------------------------------------


@pytest.fixture(scope="module")
def private_server() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this module's own, stopped (thawed first) whatever happens."""
    server = PrivatePostgres(free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_database(private_server: PrivatePostgres) -> Iterator[str]:
    """A fresh database on the private server, its URL as an operator would configure it."""
    if not private_server.running:  # a test before this one crashed it
        private_server.start()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(private_server.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"create database {name}"))
    try:
        yield private_server.url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        private_server.thaw()
        if not private_server.running:
            private_server.start()
        with admin.connect() as connection:
            connection.execute(text(f"drop database {name} with (force)"))
        admin.dispose()


@pytest.fixture
def private_imported(
    tmp_path: Path,
    private_database: str,
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
) -> Path:
    """The end-to-end workspace with its registry imported into the private database."""
    root = build_workspace(tmp_path / "workspace")
    with monkeypatch.context() as patch:
        patch.setenv("TONGHOP_DATABASE_URL", private_database)
        assert import_registry(str(root / "registry.csv"), str(root)).problems == []
    return root


@contextmanager
def frozen(server: PrivatePostgres) -> Iterator[None]:
    """The server's postmaster stopped dead for the block (sessions already open keep working,
    new ones are accepted by the kernel and never answered), then thawed whatever happens."""
    server.freeze()
    try:
        yield
    finally:
        server.thaw()


def _cli_run(root: Path, env: dict[str, str], *prefix: str, timeout: float = 120) -> tuple:
    """`tonghop run` in its own process: its result and how long it took."""
    command = [sys.executable, *prefix, "run", "--period", PERIOD, "--workspace", str(root)]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the run was still going after {timeout:.0f} s: {expired.stdout!r}")
    return result, time.monotonic() - started


def _assert_told_unreachable(result: subprocess.CompletedProcess, database_url: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # the database as configured: no password in it, and none of the limits added to it
    assert f"{UNREACHABLE} {database_url} (" in " ".join(result.stdout.split())
    assert "Traceback" not in output
    assert "Lỗi ngoài dự kiến" not in output and "quản trị" not in output
    assert "pg_advisory_unlock" not in output


@needs_private_server
def test_a_frozen_database_fails_the_run_promptly_with_a_clear_message(
    private_imported: Path, private_database: str, private_server: PrivatePostgres
) -> None:
    root = private_imported
    env = environment(
        private_database,
        TONGHOP_DATABASE_CONNECT_TIMEOUT_SECONDS="2",
        TONGHOP_DATABASE_RETRIES="2",
        TONGHOP_DATABASE_RETRY_SECONDS="0.2",
    )
    with frozen(private_server):
        result, seconds = _cli_run(root, env, "-m", "tonghop_flows.cli")
    _assert_told_unreachable(result, private_database)
    assert "connection timeout expired" in result.stdout
    assert seconds < 60, f"{seconds:.0f} s"
    assert not list((root / "archive").rglob("*.*"))  # nothing was started
    assert not (root / "published" / PERIOD).exists()


@needs_private_server
def test_a_frozen_database_fails_storage_and_the_lock_within_the_connect_timeout(
    private_database: str, private_server: PrivatePostgres
) -> None:
    # A URL of its own: this process has no engine for it yet, so nothing already connected.
    url = with_session_limits(private_database, 2, 600)
    with frozen(private_server):
        started = time.monotonic()
        with (
            pytest.raises(DatabaseUnavailable, match="connection timeout expired"),
            transaction(url),
        ):
            pass
        assert time.monotonic() - started < 15
        started = time.monotonic()
        with (
            pytest.raises(DatabaseUnavailable, match="connection timeout expired"),
            run_lock(url, wait_seconds=0),
        ):
            pass
        assert time.monotonic() - started < 15


@needs_private_server
def test_a_database_that_dies_mid_run_is_told_as_unreachable(
    private_imported: Path, private_database: str, private_server: PrivatePostgres
) -> None:
    root = private_imported
    env = environment(private_database, TONGHOP_DATABASE_CONNECT_TIMEOUT_SECONDS="2")
    hook = ("-m", "tests.dying_database_run", str(private_server.pid), str(private_server.port))
    result, _ = _cli_run(root, env, *hook, timeout=300)
    assert not private_server.running, "the server was not crashed mid-run"
    _assert_told_unreachable(result, private_database)
    assert not (root / "published" / PERIOD).exists()
