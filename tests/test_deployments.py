"""prefect.yaml: every deployment names a flow that exists and a schedule that parses, and
`tonghop serve` can build each one."""

from __future__ import annotations

import importlib

import pytest
from prefect.schedules import Cron

from flows.serving import declared_deployments

DECLARED = declared_deployments()


def test_the_operator_schedules_are_declared() -> None:
    entrypoints = {item["entrypoint"].split(":")[1] for item in DECLARED}
    assert entrypoints == {"issue_forms", "collect", "quarterly_report", "remind"}


@pytest.mark.parametrize("declared", DECLARED, ids=[item["name"] for item in DECLARED])
def test_each_deployment_builds(declared: dict) -> None:
    module_path, flow_name = declared["entrypoint"].split(":")
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, flow_name)
    schedules = [Cron(item["cron"], timezone=item["timezone"]) for item in declared["schedules"]]
    assert all(item["timezone"] == "Asia/Ho_Chi_Minh" for item in declared["schedules"])
    deployment = flow.to_deployment(name=declared["name"], schedules=schedules)
    assert deployment.name == declared["name"]
    assert deployment.schedules[0].schedule.cron == declared["schedules"][0]["cron"]
