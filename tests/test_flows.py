"""The flows under the session's Prefect test server, on a slice of the demo workspace: the
quarterly run publishes, leaves artifacts for the operator and changes nothing when repeated."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_demo import _small_registry
from tonghop import validation
from tonghop.demo import write_demo_workspace
from tonghop.periods import Period
from tonghop.storage import engine_for
from tonghop_flows import collect as collect_flow
from tonghop_flows.collect import collect
from tonghop_flows.consolidate import consolidate
from tonghop_flows.import_registry import import_registry
from tonghop_flows.issue_forms import issue_forms
from tonghop_flows.quarterly_report import quarterly_report

PERIOD = Period(2025, 3)


@pytest.fixture
def demo_workspace(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> tuple[Path, object]:
    monkeypatch.setenv("TONGHOP_DATABASE_URL", database_url)
    plan = write_demo_workspace(tmp_path, PERIOD, 10, seed=7, units=_small_registry(), workers=1)
    assert import_registry(str(tmp_path / "registry.csv"), str(tmp_path)).problems == []
    return tmp_path, plan


def submission_count(database_url: str) -> int:
    with engine_for(database_url).connect() as connection:
        return connection.execute(text("select count(*) from submission")).scalar_one()


def test_quarterly_report_publishes_and_repeats_nothing(demo_workspace, database_url) -> None:
    root, plan = demo_workspace
    report = quarterly_report(str(PERIOD), str(root))
    assert report.collected.received == len(plan.submissions)
    faulty_errors = {
        s.unit_code
        for s in plan.submissions
        if s.fault and not s.fault.startswith(("R4w", "R8", "O2"))
    }
    assert report.collected.rejected >= 1 and report.collected.rejected <= len(faulty_errors)
    assert report.published.workbook.exists() and report.published.status_csv.exists()
    assert report.collected.data_docs and Path(report.collected.data_docs).exists()
    first_csv = report.published.consolidated_csv.read_bytes()
    stored = submission_count(database_url)

    again = collect(str(PERIOD), str(root))
    assert again.received == 0 and again.data_docs is None
    consolidate(str(PERIOD), str(root))
    assert submission_count(database_url) == stored
    assert report.published.consolidated_csv.read_bytes() == first_csv


def test_the_run_leaves_artifacts_for_the_operator(demo_workspace) -> None:
    from prefect.client.orchestration import get_client

    root, _ = demo_workspace
    quarterly_report(str(PERIOD), str(root))

    async def keys() -> set[str]:
        async with get_client() as client:
            return {artifact.key for artifact in await client.read_artifacts()}

    found = asyncio.run(keys())
    for key in (
        "tong-hop-tinh-2025q3",
        "tien-do-bao-cao-2025q3",
        "don-vi-bi-tra-lai-2025q3",
        "so-lieu-tong-hop-2025q3",
        "bao-cao-2025q3",
        "kiem-tra-2025q3",
    ):
        assert key in found


def test_issue_forms_writes_one_form_per_active_unit(demo_workspace) -> None:
    root, plan = demo_workspace
    issued = issue_forms(str(PERIOD), str(root))
    files = list((root / "outbox" / str(PERIOD)).glob("*.xlsx"))
    assert issued.count == len(files) == len(plan.units)
    assert issued.folder == root / "outbox" / str(PERIOD)
    # No mail server in the demo: every form stays in the folder, and the run says so.
    assert issued.mail.outcomes == () and issued.mail.not_configured.startswith(
        f"Chưa cấu hình máy chủ thư: chưa gửi {len(files)} thư gửi mẫu biểu báo cáo"
    )


def _decided(database_url: str) -> tuple[list, list]:
    """Each stored submission's outcome and each problem found, by file."""
    with engine_for(database_url).connect() as connection:
        outcomes = connection.execute(
            text("select unit_code, file_name, outcome from submission order by file_name")
        ).all()
        problems = connection.execute(
            text(
                "select s.file_name, p.rule, p.indicator_code, p.row_number, p.message "
                "from problem p join submission s on s.id = p.submission_id "
                "order by s.file_name, p.seq"
            )
        ).all()
    return [tuple(row) for row in outcomes], [tuple(row) for row in problems]


def test_a_batch_validated_apart_is_decided_as_one_validated_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> None:
    opened = []

    @contextmanager
    def recorded(files: int) -> Iterator[object]:
        with validation.validation_process(files) as pool:
            opened.append(pool is not None)
            yield pool

    monkeypatch.setattr(collect_flow, "validation_process", recorded)
    decided = []
    for apart_from in (validation.VALIDATE_APART_FROM, 1):
        monkeypatch.setattr(validation, "VALIDATE_APART_FROM", apart_from)
        root = tmp_path / f"apart-from-{apart_from}"
        url = f"sqlite:///{tmp_path / f'apart-from-{apart_from}.db'}"
        monkeypatch.setenv("TONGHOP_DATABASE_URL", url)
        write_demo_workspace(root, PERIOD, 10, seed=7, units=_small_registry(), workers=1)
        assert import_registry(str(root / "registry.csv"), str(root)).problems == []
        summary = collect(str(PERIOD), str(root))
        assert summary.received > 1  # here, the default validates in the run's process
        assert summary.data_docs and Path(summary.data_docs).exists()
        decided.append(_decided(url))
    assert opened == [False, True]
    (outcomes, problems), apart = decided
    assert {outcome for _, _, outcome in outcomes} >= {"accepted", "rejected"} and problems
    assert apart == (outcomes, problems)
