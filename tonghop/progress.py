"""Reporting progress read from the database: per upper-level unit for `tonghop status`, and the
province's headline figures for the end of a run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tonghop.formatting import format_count, format_percent
from tonghop.periods import Period
from tonghop.registry_store import units_frame
from tonghop.storage import transaction
from tonghop.submission_store import period_status
from tonghop.versions import latest_version, version_values

SITUATION_LABELS_VI = {"missing": "Chưa nộp", "rejected": "Bị trả lại", "late": "Nộp quá hạn"}


@dataclass(frozen=True)
class Outstanding:
    """A unit still missing, rejected, or accepted only after the deadline."""

    code: str
    name: str
    situation: str  # missing | rejected | late


@dataclass(frozen=True)
class ParentProgress:
    """How the units directly under one parent stand."""

    parent_code: str
    parent_name: str
    counts: tuple[int, int, int, int, int]  # expected, accepted, rejected, missing, late
    outstanding: tuple[Outstanding, ...] = ()


def _counts(group: pd.DataFrame) -> tuple[int, int, int, int, int]:
    """expected, accepted, rejected, missing, late."""
    return (
        len(group),
        int(group["status"].isin(["accepted", "accepted_with_warnings"]).sum()),
        int((group["status"] == "rejected").sum()),
        int((group["status"] == "missing").sum()),
        int((group["on_time"] == 0).sum()),
    )


@dataclass(frozen=True)
class Progress:
    """How the period stands: per parent unit, and for every expected unit together (the top
    unit's own report included), as the workbook's «Tiến độ báo cáo» counts them."""

    lines: list[ParentProgress]
    total: tuple[int, int, int, int, int]


def progress_by_parent(database_url: str, period: Period, deadline_days: int) -> Progress:
    """One line per parent unit, in hierarchy order, over its direct children's status; and the
    total over every expected unit."""
    with transaction(database_url) as connection:
        units = units_frame(connection, period.last_day).set_index("code")
        status = period_status(connection, period, deadline_days)
    total = _counts(status)
    status["parent_code"] = status["unit_code"].map(units["parent_code"])
    lines = []
    # status comes in hierarchy order, so parents appear in it too
    for parent_code, group in status.dropna(subset=["parent_code"]).groupby(
        "parent_code", sort=False
    ):
        outstanding = [
            Outstanding(
                row.unit_code,
                str(units["name"].get(row.unit_code, row.unit_code)),
                "late" if row.on_time == 0 else row.status,
            )
            for row in group.itertuples()
            if row.status in ("missing", "rejected") or row.on_time == 0
        ]
        lines.append(
            ParentProgress(
                parent_code=str(parent_code),
                parent_name=str(units["name"].get(parent_code, parent_code)),
                counts=_counts(group),
                outstanding=tuple(outstanding),
            )
        )
    return Progress(lines, total)


def province_headline(database_url: str, period: Period) -> str:
    """A sentence with the province's key figures, in the register of the reports."""
    with transaction(database_url) as connection:
        units = units_frame(connection, period.last_day)
        version = latest_version(connection, period)
        if version is None:
            return f"Kỳ {period} chưa được tổng hợp."
        values = version_values(connection, period, version.number)
    root = units.loc[units["level"].idxmin()]
    figures = dict(
        values[values["unit_code"] == root["code"]][["indicator_code", "number"]].itertuples(
            index=False
        )
    )
    return (
        f"{root['name']}, {period.label_vi}: {format_count(figures.get('members'))} đảng viên; "
        f"{format_count(figures.get('sessions_total'))} hội nghị học tập, quán triệt; "
        f"tỷ lệ đảng viên tham gia học tập {format_percent(figures.get('attendance_rate'))}; "
        f"{format_count(figures.get('accepted_units'))}/{format_count(figures.get('expected_units'))}"
        # a longer period counts the quarters' reports: a unit sends one each quarter
        + (" đơn vị đã báo cáo" if period.is_quarter else " báo cáo quý đã tiếp nhận")
        + f" ({format_percent(figures.get('reporting_completeness'))}), "
        f"đúng hạn {format_percent(figures.get('reporting_timeliness'))}."
    )
