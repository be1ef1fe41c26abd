"""`tonghop serve`: the deployments of prefect.yaml, served from this process without a worker."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml
from prefect import serve
from prefect.schedules import Cron

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def declared_deployments(path: Path = PREFECT_YAML) -> list[dict]:
    """The deployments as prefect.yaml declares them."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"]


def serve_deployments(path: Path = PREFECT_YAML) -> None:
    """Serve every declared deployment with its schedules until interrupted."""
    deployments = []
    for declared in declared_deployments(path):
        module_path, flow_name = declared["entrypoint"].split(":")
        module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
        deployments.append(
            getattr(module, flow_name).to_deployment(
                name=declared["name"],
                description=declared.get("description"),
                parameters=declared.get("parameters") or {},
                schedules=[
                    Cron(item["cron"], timezone=item["timezone"])
                    for item in declared.get("schedules", [])
                ],
            )
        )
    serve(*deployments)
