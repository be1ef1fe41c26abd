"""Shared fixtures: one Prefect test server for the session (one for all workers when the suite
runs in parallel with pytest-xdist), a fresh database for each test on SQLite and, when
TONGHOP_TEST_DATABASE_URL is set, on PostgreSQL too, and a real SMTP server on 127.0.0.1 that
refuses or fails on demand for the tests of e-mail."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tonghop.config import quiet_libraries
from tonghop.storage import dispose_engines

quiet_libraries()

POSTGRES_URL = os.environ.get("TONGHOP_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of PostgreSQL alone run where one is configured, and are left out elsewhere."""
    if POSTGRES_URL:
        return
    kept = [item for item in items if item.get_closest_marker("postgresql") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


# Set by the controller of a parallel run for its workers: the API of the one shared server.
SHARED_PREFECT_API = "TONGHOP_TEST_PREFECT_API_URL"


def pytest_configure(config: pytest.Config) -> None:
    """In a parallel run, the controller starts one Prefect server for every worker before the
    workers start (they inherit its address), instead of one server per worker."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    folder = Path(tempfile.mkdtemp(prefix="tonghop-prefect-"))
    database = f"sqlite+aiosqlite:///{folder / 'prefect.db'}"
    prefect_database = None
    if POSTGRES_URL:
        # Every worker writes flow and task runs at once: on SQLite the server's writers wait
        # on each other ("database is locked" in its log); PostgreSQL, as in production, not.
        prefect_database = f"tonghop_prefect_{uuid.uuid4().hex[:12]}"
        _admin_execute(f"create database {prefect_database}")
        url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", query={})
        database = url.set(database=prefect_database).render_as_string(hide_password=False)
    with temporary_settings({PREFECT_SERVER_DATABASE_CONNECTION_URL: database}):
        server = SubprocessASGIServer(port=free_port())
        server.start(timeout=120)
    os.environ["PREFECT_API_URL"] = os.environ[SHARED_PREFECT_API] = server.api_url
    config.stash[_SHARED_SERVER] = (server, folder, prefect_database)


_SHARED_SERVER = pytest.StashKey[tuple[object, Path, str | None]]()


def _admin_execute(statement: str) -> None:
    """Run a statement outside a transaction on the test PostgreSQL (create/drop database)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(_SHARED_SERVER, None)
    if shared is not None:
        server, folder, prefect_database = shared
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        if prefect_database:
            _admin_execute(f"drop database if exists {prefect_database} with (force)")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """The Prefect server every flow test of the session runs against: the one the controller
    of a parallel run started, else a temporary server of this session's own."""
    if os.environ.get(SHARED_PREFECT_API):
        yield
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        dispose_engines()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        # The test's pooled connections go with its schema: a session of hundreds of tests
        # would otherwise hold the server's every connection slot.
        dispose_engines()
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


@pytest.fixture
def imported(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> Path:
    """The end-to-end workspace (tests/test_end_to_end.py) with its registry imported into the
    test's database and nothing collected yet; flows called in the test use that database."""
    from tests.test_end_to_end import build_workspace
    from tonghop_flows.import_registry import import_registry

    root = build_workspace(tmp_path / "workspace")
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    assert import_registry(str(root / "registry.csv"), str(root)).problems == []
    return root


@dataclass
class MailHandler:
    """An SMTP server's behaviour: records what it accepts, refuses `refused` recipients,
    answers 451 to the first `fail_data` messages and, while `stall` is set, keeps what it
    receives without ever answering (a sender killed then cannot know the message went)."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    fail_data: int = 0
    rcpt_attempts: Counter = field(default_factory=Counter)
    data_attempts: int = 0
    stall: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.rcpt_attempts[address] += 1
        if address in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_attempts += 1
        if self.fail_data > 0:
            self.fail_data -= 1
            return "451 4.3.0 Temporary failure, try again later"
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        while self.stall:
            await asyncio.sleep(0.1)
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        """Forget what was received and tried so far (not what is refused or failing)."""
        self.messages.clear()
        self.rcpt_attempts.clear()
        self.data_attempts = 0

    def received(self, kind: str | None = None) -> dict[str, list[EmailMessage]]:
        """The accepted messages by recipient; only those of one outbox `kind` when given."""
        found: dict[str, list[EmailMessage]] = {}
        for recipients, message in self.messages:
            if kind is not None and message["X-Tonghop-Kind"] != kind:
                continue
            for recipient in recipients:
                found.setdefault(recipient, []).append(message)
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[MailHandler, int]]:
    """A local SMTP server and its port."""
    from aiosmtpd.controller import Controller

    handler = MailHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="thu-test")
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def mail_env(port: int) -> dict[str, str]:
    """The TONGHOP_* settings that send through the local server, retrying fast."""
    return {
        "TONGHOP_SMTP_HOST": "127.0.0.1",
        "TONGHOP_SMTP_PORT": str(port),
        "TONGHOP_SMTP_SECURITY": "INSECURE",
        "TONGHOP_MAIL_FROM": "bantuyengiao@example.vn",
        "TONGHOP_SEND_ATTEMPTS": "3",
        "TONGHOP_SEND_RETRY_SECONDS": "0.01",
    }


def mail_cli_env(port: int, database_url: str) -> dict[str, str]:
    """The environment of a `tonghop` command sending through the local server: this session's
    Prefect server and the test's database, on a wide terminal."""
    from prefect.settings import PREFECT_API_URL

    return (
        os.environ
        | mail_env(port)
        | {
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "TONGHOP_DATABASE_URL": database_url,
            "COLUMNS": "250",
        }
    )


def latest_artifact(key: str, flow_run_id: object = None, workspace: object = None) -> str:
    """The data of the newest artifact with this key on the session's Prefect server; only
    among those of one flow run, or of runs on one workspace (its path among the parameters of
    the run or of a run above it), when given: workers share the server and its keys."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    run_filter = None if flow_run_id is None else ArtifactFilterFlowRunId(any_=[flow_run_id])

    async def on_workspace(client, run_id) -> bool:
        while run_id is not None:
            run = await client.read_flow_run(run_id)
            if str(workspace) in json.dumps(run.parameters, default=str):
                return True
            parent = run.parent_task_run_id
            run_id = None if parent is None else (await client.read_task_run(parent)).flow_run_id
        return False

    async def latest() -> str:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=[key]), flow_run_id=run_filter
                )
            )
            for artifact in sorted(found, key=lambda artifact: artifact.created, reverse=True):
                if workspace is None or await on_workspace(client, artifact.flow_run_id):
                    return artifact.data
            raise AssertionError(f"no artifact {key!r} of the workspace {workspace}")

    return asyncio.run(latest())


from tests.imap_server import imap_server  # noqa: E402, F401  (a real IMAP server, Dovecot)
