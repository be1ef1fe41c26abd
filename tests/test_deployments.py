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


@pytest.mark.parametrize(
    ("flow_name", "default"),
    [("quarterly_report", "quý vừa kết thúc"), ("issue_forms", "quý đang diễn ra")],
)
def test_the_run_form_explains_each_parameter_and_refuses_a_wrong_period(
    flow_name: str, default: str
) -> None:
    import jsonschema

    declared = next(item for item in DECLARED if item["entrypoint"].endswith(f":{flow_name}"))
    module_path, name = declared["entrypoint"].split(":")
    flow = getattr(importlib.import_module(module_path.removesuffix(".py").replace("/", ".")), name)
    schema = flow.parameters.model_dump()
    period, workspace = schema["properties"]["period"], schema["properties"]["workspace"]
    assert (period["title"], period["default"]) == ("Kỳ báo cáo", default)
    assert "2025Q3" in period["description"] and "Ghi «quý vừa kết thúc»" in period["description"]
    assert (workspace["title"], workspace["default"]) == ("Thư mục làm việc", "TONGHOP_HOME")
    assert schema["properties"]["resend_unconfirmed"]["title"] == "Gửi lại thư chưa xác nhận"
    for good in ("2025Q3", "2025H1", "2025", "2021Q2-2023Q2", "", default):
        jsonschema.validate({"period": good}, schema)
    for bad in ("III/2026", "2025Q5", "Q3/2025", "2025-Q3"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"period": bad}, schema)


@pytest.mark.parametrize(
    ("text", "upcoming", "chosen"),
    [
        ("quý vừa kết thúc", True, (None, False)),
        ("quý đang diễn ra", False, (None, True)),
        ("", True, (None, True)),
        ("", False, (None, False)),
        (" 2025Q3 ", True, ("2025Q3", True)),
    ],
)
def test_a_period_in_words_is_the_quarter_it_names(text: str, upcoming: bool, chosen) -> None:
    from tonghop_flows.parameters import period_of

    assert period_of(text, upcoming=upcoming) == chosen


def test_the_workspace_in_words_is_the_settings_home() -> None:
    from tonghop_flows.parameters import workspace_of

    assert workspace_of("TONGHOP_HOME") is None and workspace_of("") is None
    assert workspace_of("/srv/tonghop") == "/srv/tonghop"
