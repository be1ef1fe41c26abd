"""Running SQL: engines and transactions (with a database that cannot be reached, or whose disk
is full, told as such), the schema and its upgrades, and the helpers every area's queries use to
run the SQL files of `sql/` — loading them, bulk inserts (COPY on PostgreSQL), selects as
frames. What each area asks of the database lives with that area (registry_store,
submission_store, versions, aggregation, audit, …); SQLite inside the workspace by default,
PostgreSQL in production."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from logging import getLogger
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import (
    Connection,
    Engine,
    String,
    TextClause,
    bindparam,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError

from tonghop.errors import DatabaseFull, DatabaseUnavailable, is_disk_full
from tonghop.resources import resource_dir

SQL_DIR = resource_dir("sql")
_log = getLogger(__name__)


# SQL files are Jinja templates, as dbt's models are, so that what several queries share (the
# definition of an active unit, sql/is_active.sql) is written once; they take no variables.
_TEMPLATES = Environment(
    loader=FileSystemLoader(SQL_DIR),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql`, its macros expanded."""
    return _TEMPLATES.get_template(f"{name}.sql").render()


def sql_statement(name: str, params: Mapping[str, Any]) -> TextClause:
    """`sql/<name>.sql` ready for `params`: every list among them bound as an expanding list of
    strings (`unit_code in :codes`). Typed on purpose: for an untyped list SQLAlchemy inspects
    the values and imports its ORM lazily, which can race the thread importing Great
    Expectations while the files are read."""
    statement = text(load_sql(name))
    lists = [key for key, value in params.items() if isinstance(value, (list, tuple))]
    if lists:
        statement = statement.bindparams(
            *(bindparam(key, expanding=True, type_=String()) for key in lists)
        )
    return statement


def statements(name: str) -> list[str]:
    """The statements of a multi-statement SQL file, split on the semicolons that end lines."""
    return [part.strip() for part in load_sql(name).split(";\n") if part.strip(" \n;")]


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign-key-free WAL mode so readers never block."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("pragma journal_mode=wal")
            cursor.execute("pragma synchronous=normal")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


# Columns added since the first schema, each with the file that adds it (and fills it in) on a
# database created before; create_schema.sql has them for a new one.
ADDED_COLUMNS = (
    ("submission", "raw_file_name", "alter_submission_add_raw_file_name"),
    ("submission", "arrival", "alter_submission_add_arrival"),
    ("submission", "sender", "alter_submission_add_sender"),
    ("published_status", "quarters", "alter_published_status_add_quarters"),
)


# Tables replaced since the first schema, each with the file that moves its rows into the tables
# of create_schema.sql and drops it.
REPLACED_TABLES = (
    ("reminder", "move_mail_to_outbox"),
    ("unit_before_versions", "move_units_to_versions"),
)


def create_schema(engine: Engine) -> None:
    """Bring an older database's tables up to date, create every table and view missing, then
    move the rows of replaced tables into their successors."""
    with engine.begin() as connection:
        upgrade_schema(connection)
        for statement in statements("create_schema"):
            connection.execute(text(statement))
        inspector = inspect(connection)
        for table, upgrade in REPLACED_TABLES:
            if inspector.has_table(table):
                for statement in statements(upgrade):
                    connection.execute(text(statement))


def upgrade_schema(connection: Connection) -> None:
    """Add the columns an existing database lacks (see ADDED_COLUMNS), set aside a registry
    from before versions, and widen the period columns for longer periods."""
    inspector = inspect(connection)
    for table, column, upgrade in ADDED_COLUMNS:
        if not inspector.has_table(table):
            continue  # a new database: create_schema.sql makes the table whole
        if column not in _columns(inspector, table):
            for statement in statements(upgrade):
                connection.execute(text(statement))
    if inspector.has_table("unit") and "registry_version" not in _columns(inspector, "unit"):
        for statement in statements("rename_units_before_versions"):
            connection.execute(text(statement))
    if connection.dialect.name == "postgresql" and inspector.has_table("publication"):
        period = next(c for c in inspector.get_columns("publication") if c["name"] == "period")
        if getattr(period["type"], "length", None) == 8:
            for statement in statements("alter_period_columns_widen"):
                connection.execute(text(statement))


def _columns(inspector: Any, table: str) -> set[str]:
    return {found["name"] for found in inspector.get_columns(table)}


# One engine per database URL in a process, made (with the schema put in place) on first use.
_ENGINES: dict[str, Engine] = {}
_ENGINES_GUARD = threading.Lock()


def engine_for(url: str) -> Engine:
    """An engine with the schema in place, made once per process and URL."""
    with _ENGINES_GUARD:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = make_engine(url)
            try:
                create_schema(engine)
            except DBAPIError as error:
                engine.dispose()
                raise DatabaseUnavailable(url, error) from error
            _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection this process holds and forget the engines: a long-lived
    process that has used many databases (a test session) need not keep a pool for each."""
    with _ENGINES_GUARD:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def out_of_reach(error: BaseException) -> bool:
    """Whether an error, raised through SQLAlchemy or by the driver itself (COPY), says that the
    database failed rather than the statement: the connection was lost (SQLAlchemy invalidated
    it, or psycopg reports no server state, as when the server crashed or the network broke)
    or the server ended or cancelled the work (class 08, connection exceptions; class 57,
    shutdowns and the statement timeout)."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    if not isinstance(error, psycopg.OperationalError):
        return False
    return error.sqlstate is None or error.sqlstate.startswith(("08", "57"))


def _quietly(cleanup: Callable[[], object]) -> None:
    """Run a clean-up step that must never replace the error in flight: rolling back or
    closing a connection the server already dropped fails, and has nothing left to undo (the
    server ends the transaction with the session; the pool discards the connection)."""
    try:
        cleanup()
    except Exception as error:
        _log.debug("Clean-up step %s failed: %s", cleanup, error)


@contextmanager
def transaction(url: str) -> Iterator[Connection]:
    """A connection in a transaction, committed on success and rolled back on any failure; a
    database that cannot be reached, or is lost on the way, raises `DatabaseUnavailable`."""
    engine = engine_for(url)
    try:
        connection = engine.connect()
    except DBAPIError as error:
        raise DatabaseUnavailable(url, error) from error
    try:
        begun = connection.begin()
        try:
            yield connection
        except BaseException:
            # The failure that ended the body is the one to tell, not the rollback's.
            _quietly(begun.rollback)
            raise
        begun.commit()
    except Exception as error:
        if out_of_reach(error):
            raise DatabaseUnavailable(url, error) from error
        if is_disk_full(error):
            raise DatabaseFull(
                url, "Giao dịch đã được huỷ: không có gì của lần ghi này được lưu."
            ) from error
        raise
    finally:
        _quietly(connection.close)


# `insert into t (a, b) values (:a, :b)`: the shape PostgreSQL can load with COPY instead.
_PLAIN_INSERT = re.compile(
    r"^\s*insert\s+into\s+(\w+)\s*\(([\w\s,]+)\)\s*values\s*\(([:\w\s,]+)\)\s*$",
    re.IGNORECASE,
)


# Rows a bulk load must bring before PostgreSQL's statistics of the table are refreshed (its
# autovacuum keeps up with small ones).
ANALYZE_AFTER_ROWS = 1_000


def _refresh_statistics(connection: Connection, table: str) -> None:
    """Fresh planner statistics of a table after a bulk load: without them PostgreSQL chose
    nested loops over 20,000 units (90 s for one roll-up query) and SQLite, which has none
    until asked, nested a scan of every counted submission inside a registry's closure. SQLite
    samples a bounded number of rows per index, so that this stays milliseconds at any size."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("pragma analysis_limit = 1000")
    connection.exec_driver_sql(f"analyze {table}")


def execute_many(
    connection: Connection, name: str, rows: Sequence[Mapping[str, Any]], batch_rows: int = 50_000
) -> None:
    """Run an insert file over many rows in bulk: COPY on PostgreSQL when the file is a plain
    insert, else the driver's own executemany. SQLAlchemy's per-row parameter handling is
    skipped on purpose: it cost more than the database itself at a province's scale."""
    if not rows:
        return
    sql = load_sql(name)
    plain = _PLAIN_INSERT.match(sql)
    if connection.dialect.name == "postgresql" and plain:
        table, columns = plain.group(1), [c.strip() for c in plain.group(2).split(",")]
        bound = [b.strip().removeprefix(":") for b in plain.group(3).split(",")]
        if bound == columns:
            _copy_rows(connection, table, columns, rows)
            if len(rows) >= ANALYZE_AFTER_ROWS:
                _refresh_statistics(connection, table)
            return
    compiled = text(sql).compile(dialect=connection.dialect)
    statement = str(compiled)
    order = compiled.positiontup
    cursor = connection.connection.cursor()
    try:
        for start in range(0, len(rows), batch_rows):
            batch = rows[start : start + batch_rows]
            if order:
                cursor.executemany(statement, [tuple(row[key] for key in order) for row in batch])
            else:
                cursor.executemany(statement, [dict(row) for row in batch])
    finally:
        cursor.close()
    # SQLite after every load, however small: it keeps no statistics by itself, and numbers
    # taken while a table was small would mislead it as much as none once it has grown.
    if plain and (connection.dialect.name == "sqlite" or len(rows) >= ANALYZE_AFTER_ROWS):
        _refresh_statistics(connection, plain.group(1))


def _copy_rows(
    connection: Connection, table: str, columns: list[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Stream rows into a PostgreSQL table with COPY, in the connection's transaction."""
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
            for row in rows:
                copy.write_row(tuple(row[column] for column in columns))
    finally:
        cursor.close()


# Rows fetched at a time: a province's 800,000 figures never sit in memory as tuples all at once.
FETCH_ROWS = 50_000


def rows_frame(cursor: Any, columns: Sequence[str]) -> pd.DataFrame:
    """Every row left in a DB-API `cursor` as a frame, as `DataFrame.from_records` makes of them
    all, but each distinct text held once: the driver makes a new string for every cell, and a
    version's figures repeat 20,000 unit codes and 40 indicator codes 800,000 times — some
    150 MB in the run's process, and in each process the frame is sent to."""
    held: dict[str, str] = {}
    parts: list[pd.DataFrame] = []
    while rows := cursor.fetchmany(FETCH_ROWS):
        part = pd.DataFrame.from_records(rows, columns=list(columns))
        for index, dtype in enumerate(part.dtypes):
            if dtype == "str":
                # Hashed in C; only the chunk's distinct texts go through Python.
                codes, distinct = pd.factorize(part.iloc[:, index])
                texts = [held.setdefault(text, text) for text in distinct]
                shared = np.array([*texts, None], dtype=object)
                part.isetitem(index, pd.array(shared[codes], dtype=dtype))  # -1: the None
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=list(columns))
    if len(parts) == 1:
        return parts[0]
    _same_dtypes(parts)
    return pd.concat(parts, ignore_index=True)


def _same_dtypes(parts: list[pd.DataFrame]) -> None:
    """Give a chunk's column with no value at all (objects, all None) the type the other chunks
    found for it, as one frame of every row would have had it."""
    for index in range(parts[0].shape[1]):
        empty = [part for part in parts if part.iloc[:, index].isna().all()]
        found = {part.dtypes.iloc[index] for part in parts if part.iloc[:, index].notna().any()}
        if not empty or len(found) != 1:
            continue
        dtype = found.pop()
        if pd.api.types.is_integer_dtype(dtype):
            dtype = np.dtype("float64")  # integers beside a missing one: floats, NaN for it
        elif pd.api.types.is_bool_dtype(dtype):
            continue  # booleans beside a missing one stay objects
        for part in empty:
            part.isetitem(index, part.iloc[:, index].astype(dtype))


def select_frame(
    connection: Connection, name: str, parse_dates: Iterable[str] = (), **params: Any
) -> pd.DataFrame:
    """Run a select file and return its rows as a DataFrame (a list parameter binds as an
    expanding list, see `sql_statement`)."""
    result = connection.execute(sql_statement(name, params), params)
    columns = list(result.keys())
    # The driver's own rows, plain tuples: a textual select has no result processing to lose,
    # and making SQLAlchemy's Row objects of a province's 800,000 figures cost more than the
    # query itself.
    frame = (
        rows_frame(result.cursor, columns)
        if result.cursor is not None
        else pd.DataFrame(columns=columns)
    )
    result.close()
    for column in parse_dates:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    return frame
