"""The task runner is a setting: threads (a local process pool reads), Prefect's process pool, or
Dask; every runner collects the same batch into the same database rows."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner
from sqlalchemy import text

from tests.test_end_to_end import PERIOD, build_workspace
from tonghop.collecting import chunked
from tonghop.config import Settings
from tonghop.parallel import MALLOC_ARENAS, limit_malloc_arenas
from tonghop.storage import transaction
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import import_registry
from tonghop_flows.run import reading_plan, task_runner_for


@pytest.mark.parametrize(
    ("settings", "runner", "plan"),
    [
        (Settings(), ThreadPoolTaskRunner, (1, 0)),
        (Settings(read_workers=3), ThreadPoolTaskRunner, (1, 3)),
        (Settings(task_runner="process", read_workers=2), ProcessPoolTaskRunner, (8, 1)),
        (Settings(task_runner="dask", dask_workers=3), DaskTaskRunner, (12, 1)),
        (
            Settings(task_runner="dask", dask_address="tcp://127.0.0.1:8786", read_workers=2),
            DaskTaskRunner,
            (8, 1),
        ),
    ],
)
def test_the_runner_and_reading_plan_follow_the_settings(
    settings: Settings, runner: type, plan: tuple[int, int]
) -> None:
    assert isinstance(task_runner_for(settings), runner)
    assert reading_plan(settings) == plan


def test_a_dask_address_is_used_as_given() -> None:
    chosen = task_runner_for(Settings(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert chosen.address == "tcp://10.0.0.5:8786"


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, [[0, 1, 2, 3, 4]]), (2, [[0, 1, 2], [3, 4]]), (5, [[0], [1], [2], [3], [4]]), (9, None)],
)
def test_chunked_keeps_order_and_drops_nothing(count: int, expected: list | None) -> None:
    chunks = chunked(list(range(5)), count)
    assert [item for chunk in chunks for item in chunk] == list(range(5))
    assert all(chunks)
    if expected is not None:
        assert chunks == expected


def _stored(database_url: str) -> list[tuple]:
    with transaction(database_url) as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "select s.unit_code, s.outcome, v.indicator_code, v.number from submission s"
                    " left join submission_value v on v.submission_id = s.id"
                    " order by s.unit_code, v.indicator_code"
                )
            )
        ]


@pytest.mark.parametrize("runner", ["process", "dask"])
def test_every_runner_collects_the_same_rows(
    runner: str,
    imported: Path,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = Settings(task_runner=runner, dask_workers=2, read_workers=2)
    summary = collect.with_options(task_runner=task_runner_for(chosen))(PERIOD, str(imported))
    assert (summary.received, summary.accepted, summary.rejected) == (5, 4, 1)
    rows = _stored(database_url)
    assert {row[0] for row in rows} == {"G1", "G1C1", "G2", "G3", "U1"}

    # The same batch collected in threads, into a database of its own, gives the same rows.
    other = build_workspace(tmp_path / "threads")
    threads_url = f"sqlite:///{tmp_path / 'threads.db'}"
    monkeypatch.setenv("TONGHOP_DATABASE_URL", threads_url)
    assert import_registry(str(other / "registry.csv"), str(other)).problems == []
    collect(PERIOD, str(other))
    assert _stored(threads_url) == rows


# A process that runs flows, and each process it starts, print the allocator arenas they hold to.
_ARENAS_SEEN = """
import os, subprocess, sys
import tonghop_flows.run
print(os.environ.get("MALLOC_ARENA_MAX"))
child = "import os; print(os.environ.get('MALLOC_ARENA_MAX'))"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout)
"""


@pytest.mark.parametrize(
    ("given", "held"), [(None, str(MALLOC_ARENAS)), ("4", "4"), ("many", "many")]
)
def test_a_run_and_the_processes_it_starts_hold_few_allocator_arenas(
    given: str | None, held: str
) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    if given is not None:
        env["MALLOC_ARENA_MAX"] = given  # an operator's own setting holds
    seen = subprocess.run(
        [sys.executable, "-c", _ARENAS_SEEN], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert seen == [held, held]


def test_the_arenas_are_limited_in_the_running_process_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    # The machines this runs on (Debian) have glibc; elsewhere there is nothing to limit.
    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")
    assert os.environ["MALLOC_ARENA_MAX"] == str(MALLOC_ARENAS)
