"""The deployments: every one names a flow that exists and a schedule that parses, `tonghop
serve` can build each, the schedules follow the deadline and time zone settings, and the
committed prefect.yaml is the one the default settings write."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prefect.schedules import Cron

from tonghop.config import Settings
from tonghop_flows.serving import declared_deployments, prefect_yaml

DEFAULTS = Settings(deadline_days=10, timezone="Asia/Ho_Chi_Minh")
DECLARED = declared_deployments(DEFAULTS)
PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def test_the_operator_schedules_are_declared() -> None:
    entrypoints = {item["entrypoint"].split(":")[1] for item in DECLARED}
    assert entrypoints == {"issue_forms", "collect", "quarterly_report", "longer_report", "remind"}
    # The half-year in July, the year in January, each the day after the quarter's deadline.
    longer = {item["name"]: item for item in DECLARED if "longer" in item["entrypoint"]}
    assert {
        name: (item["schedules"][0]["cron"], item["parameters"]) for name, item in longer.items()
    } == {
        "half-year-report": ("0 7 11 7 *", {"length": 2}),
        "year-report": ("0 7 11 1 *", {"length": 4}),
    }


@pytest.mark.parametrize("declared", DECLARED, ids=[item["name"] for item in DECLARED])
def test_each_deployment_builds(declared: dict) -> None:
    module_path, flow_name = declared["entrypoint"].split(":")
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, flow_name)
    schedules = [Cron(item["cron"], timezone=item["timezone"]) for item in declared["schedules"]]
    deployment = flow.to_deployment(
        name=declared["name"], schedules=schedules, parameters=declared.get("parameters", {})
    )
    assert deployment.name == declared["name"]
    assert deployment.schedules[0].schedule.cron == declared["schedules"][0]["cron"]


@pytest.mark.parametrize(
    ("deadline", "timezone", "crons"),
    [
        (
            10,
            "Asia/Ho_Chi_Minh",
            {
                "issue-forms": "0 7 20 3,6,9,12 *",
                "collect-daily": "0 18 1-20 1,4,7,10 *",
                "quarterly-report": "0 6 11-31 1,4,7,10 *",
                "remind": "0 8 7 1,4,7,10 *",
            },
        ),
        (
            15,
            "Asia/Bangkok",
            {
                "issue-forms": "0 7 20 3,6,9,12 *",
                "collect-daily": "0 18 1-25 1,4,7,10 *",
                "quarterly-report": "0 6 16-31 1,4,7,10 *",
                "remind": "0 8 12 1,4,7,10 *",
            },
        ),
        (2, "Asia/Ho_Chi_Minh", {"remind": "0 8 1 1,4,7,10 *"}),  # never before the 1st
    ],
)
def test_schedules_follow_the_deadline_and_time_zone(
    deadline: int, timezone: str, crons: dict[str, str]
) -> None:
    declared = declared_deployments(Settings(deadline_days=deadline, timezone=timezone))
    found = {item["name"]: item["schedules"][0] for item in declared}
    assert {name: found[name]["cron"] for name in crons} == crons
    assert {schedule["timezone"] for schedule in found.values()} == {timezone}
    remind = next(item for item in declared if item["name"] == "remind")
    assert f"(hạn là ngày {deadline})" in remind["description"]


def test_a_deadline_the_schedules_cannot_follow_is_refused() -> None:
    with pytest.raises(ValueError, match="TONGHOP_DEADLINE_DAYS"):
        declared_deployments(Settings(deadline_days=31))


def test_the_committed_prefect_yaml_is_what_the_default_settings_write() -> None:
    assert PREFECT_YAML.read_text(encoding="utf-8") == prefect_yaml(DEFAULTS)
    deployments = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]
    assert [item["name"] for item in deployments] == [item["name"] for item in DECLARED]


def test_make_clean_removes_only_what_the_build_made() -> None:
    import subprocess

    planned = subprocess.run(
        ["make", "-n", "clean"],
        cwd=PREFECT_YAML.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".venv" in planned
    # ./workspace is also the default production workspace: no cleaning may touch it
    assert "workspace" not in planned
