"""The deployments an operator schedules, in one place: their schedules follow the settings (the
deadline and the operators' time zone), `tonghop serve` serves them from this process without a
worker, and `tonghop deployments` writes them as prefect.yaml for `prefect deploy --all`."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from prefect import serve
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from tonghop.config import Settings

# The first month of each quarter (reports of the quarter before arrive then), and the last.
_REPORTING_MONTHS = "1,4,7,10"
_QUARTER_END_MONTHS = "3,6,9,12"
# Reminders go this many days before the deadline; corrections are collected this many days
# after it, every evening, before the window closes.
REMIND_DAYS_BEFORE = 3
CORRECTION_DAYS = 10
_HEADER = """\
# Deployments of Tổng hợp, written by `tonghop deployments` from the settings (the deadline,
# TONGHOP_DEADLINE_DAYS, and the time zone, TONGHOP_TIMEZONE): after changing either, write this
# file again. `tonghop serve` serves the same deployments with no worker; with a Prefect server
# and a process work pool named `tonghop`, `prefect deploy --all` deploys this file.
# Each flow's `period` defaults to the quarter that just ended (for issue_forms, the quarter in
# progress); `workspace` defaults to TONGHOP_HOME.
"""


def declared_deployments(settings: Settings) -> list[dict[str, Any]]:
    """Every scheduled deployment, its cron days following the deadline (a number of days after
    the quarter's last day, so also the deadline's day of the month)."""
    deadline = settings.deadline_days
    if not 1 <= deadline <= 30:
        # Consolidation starts the day after the deadline, still in the quarter's next month.
        raise ValueError(f"TONGHOP_DEADLINE_DAYS must be 1 to 30 for the schedules: {deadline}")
    remind_day = max(1, deadline - REMIND_DAYS_BEFORE)
    last_collection_day = min(31, deadline + CORRECTION_DAYS)
    first_consolidation_day = deadline + 1

    def schedule(cron: str) -> list[dict[str, str]]:
        return [{"cron": cron, "timezone": settings.timezone}]

    return [
        {
            "name": "issue-forms",
            "entrypoint": "flows/issue_forms.py:issue_forms",
            "description": "Mẫu biểu trống cho mọi đơn vị, mười ngày trước khi quý kết thúc.",
            "schedules": schedule(f"0 7 20 {_QUARTER_END_MONTHS} *"),
        },
        {
            "name": "collect-daily",
            "entrypoint": "flows/collect.py:collect",
            "description": (
                "Thu thập báo cáo mỗi tối trong thời gian nhận báo cáo (đến ngày "
                f"{last_collection_day} tháng đầu quý sau)."
            ),
            "schedules": schedule(f"0 18 1-{last_collection_day} {_REPORTING_MONTHS} *"),
        },
        {
            "name": "quarterly-report",
            "entrypoint": "flows/quarterly_report.py:quarterly_report",
            "description": (
                f"Thu thập, tổng hợp và công bố kỳ báo cáo từ ngày sau hạn nộp (hạn là ngày "
                f"{deadline}) đến hết tháng; mỗi lần chạy chỉ công bố phiên bản mới khi có báo "
                "cáo bổ sung làm số liệu thay đổi."
            ),
            "schedules": schedule(f"0 6 {first_consolidation_day}-31 {_REPORTING_MONTHS} *"),
        },
        {
            "name": "half-year-report",
            "entrypoint": "flows/quarterly_report.py:longer_report",
            "description": (
                "Tổng hợp và công bố báo cáo sáu tháng đầu năm từ số liệu các quý đã lưu, sau "
                "khi tổng hợp quý II (ngày sau hạn nộp)."
            ),
            "schedules": schedule(f"0 7 {first_consolidation_day} 7 *"),
            "parameters": {"length": 2},
        },
        {
            "name": "year-report",
            "entrypoint": "flows/quarterly_report.py:longer_report",
            "description": (
                "Tổng hợp và công bố báo cáo năm từ số liệu các quý đã lưu, sau khi tổng hợp quý "
                "IV (ngày sau hạn nộp)."
            ),
            "schedules": schedule(f"0 7 {first_consolidation_day} 1 *"),
            "parameters": {"length": 4},
        },
        {
            "name": "remind",
            "entrypoint": "flows/remind.py:remind",
            "description": (
                "Gửi thư đôn đốc cấp ủy cấp trên về các đơn vị trực thuộc chưa nộp hoặc bị trả "
                f"lại báo cáo, {REMIND_DAYS_BEFORE} ngày trước hạn nộp (hạn là ngày {deadline})."
            ),
            "schedules": schedule(f"0 8 {remind_day} {_REPORTING_MONTHS} *"),
        },
    ]


def prefect_yaml(settings: Settings) -> str:
    """prefect.yaml for `prefect deploy --all`: the deployments on a process work pool."""
    document = {
        "name": "tonghop",
        "prefect-version": "3.8.8",
        "pull": [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $TONGHOP_PROJECT_DIR }}"
                }
            }
        ],
        "deployments": [
            {
                **declared,
                "parameters": declared.get("parameters", {}),
                "work_pool": {"name": "tonghop"},
            }
            for declared in declared_deployments(settings)
        ],
    }
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    return _HEADER + body


def serve_deployments(settings: Settings) -> None:
    """Serve every declared deployment with its schedules until interrupted."""
    deployments = []
    for declared in declared_deployments(settings):
        # The entrypoint is the file in a checkout (`flows/collect.py`, for `prefect deploy`);
        # installed, that folder is the package tonghop_flows.
        file_path, flow_name = declared["entrypoint"].split(":")
        module = importlib.import_module(
            f"tonghop_{Path(file_path).parent.name}.{Path(file_path).stem}"
        )
        deployments.append(
            getattr(module, flow_name).to_deployment(
                name=declared["name"],
                description=declared["description"],
                schedules=[
                    Cron(item["cron"], timezone=item["timezone"]) for item in declared["schedules"]
                ],
                # Each run imports its flow from the installed package, wherever it starts.
                entrypoint_type=EntrypointType.MODULE_PATH,
                # The workspace this machine serves, shown in the deployment's Parameters tab
                # and filled in its run form, beside the deployment's own (a half-year's length).
                parameters={
                    **declared.get("parameters", {}),
                    "workspace": str(settings.workspace.resolve()),
                },
            )
        )
    serve(*deployments)
