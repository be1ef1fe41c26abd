"""Faults: a run killed with SIGKILL at any point leaves the database and the published files
consistent, and the next run finishes the work with nothing counted twice; two runs never
interleave; an unreachable database fails the run with a message saying so, leaving nothing
behind. Each case runs the real product in a separate process."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.crash_run import POINTS
from tests.test_end_to_end import PERIOD, build_workspace
from tonghop.errors import RunInProgress
from tonghop.locking import run_lock
from tonghop.storage import transaction
from tonghop_flows.import_registry import import_registry
from tonghop_flows.quarterly_report import quarterly_report

ROOT = Path(__file__).resolve().parent.parent


def environment(database_url: str, **extra: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return os.environ | {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "TONGHOP_DATABASE_URL": database_url,
        "COLUMNS": "200",
        **extra,
    }


def in_subprocess(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def published_state(root: Path) -> dict[str, bytes]:
    """What a reader finds in the published folder: the data files byte for byte, the names of
    the workbooks and feedback files (workbooks carry the time they were made)."""
    folder = root / "published" / PERIOD
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = path.relative_to(folder).as_posix()
            state[name] = path.read_bytes() if path.suffix == ".csv" else b""
    return state


def database_state(database_url: str) -> dict[str, object]:
    with transaction(database_url) as connection:

        def one(sql: str) -> object:
            return connection.execute(text(sql)).scalar()

        return {
            "submissions": one("select count(*) from submission"),
            "distinct files": one("select count(distinct sha256) from submission"),
            "values": one("select count(*) from submission_value"),
            "problems": one("select count(*) from problem"),
            "versions": one("select count(*) from publication"),
            "unpublished": one("select count(*) from publication where published_at is null"),
            "published figures": one("select count(*) from published_value"),
            "members": one(
                "select number from published_value where unit_code = 'P' "
                "and indicator_code = 'members'"
            ),
        }


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> tuple:
    """An uninterrupted run over the same inputs."""
    root = build_workspace(tmp_path_factory.mktemp("reference"))
    url = f"sqlite:///{root / 'reference.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TONGHOP_DATABASE_URL", url)
        assert import_registry(str(root / "registry.csv"), str(root)).problems == []
        quarterly_report(PERIOD, str(root))
    return published_state(root), database_state(url)


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_run_is_finished_by_the_next_with_nothing_twice(
    point: str, imported: Path, database_url: str, reference: tuple
) -> None:
    root = imported
    killed = in_subprocess(
        "-m", "tests.crash_run", point, PERIOD, str(root), env=environment(database_url)
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    # whatever the kill left: never a half-counted result
    state = database_state(database_url)
    assert state["submissions"] in (0, 5)
    assert state["versions"] <= 1
    if point in ("after-archive", "mid-load"):
        assert state["submissions"] == 0 and state["values"] == 0

    report = quarterly_report(PERIOD, str(root))
    assert report.published.version == 1
    expected_files, expected_rows = reference
    assert published_state(root) == expected_files
    assert database_state(database_url) == expected_rows
    # every received file archived once, byte for byte, and no half-copied leftovers
    archive = root / "archive"
    assert not list(archive.rglob("*.partial")) and not list(root.rglob(".*.tmp"))
    for path in (root / "inbox").rglob("*.xlsx"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (archive / path.parent.name / f"{digest}.xlsx").read_bytes() == path.read_bytes()

    again = quarterly_report(PERIOD, str(root))
    assert again.collected.received == 0 and not again.published.newly_published
    assert database_state(database_url) == expected_rows


def test_a_second_run_refuses_while_the_first_holds_the_database(
    imported: Path, database_url: str
) -> None:
    root = imported
    env = environment(database_url, TONGHOP_LOCK_WAIT_SECONDS="1")
    with run_lock(database_url, wait_seconds=0):
        refused = in_subprocess(
            "-m", "tonghop_flows.cli", "run", "--period", PERIOD, "--workspace", str(root), env=env
        )
    assert refused.returncode == 1
    assert "Một lần chạy khác đang thu thập hoặc tổng hợp" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr
    assert database_state(database_url)["submissions"] == 0
    assert not (root / "published" / PERIOD).exists()


def test_two_runs_at_once_take_turns_and_count_each_file_once(
    imported: Path, database_url: str, reference: tuple
) -> None:
    root = imported
    env = environment(database_url, TONGHOP_LOCK_WAIT_SECONDS="300")
    command = [sys.executable, "-m", "tonghop_flows.cli", "run", "--period", PERIOD]
    runs = [
        subprocess.Popen(
            [*command, "--workspace", str(root)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out for out, _ in outputs)
    assert "nhận 0 tệp mới" in said[0] and "nhận 5 tệp mới" in said[1]
    assert database_state(database_url) == reference[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_database_fails_the_run_with_a_clear_message(
    tmp_path: Path, prefect_server: None
) -> None:
    root = build_workspace(tmp_path / "workspace")
    url = f"postgresql+psycopg://tonghop@127.0.0.1:{_closed_port()}/tonghop"
    env = environment(url, TONGHOP_DATABASE_RETRIES="2", TONGHOP_DATABASE_RETRY_SECONDS="0.2")
    result = in_subprocess(
        "-m", "tonghop_flows.cli", "run", "--period", PERIOD, "--workspace", str(root), env=env
    )
    assert result.returncode == 1
    assert "Không kết nối được cơ sở dữ liệu postgresql+psycopg://tonghop@127.0.0.1" in (
        result.stdout
    )
    assert "Connection refused" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not list((root / "archive").rglob("*.*"))  # nothing was started
    assert not (root / "published" / PERIOD).exists()

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterParentTaskRunId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    async def failed_messages() -> list[str]:
        # The session's server holds every worker's runs: ask for the newest failed ones of
        # this flow, not the first page of all of them.
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["quarterly_report"])),
                flow_run_filter=FlowRunFilter(
                    parent_task_run_id=FlowRunFilterParentTaskRunId(is_null_=True),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.FAILED])),
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=50,
            )
            return [run.state.message or "" for run in runs]

    import asyncio

    messages = asyncio.run(failed_messages())
    assert any("Không kết nối được cơ sở dữ liệu" in message for message in messages)


def test_a_second_taking_of_the_lock_waits_even_in_the_same_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    # a run's steps are handed its context and never lock again: a second taking is another
    # run, however it was started
    with (
        run_lock(url, wait_seconds=0),
        pytest.raises(RunInProgress),
        run_lock(url, wait_seconds=0.3, poll_seconds=0.1),
    ):
        pass
    with run_lock(url, wait_seconds=0):  # released, whatever happened inside
        pass
