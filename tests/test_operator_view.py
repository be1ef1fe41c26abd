"""The operator's view of the runs, read back from the session's Prefect test server as the UI
shows it: the outermost quarterly run tells each stage in Vietnamese and carries the summary
artifacts (each also on its step), a run with nothing new says so in one line, every
collection leaves the period's progress and what it received, runs carry the period and kind
in their names, an unreachable database fails a run with one Vietnamese line and what to do
first, and a delivery that did not send is a failed task. Every check reads its own run's
artifacts and logs: other workers run the same keys on the same server."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from tests.conftest import MailHandler, free_port, mail_env
from tests.test_demo import _small_registry
from tonghop.demo import write_demo_workspace
from tonghop.periods import Period
from tonghop.run_summary import ACCEPTED, EXPECTED, MISSING, PARENT, REJECTED, TOTAL
from tonghop.storage import dispose_engines
from tonghop_flows.collect import collect
from tonghop_flows.import_registry import import_registry
from tonghop_flows.quarterly_report import quarterly_report

PERIOD = Period(2025, 3)
KEY = str(PERIOD).lower()
RUN_NAME = re.compile(r"2025Q3 · (tổng hợp|thu thập) · \d\d/\d\d \d\d:\d\d")


@pytest.fixture
def demo_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> Iterator[tuple[Path, object]]:
    # What the UI shows does not depend on the database: these runs go once, on SQLite.
    monkeypatch.setenv("TONGHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'tonghop.db'}")
    plan = write_demo_workspace(tmp_path, PERIOD, 10, seed=7, units=_small_registry(), workers=1)
    assert import_registry(str(tmp_path / "registry.csv"), str(tmp_path)).problems == []
    yield tmp_path, plan
    dispose_engines()


# --- reading a run back as the UI does ------------------------------------------------------


def run_view(flow_run_id: UUID) -> tuple[object, list, list, dict]:
    """The flow run, its logs (its tasks' included, as its Logs tab), its artifacts, and the
    runs of its steps by flow name."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)

    async def read() -> tuple[object, list, list, dict]:
        async with get_client() as client:
            run = await client.read_flow_run(flow_run_id)
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])
                )
            )
            steps = {(await client.read_flow(step.flow_id)).name: step for step in runs}
            return run, sorted(logs, key=lambda log: log.timestamp), artifacts, steps

    return asyncio.run(read())


def operator_lines(logs: list) -> list[str]:
    """What the Logs tab shows at the operator's level (INFO and above)."""
    return [log.message for log in logs if log.level >= logging.INFO]


def table(artifact: object) -> list[dict[str, str]]:
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data


def keyed(artifacts: list) -> dict[str, object]:
    return {artifact.key: artifact for artifact in artifacts if artifact.key}


# --- the tests ------------------------------------------------------------------------------


def test_the_outermost_run_tells_the_story(demo_workspace) -> None:
    root, plan = demo_workspace
    state = quarterly_report(str(PERIOD), str(root), return_state=True)
    report = state.result()
    run, logs, artifacts, steps = run_view(state.state_details.flow_run_id)

    assert RUN_NAME.fullmatch(run.name) and run.name.startswith("2025Q3 · tổng hợp · ")
    lines = operator_lines(logs)
    collected = report.collected
    assert lines[:5] == [
        f"Quý III năm 2025: đã nhận {len(plan.submissions)} tệp báo cáo mới.",
        f"Hợp lệ, được tiếp nhận: {collected.accepted} tệp.",
        f"Có cảnh báo, vẫn được tiếp nhận: {collected.warned} tệp.",
        f"Bị trả lại (đơn vị phải gửi lại): {collected.rejected} tệp — danh sách và lý do ở mục "
        "«Đơn vị bị trả lại».",
        f"Đã công bố phiên bản 1 của Quý III năm 2025: {report.published.workbook}.",
    ]
    assert lines[5].startswith(f"Đã soạn dự thảo báo cáo cho {len(report.published.reports)}")
    assert len(lines) == 6  # none of Prefect's bookkeeping ("Finished in state Completed()")
    assert all(log.level < logging.INFO for log in logs if "Finished in state" in log.message)

    found = keyed(artifacts)
    assert set(found) >= {
        f"tom-tat-{KEY}",
        f"tong-hop-tinh-{KEY}",
        f"tien-do-bao-cao-{KEY}",
        f"don-vi-bi-tra-lai-{KEY}",
        f"gui-bao-cao-{KEY}",
    }
    summary = found[f"tom-tat-{KEY}"].data
    assert summary.startswith("# Tổng hợp Quý III năm 2025 — tóm tắt lần chạy")
    assert all(f"- {line}" in summary for line in lines[:4])
    progress = table(found[f"tien-do-bao-cao-{KEY}"])
    expected = sum(1 for unit in plan.units if unit.parent_code)
    assert progress[0][PARENT] == TOTAL and progress[0][EXPECTED] == str(expected)
    problems = [int(row[REJECTED]) + int(row[MISSING]) for row in progress[1:]]
    assert problems == sorted(problems, reverse=True) and problems[0] > 0
    figures = table(found[f"tong-hop-tinh-{KEY}"])
    assert {"Chỉ tiêu", "Giá trị"} == set(figures[0])
    rejected = found[f"don-vi-bi-tra-lai-{KEY}"].data
    assert rejected.count("\n## ") == int(progress[0][REJECTED]) > 0

    # Each summary also stays on the step it belongs to, without the key.
    # A step is named by its period: the run graph writes "consolidate / 2025Q3".
    assert {step.name for step in steps.values()} == {"2025Q3"}
    _, _, own, _ = run_view(steps["consolidate"].id)
    descriptions = {artifact.description for artifact in own if artifact.key is None}
    assert found[f"tien-do-bao-cao-{KEY}"].description in descriptions
    assert found[f"tong-hop-tinh-{KEY}"].description in descriptions
    # …and the links to the files stay there only, under their keys.
    assert f"so-lieu-tong-hop-{KEY}" in keyed(own) and f"so-lieu-tong-hop-{KEY}" not in found

    # Nothing new: one line, and the version that stands.
    again = quarterly_report(str(PERIOD), str(root), return_state=True)
    run, logs, artifacts, _ = run_view(again.state_details.flow_run_id)
    (line,) = operator_lines(logs)
    assert line.startswith("Không có gì mới cho Quý III năm 2025 kể từ lần chạy trước: phiên bản 1")
    assert line.endswith(f"vẫn là kết quả hiện hành — {report.published.workbook}.")
    summary = keyed(artifacts)[f"tom-tat-{KEY}"].data
    assert "Không có gì mới" in summary and str(report.published.workbook.resolve()) in summary


def test_every_collection_leaves_the_progress_and_what_it_received(demo_workspace) -> None:
    root, _ = demo_workspace
    state = collect(str(PERIOD), str(root), return_state=True)
    summary = state.result()
    run, logs, artifacts, _ = run_view(state.state_details.flow_run_id)

    assert run.name.startswith("2025Q3 · thu thập · ")
    assert f"Quý III năm 2025: đã nhận {summary.received} tệp báo cáo mới." in operator_lines(logs)
    found = keyed(artifacts)
    progress = table(found[f"tien-do-thu-thap-{KEY}"])
    total, *parents = progress
    assert total[PARENT] == TOTAL
    for column in (EXPECTED, ACCEPTED, REJECTED, MISSING):
        assert sum(int(row[column]) for row in parents) == int(total[column]), column
    # Each unit counts once, by its latest file, whatever it sent before.
    assert 0 < int(total[ACCEPTED]) <= summary.accepted + summary.warned
    assert 0 < int(total[REJECTED]) <= summary.rejected
    received = found[f"tep-da-nhan-{KEY}"].data
    rows = [line for line in received.splitlines() if line.startswith("| ") and "(" in line]
    assert len(rows) == summary.received
    first_accepted = next(i for i, row in enumerate(rows) if "| Đã tiếp nhận |" in row)
    assert all("| Bị trả lại |" in row for row in rows[: summary.rejected])
    assert first_accepted >= summary.rejected

    # An evening with nothing new still leaves both, and says so.
    state = collect(str(PERIOD), str(root), return_state=True)
    _, logs, artifacts, _ = run_view(state.state_details.flow_run_id)
    assert "Quý III năm 2025: không nhận được tệp báo cáo mới nào." in operator_lines(logs)
    found = keyed(artifacts)
    assert table(found[f"tien-do-thu-thap-{KEY}"])[0] == progress[0]
    assert "không nhận được tệp báo cáo mới nào" in found[f"tep-da-nhan-{KEY}"].data


def test_an_unreachable_database_fails_the_run_with_one_line_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> None:
    # Nothing listens on a port just found free: the connection is refused.
    monkeypatch.setenv(
        "TONGHOP_DATABASE_URL", f"postgresql+psycopg://tonghop@127.0.0.1:{free_port()}/tonghop"
    )
    monkeypatch.setenv("TONGHOP_DATABASE_RETRIES", "1")
    monkeypatch.setenv("TONGHOP_DATABASE_RETRY_SECONDS", "0.1")

    state = collect(str(PERIOD), str(tmp_path), return_state=True)

    assert state.is_failed()
    assert state.message.startswith(
        "Cần làm: Khởi động máy chủ cơ sở dữ liệu hoặc sửa TONGHOP_DATABASE_URL, rồi bấm Retry"
    )
    _, logs, _, _ = run_view(state.state_details.flow_run_id)
    shown = [log for log in logs if log.level >= logging.INFO]
    assert [log.level for log in shown] == [logging.ERROR]
    assert shown[0].message == state.message
    assert "Lý do: Không kết nối được cơ sở dữ liệu postgresql+psycopg://" in shown[0].message
    assert not any("Traceback" in log.message for log in logs if log.level >= logging.INFO)


def test_a_delivery_that_did_not_send_is_a_failed_task(
    demo_workspace, smtp: tuple[MailHandler, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

    root, _ = demo_workspace
    handler, port = smtp
    for name, value in mail_env(port).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TONGHOP_SEND_ATTEMPTS", "1")
    handler.refused = {"vanphong.tu@example.vn"}

    state = quarterly_report(str(PERIOD), str(root), return_state=True)

    assert state.is_failed() and state.message.startswith("Cần làm: Sửa địa chỉ thư")
    _, logs, _, steps = run_view(state.state_details.flow_run_id)
    assert [log.level for log in logs if log.level >= logging.ERROR] == [logging.ERROR]
    delivery = steps["deliver_reports"]
    assert delivery.state.is_failed()

    async def task_states() -> dict[str, str]:
        async with get_client() as client:
            runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    flow_run_id=TaskRunFilterFlowRunId(any_=[delivery.id])
                )
            )
            return {run.name: run.state.name for run in runs}

    states = asyncio.run(task_states())
    # Task run names without marks: the run graph's font has no Vietnamese letters.
    assert states["Gui thu"] == "Failed"
    assert states["Tao danh sach thu da gui"] == "Completed"
