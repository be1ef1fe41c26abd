"""What the portal's pages show, read from the database and the workspace as plain data: a
unit's versions of a period with their outcomes, problems and feedback; the progress of a
subtree per child, problems first; an upper level's own consolidated figures and drafted
reports; and every file a period published."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, text

from tonghop.audit import unit_history
from tonghop.catalogue import RATES, label_vi, load_catalogue
from tonghop.formatting import format_count, format_percent, is_blank
from tonghop.layout import Workspace, answer_feedback_path, find_reports
from tonghop.periods import Period
from tonghop.publishing import published_files
from tonghop.registry import Unit
from tonghop.registry_store import registry_version_on, unit_from_row, units_frame
from tonghop.storage import load_sql, select_frame
from tonghop.submission_store import period_status
from tonghop.versions import newest_published_version, version_values

ACCEPTED = ("accepted", "accepted_with_warnings")
# How a unit in a subtree stands, worst first: the order problems are listed in.
STANDING_ORDER = ("rejected", "missing", "late", "accepted_with_warnings", "accepted")
STANDING_LABELS_VI = {
    "rejected": "Bị trả lại",
    "missing": "Chưa nộp",
    "late": "Nộp quá hạn",
    "accepted_with_warnings": "Đã tiếp nhận, có cảnh báo",
    "accepted": "Đã tiếp nhận",
}
# A subtree page lists at most this many units needing attention; each child's own page (one
# click) lists the rest of its part.
MAX_LISTED_UNITS = 300


def find_unit(connection: Connection, unit_code: str) -> Unit | None:
    """The unit of the stored registry with this code."""
    row = connection.execute(
        text(load_sql("select_known_unit")),
        {"unit_code": unit_code, "registry_version": registry_version_on(connection)},
    ).first()
    return None if row is None or row.code is None else unit_from_row(row)


def is_below(connection: Connection, unit_code: str, ancestor: str) -> bool:
    """Whether `unit_code` is `ancestor` itself or lies below it in the registry."""
    found = connection.execute(
        text(load_sql("select_is_below")),
        {
            "unit_code": unit_code,
            "ancestor": ancestor,
            "registry_version": registry_version_on(connection),
        },
    ).scalar()
    return bool(found)


def has_children(connection: Connection, unit_code: str) -> bool:
    """Whether any unit of the registry is directly under this one."""
    members = select_frame(
        connection,
        "select_subtree_members",
        unit_code=unit_code,
        registry_version=registry_version_on(connection),
    )
    return not members.empty


@dataclass(frozen=True)
class Problem:
    rule: str
    severity: str  # error | warning
    message: str


@dataclass(frozen=True)
class Version:
    """One file a unit sent for the period: its place among them (`number`, from 1), what it
    came to, and the feedback workbook its acknowledgement carried, if any."""

    id: str
    number: int
    file_name: str
    received_at: datetime
    outcome: str
    counts: bool
    errors: int
    warnings: int
    problems: tuple[Problem, ...]
    feedback: Path | None


def unit_versions(
    connection: Connection, unit_code: str, period: Period, workspace: Workspace
) -> list[Version]:
    """Every version the unit sent for the period, oldest first."""
    history = unit_history(connection, unit_code, period)
    problems: dict[str, list[Problem]] = {}
    for row in history.problems.itertuples():
        problems.setdefault(row.submission_id, []).append(
            Problem(row.rule, row.severity, row.message)
        )
    versions = []
    for number, row in enumerate(history.submissions.itertuples(), start=1):
        feedback = answer_feedback_path(workspace.outbox, period, unit_code, number)
        versions.append(
            Version(
                id=row.id,
                number=number,
                file_name=row.file_name,
                received_at=row.received_at.to_pydatetime(),
                outcome=row.outcome,
                counts=bool(row.counts),
                errors=int(row.error_count),
                warnings=int(row.warning_count),
                problems=tuple(problems.get(row.id, ())),
                feedback=feedback if feedback.is_file() else None,
            )
        )
    return versions


@dataclass
class Tally:
    """How many units of a part of the tree must report, and how they stand."""

    must_report: int = 0
    accepted: int = 0
    warned: int = 0
    rejected: int = 0
    missing: int = 0
    late: int = 0

    def add(self, other: Tally) -> None:
        for name in ("must_report", "accepted", "warned", "rejected", "missing", "late"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class ChildProgress:
    code: str
    name: str
    has_children: bool
    tally: Tally


@dataclass(frozen=True)
class Standing:
    """One unit of a subtree that needs attention, with its full name and its parent's."""

    code: str
    name: str
    parent_name: str
    standing: str  # a key of STANDING_LABELS_VI
    received_at: datetime | None
    file_name: str | None
    has_children: bool


@dataclass
class SubtreeProgress:
    """The progress of the units below one unit, per direct child, problems first."""

    children: list[ChildProgress]
    total: Tally
    attention: list[Standing]  # the first MAX_LISTED_UNITS of them, worst first
    attention_count: int
    own: str | None = None  # how the unit's own form stands, when it must report one
    own_received_at: datetime | None = None
    notes: list[str] = field(default_factory=list)


def _standing(status: str, on_time: object) -> str:
    if status in ACCEPTED and on_time == 0:
        return "late"
    return status


def subtree_progress(
    connection: Connection, unit_code: str, period: Period, deadline_days: int
) -> SubtreeProgress:
    """How the units below `unit_code` stand in the period, per direct child with totals."""
    members = select_frame(
        connection,
        "select_subtree_members",
        unit_code=unit_code,
        registry_version=registry_version_on(connection, period.last_day),
    )
    status = period_status(connection, period, deadline_days)
    units = units_frame(connection, period.last_day)
    names = dict(zip(units["code"], units["name"], strict=True))
    parents = dict(zip(units["code"], units["parent_code"], strict=True))
    position = dict(zip(units["code"], units["position"], strict=True))
    with_children = set(units["parent_code"].dropna())
    status["standing"] = [
        _standing(row.status, row.on_time) for row in status.itertuples(index=False)
    ]
    own = status[status["unit_code"] == unit_code]
    below = members.merge(status, on="unit_code", how="inner")
    children = []
    total = Tally()
    for child_code, group in below.groupby("child_code", sort=False):
        accepted = group["status"].isin(ACCEPTED)
        # the accepted count every form taken, warned or late; those two are counted again
        tally = Tally(
            must_report=len(group),
            accepted=int(accepted.sum()),
            warned=int((group["status"] == "accepted_with_warnings").sum()),
            rejected=int((group["status"] == "rejected").sum()),
            missing=int((group["status"] == "missing").sum()),
            late=int((accepted & (group["on_time"] == 0)).sum()),
        )
        total.add(tally)
        children.append(
            ChildProgress(
                str(child_code),
                names.get(child_code, child_code),
                child_code in with_children,
                tally,
            )
        )
    children.sort(
        key=lambda child: (
            -(child.tally.rejected + child.tally.missing),
            -child.tally.late,
            -child.tally.warned,
            position.get(child.code, 0),
        )
    )
    needing = below[below["standing"] != "accepted"].copy()
    needing["rank"] = needing["standing"].map(STANDING_ORDER.index)
    needing["position"] = needing["unit_code"].map(position)
    needing = needing.sort_values(["rank", "position"])
    attention = [
        Standing(
            code=row.unit_code,
            name=names.get(row.unit_code, row.unit_code),
            parent_name=names.get(parents.get(row.unit_code), ""),
            standing=row.standing,
            received_at=None if pd.isna(row.received_at) else row.received_at.to_pydatetime(),
            file_name=None if is_blank(row.file_name) else row.file_name,
            has_children=row.unit_code in with_children,
        )
        for row in needing.head(MAX_LISTED_UNITS).itertuples(index=False)
    ]
    return SubtreeProgress(
        children=children,
        total=total,
        attention=attention,
        attention_count=len(needing),
        own=None if own.empty else own["standing"].iloc[0],
        own_received_at=None
        if own.empty or pd.isna(own["received_at"].iloc[0])
        else own["received_at"].iloc[0].to_pydatetime(),
    )


@dataclass(frozen=True)
class Figure:
    code: str
    label: str
    value: str


@dataclass(frozen=True)
class OwnFigures:
    """An upper level's consolidated figures in the newest published version of the period."""

    version: int | None
    figures: tuple[Figure, ...]


def own_figures(connection: Connection, unit_code: str, period: Period) -> OwnFigures:
    """The unit's consolidated figures as last published (none before a first publication)."""
    version = newest_published_version(connection, period)
    if version is None:
        return OwnFigures(None, ())
    values = version_values(connection, period, version)
    mine = values[values["unit_code"] == unit_code].set_index("indicator_code")
    rate_codes = {rate.code for rate in RATES}
    figures = []
    for code in [indicator.code for indicator in load_catalogue()] + sorted(rate_codes):
        if code not in mine.index or is_blank(mine.loc[code, "number"]):
            continue
        number = mine.loc[code, "number"]
        shown = format_percent(number) if code in rate_codes else format_count(number)
        figures.append(Figure(code, label_vi(code), shown))
    return OwnFigures(version, tuple(figures))


def unit_workbook(
    workspace: Workspace, period: Period, version: int | None, unit: Unit
) -> Path | None:
    """The workbook an upper level downloads: its own, of its subtree (the province's whole
    one for the province), when the version published it."""
    if version is None:
        return None
    files = published_files(workspace.published_folder(period), period, version)
    found = files.unit_workbooks.get(unit.code)
    if found is None and unit.parent_code is None:
        found = files.workbook
    return found if found is not None and found.is_file() else None


def drafted_reports(workspace: Workspace, period: Period, version: int | None) -> dict[str, Path]:
    """The Word reports drafted for a published version, by unit code."""
    if version is None:
        return {}
    return find_reports(workspace.published_folder(period), period, version)


@dataclass(frozen=True)
class PublishedFile:
    """One file a period published, by its path inside `published/<P>/`."""

    relative: str
    size: int
    modified: datetime


def published_listing(workspace: Workspace, period: Period) -> list[PublishedFile]:
    """Every file a period published, folders first by name, hidden (staging) files left out."""
    folder = workspace.published_folder(period)
    if not folder.is_dir():
        return []
    listed = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        info = path.stat()
        listed.append(
            PublishedFile(relative.as_posix(), info.st_size, datetime.fromtimestamp(info.st_mtime))
        )
    return listed


def published_periods(workspace: Workspace) -> list[Period]:
    """The periods with a published folder, newest first."""
    if not workspace.published.is_dir():
        return []
    found = []
    for folder in workspace.published.iterdir():
        try:
            found.append(Period.parse(folder.name))
        except ValueError:
            continue
    return sorted(found, reverse=True)


def find_root(connection: Connection) -> Unit | None:
    """The unit at the top of the registry (the province), if a registry was imported."""
    units = units_frame(connection)
    if units.empty:
        return None
    return find_unit(connection, str(units.loc[units["level"].idxmin(), "code"]))
