"""Artifacts where the operator looks: on the run that made them and, for a step of a larger run,
also on the outermost run — the one a schedule or an operator started, which tells the whole
story. The key (which names an artifact across runs in the UI's Artifacts page) goes with the
outermost run's copy, so that each key shows one artifact per run an operator started; the
step keeps an unkeyed copy where it belongs."""

from __future__ import annotations

from uuid import UUID

from prefect import get_client
from prefect.artifacts import Artifact, create_markdown_artifact
from prefect.client.schemas.actions import ArtifactCreate
from prefect.runtime import flow_run


def leave_artifact(artifact: Artifact, outermost_run_id: str | None) -> None:
    """Create `artifact` (a Prefect Markdown, Table or Link artifact with its key) on the
    current run; when the current run is a step of the run `outermost_run_id`, the keyed copy
    goes to that run and an unkeyed one stays here. Call it inside a task or flow run."""
    current = flow_run.id
    if outermost_run_id is None or str(current) == str(outermost_run_id):
        artifact.create()
        return
    artifact.model_copy(update={"key": None}).create()
    # Created through the client: Artifact.create() would tie it to the current task too.
    with get_client(sync_client=True) as client:
        client.create_artifact(
            ArtifactCreate(
                type=artifact.type,
                key=artifact.key,
                description=artifact.description,
                data=artifact.format(_sync=True),  # type: ignore[call-arg]
                flow_run_id=UUID(str(outermost_run_id)),
            )
        )


def create_run_summary(key: str, heading: str, lines: list[str]) -> None:
    """The run's story, one line per stage, on the run itself rather than on a task of it: the
    Artifacts tab shows it with the summaries its steps left there."""
    create_markdown_artifact(
        key=key,
        markdown="\n".join([f"# {heading}", "", *(f"- {line}" for line in lines)]),
        description=heading,
    )
