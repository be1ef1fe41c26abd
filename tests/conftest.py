"""Shared fixtures: one Prefect test server for the session, and a fresh database for each test
on SQLite and, when TONGHOP_TEST_DATABASE_URL is set, on PostgreSQL too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tonghop.config import quiet_libraries

quiet_libraries()

POSTGRES_URL = os.environ.get("TONGHOP_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect server and database for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


@pytest.fixture
def imported(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> Path:
    """The end-to-end workspace (tests/test_end_to_end.py) with its registry imported into the
    test's database and nothing collected yet; flows called in the test use that database."""
    from flows.import_registry import import_registry
    from tests.test_end_to_end import build_workspace

    root = build_workspace(tmp_path / "workspace")
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    assert import_registry(str(root / "registry.csv"), str(root)) == []
    return root
