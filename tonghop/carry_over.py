"""Carrying a version's unchanged outputs over to the next one: a late form or a correction
changes one unit and its ancestors, so only their reports, charts and own workbooks are drawn
again; every other upper level's files are copied from the version before, byte for byte.

A unit's outputs are carried when nothing they are drawn from moved: its subtree's figures and
statuses (the version's changes say which units moved), the registry in force for the period,
the period the reports compare with, and the issuers' settings files and templates. A first
version, a longer period, or a registry imported or a comparison period published again since
the version before draws everything again; a settings file or template edited since the
report was drawn draws the reports again."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from tonghop.consolidating import comparison_period
from tonghop.consolidation import Consolidation
from tonghop.layout import (
    CHARTS_DIR,
    PublicationFolders,
    chart_file_name,
    report_paths,
)
from tonghop.periods import Period
from tonghop.registry import lineage
from tonghop.registry_store import registry_versions, version_in_force
from tonghop.versions import latest_version


@dataclass(frozen=True)
class CarryOver:
    """Which units' outputs the version copies from version `previous` instead of drawing them
    (`unchanged`); `previous` None when everything is drawn."""

    previous: int | None = None
    unchanged: frozenset[str] = frozenset()

    def carries(self, unit_code: str) -> bool:
        return self.previous is not None and unit_code in self.unchanged


NOTHING_CARRIED = CarryOver()


def moved_units(consolidation: Consolidation) -> set[str] | None:
    """Every unit whose subtree moved since the version before: each unit whose counted report
    or status changed, each unit with a changed figure, and all their ancestors. None when
    there is no version before to compare with."""
    changes = consolidation.changes
    if changes is None:
        return None
    parents = {
        code: None if pd.isna(parent) else parent
        for code, parent in zip(
            consolidation.units["code"], consolidation.units["parent_code"], strict=True
        )
    }
    touched = set(changes.units["unit_code"]) | set(changes.values["unit_code"])
    return {unit for code in touched for unit in lineage(code, parents)}


def _moment(value: object) -> datetime | None:
    """A stored time, comparable with the others the same database stored (UTC when it keeps
    zones)."""
    if value is None or pd.isna(value):
        return None
    moment = pd.Timestamp(value).to_pydatetime()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def plan_carry_over(connection: Connection, consolidation: Consolidation) -> CarryOver:
    """What the version may carry over from the one before (see the module's docstring; the
    issuers' settings are checked per report by `carry_report`)."""
    period, changes = consolidation.period, consolidation.changes
    moved = moved_units(consolidation)
    if changes is None or moved is None or not period.is_quarter:
        return NOTHING_CARRIED
    since = _moment(changes.previous_published_at)
    if since is None:
        return NOTHING_CARRIED
    versions = registry_versions(connection)
    in_force = version_in_force(versions, period.last_day)
    imported = {version.number: _moment(version.imported_at) for version in versions}
    if in_force is None or (imported.get(in_force) or since) > since:
        return NOTHING_CARRIED
    compared = latest_version(connection, comparison_period(period))
    if compared is not None and (_moment(compared.published_at) or since) > since:
        return NOTHING_CARRIED
    return CarryOver(changes.previous, frozenset(set(consolidation.units["code"]) - moved))


def carry_file(source: Path, target: Path) -> bool:
    """Copy `source` to `target` (written aside, then moved into place); False when there is no
    `source` to carry, and the caller draws the file instead. A copy rather than a link: an
    operator editing one version's draft must not edit the other's."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.carried")
    shutil.copyfile(source, temp)
    temp.replace(target)
    return True


def carry_report(
    folders: PublicationFolders,
    period: Period,
    unit_code: str,
    carry: CarryOver,
    version: int,
    chart_names: Iterable[str],
    settings_files: Iterable[Path] = (),
) -> bool:
    """Copy a unit's report (Word and HTML) and its charts from the version before into the
    version's staging folder, when `carry` carries the unit; False when it does not, when the
    version before lacks the report, or when the unit's settings file or a template among the
    issuers' `settings_files` was edited after it was drawn — then the caller draws it."""
    if not carry.carries(unit_code) or carry.previous is None:
        return False
    before = report_paths(folders.final, period, unit_code, carry.previous)
    if not all(path.is_file() for path in before):
        return False
    # The unit's own settings file and the templates (any other units' settings are theirs).
    read = [
        path
        for path in map(Path, settings_files)
        if path.suffix != ".toml" or path.stem == unit_code
    ]
    drawn = before[0].stat().st_mtime
    if any(path.is_file() and path.stat().st_mtime > drawn for path in read):
        return False
    now = report_paths(folders.final, period, unit_code, version)
    for source, target in zip(before, now, strict=True):
        carry_file(source, folders.staged(target))
    charts = folders.final / CHARTS_DIR
    for name in chart_names:
        carry_file(
            charts / chart_file_name(name, period, unit_code, carry.previous),
            folders.stage / CHARTS_DIR / chart_file_name(name, period, unit_code, version),
        )
    return True
