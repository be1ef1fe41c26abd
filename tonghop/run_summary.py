"""What a run tells the operator, as plain text and tables: one Vietnamese line per stage
(received, accepted, warned, rejected, published, drafted and sent), the reporting progress per
upper-level unit with its totals and the units with problems first, and the list of what one
collection received. The orchestrator shows them as log lines and artifacts; nothing here
knows of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd

from tonghop.collecting import Outcome
from tonghop.consolidation import STATUS_LABELS_VI
from tonghop.formatting import format_count, format_datetime, is_blank
from tonghop.outbox import OutboxSummary
from tonghop.periods import Period

# The progress table's columns, short enough for a 1,600-pixel window: the whole status of each
# unit is in the published workbook and `tonghop status`.
PARENT, EXPECTED, ACCEPTED, WARNED, REJECTED, MISSING, LATE = (
    "Đơn vị cấp trên",
    "Phải nộp",
    "Đã tiếp nhận",
    "Có cảnh báo",
    "Bị trả lại",
    "Chưa nộp",
    "Nộp quá hạn",
)
TOTAL = "Tổng cộng"
# A collection's list names at most this many files (problems first); the rest are counted.
RECEIVED_ROWS = 300
# Of a rejected file, the reasons shown in the list; the feedback workbook holds all of them.
REASONS_SHOWN = 2


def _late(value: object) -> bool:
    """Whether an `on_time` cell says late (False or 0; None is not late: nothing counted)."""
    return not is_blank(value) and not bool(value)


def progress_table(status: pd.DataFrame, units: pd.DataFrame) -> list[dict[str, str]]:
    """The progress of the expected units (`status`: unit_code, status, on_time) under each
    upper-level unit (`units`: code, name, parent_code): the totals first, then the upper
    levels with units missing or rejected, most first, then the others in hierarchy order
    (the order of `status`). Counts are written the Vietnamese way (1.117)."""
    parents = units.set_index("code")["parent_code"]
    names = units.set_index("code")["name"]
    frame = status.assign(parent_code=status["unit_code"].map(parents))
    frame = frame[frame["parent_code"].notna()]

    # One column per count, summed per parent at once: thousands of parents at a province's
    # scale make counting group by group cost seconds.
    states = frame["status"]
    flags = pd.DataFrame(
        {
            EXPECTED: 1,
            ACCEPTED: states.isin(["accepted", "accepted_with_warnings"]),
            WARNED: states == "accepted_with_warnings",
            REJECTED: states == "rejected",
            MISSING: states == "missing",
            LATE: frame["on_time"].map(_late).astype(bool),
        },
        index=frame.index,
    ).astype(int)
    per_parent = flags.groupby(frame["parent_code"], sort=False).sum()
    rows = [
        (str(names.get(code, code)), {column: int(count) for column, count in numbers.items()})
        for code, numbers in per_parent.iterrows()
    ]
    # sorted() keeps the hierarchy order among equals
    rows = sorted(rows, key=lambda row: -(row[1][REJECTED] + row[1][MISSING]))
    total = {column: int(count) for column, count in flags.sum().items()}
    return [
        {PARENT: name, **{column: format_count(count) for column, count in numbers.items()}}
        for name, numbers in [(TOTAL, total), *rows]
    ]


def received_markdown(
    outcomes: Sequence[Outcome],
    names: Mapping[str, str],
    heading: str,
    limit: int = RECEIVED_ROWS,
) -> str:
    """The files one collection received: the rejected first with why, then those with
    warnings, then the accepted, each in arrival order; past `limit` files, the rest counted."""
    rank = {"rejected": 0, "accepted_with_warnings": 1, "accepted": 2}
    ordered = sorted(
        outcomes,
        key=lambda outcome: (
            rank.get(str(outcome.submission["outcome"]), 3),
            outcome.submission["received_at"],
        ),
    )
    lines = [f"# {heading}", ""]
    if not ordered:
        lines.append("Lần chạy này không nhận được tệp báo cáo mới nào.")
        return "\n".join(lines)
    decided = [str(outcome.submission["outcome"]) for outcome in ordered]
    lines += [
        f"Nhận {format_count(len(ordered))} tệp: {format_count(decided.count('accepted'))} hợp "
        f"lệ, {format_count(decided.count('accepted_with_warnings'))} có cảnh báo, "
        f"{format_count(decided.count('rejected'))} bị trả lại.",
        "",
        "| Đơn vị | Tệp | Nhận lúc | Kết quả | Lý do |",
        "| --- | --- | --- | --- | --- |",
    ]
    for outcome in ordered[:limit]:
        submission = outcome.submission
        code = str(submission["unit_code"])
        cells = (
            f"{names.get(code, code)} ({code})",
            submission["file_name"],
            format_datetime(_as_datetime(submission["received_at"])),
            STATUS_LABELS_VI.get(str(submission["outcome"]), str(submission["outcome"])),
            _reasons(outcome),
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    if len(ordered) > limit:
        lines += [
            "",
            f"… và {format_count(len(ordered) - limit)} tệp khác (đầy đủ trong bảng tổng hợp và "
            "`tonghop status`).",
        ]
    return "\n".join(lines)


def _reasons(outcome: Outcome) -> str:
    """Why a file was rejected (or warned): its first problems, and how many more there are."""
    decided = outcome.submission["outcome"]
    if decided == "accepted":
        return ""
    severity = "error" if decided == "rejected" else "warning"
    messages = [
        str(problem["message"])
        for problem in outcome.problems
        if problem["severity"] == severity and not is_blank(problem["message"])
    ]
    shown = "; ".join(messages[:REASONS_SHOWN])
    if len(messages) > REASONS_SHOWN:
        shown += f" (và {format_count(len(messages) - REASONS_SHOWN)} lỗi khác)"
    return shown


def _as_datetime(value: object) -> datetime | None:
    if is_blank(value):
        return None
    return pd.Timestamp(value).to_pydatetime() if not isinstance(value, datetime) else value


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


# --- the lines a run's log and summary tell, one per stage ----------------------------------


def received_line(period: Period, received: int, messages: int = 0) -> str:
    """How many new files the collection received for the period."""
    if not received:
        line = f"{period.label_vi}: không nhận được tệp báo cáo mới nào"
    else:
        line = f"{period.label_vi}: đã nhận {format_count(received)} tệp báo cáo mới"
    if messages:
        line += f" (lấy {format_count(messages)} thư từ hộp thư điện tử)"
    return line + "."


def outcome_lines(accepted: int, warned: int, rejected: int) -> list[str]:
    """How the received files were decided: one line each for accepted, warned, rejected."""
    return [
        f"Hợp lệ, được tiếp nhận: {format_count(accepted)} tệp.",
        f"Có cảnh báo, vẫn được tiếp nhận: {format_count(warned)} tệp.",
        f"Bị trả lại (đơn vị phải gửi lại): {format_count(rejected)} tệp"
        + (" — danh sách và lý do ở mục «Đơn vị bị trả lại»." if rejected else "."),
    ]


def publication_line(
    period: Period,
    version: int,
    newly_published: bool,
    published_at: datetime | None,
    where: str,
) -> str:
    """What the run published, or that the version published earlier still stands."""
    if newly_published:
        return f"Đã công bố phiên bản {version} của {period.label_vi}: {where}."
    when = f" (công bố lúc {format_datetime(published_at)})" if published_at else ""
    return (
        f"Số liệu {period.label_vi} không thay đổi: phiên bản {version}{when} vẫn là kết quả "
        f"hiện hành — {where}."
    )


def delivery_line(reports: int, delivery: OutboxSummary | None) -> str:
    """How many reports were drafted, and how they were sent."""
    line = f"Đã soạn dự thảo báo cáo cho {format_count(reports)} đơn vị"
    if delivery is None:
        return line + "."
    if delivery.not_configured:
        return (
            f"{line}; chưa gửi được vì chưa cấu hình máy chủ thư "
            f"({format_count(len(delivery.letter_files))} thư ghi thành tệp .eml)."
        )
    sent, failed = len(delivery.sent), len(delivery.failed)
    parts = [f"đã gửi {format_count(sent)} thư"] if sent else []
    if failed:
        parts.append(f"{format_count(failed)} thư CHƯA GỬI ĐƯỢC (xem mục «Gửi báo cáo»)")
    if delivery.already_sent:
        parts.append(f"{format_count(delivery.already_sent)} thư đã gửi ở lần chạy trước")
    if not parts:
        parts = ["không có thư nào cần gửi"]
    return f"{line}; " + ", ".join(parts) + "."


def nothing_new_line(
    period: Period, version: int, published_at: datetime | None, where: str
) -> str:
    """The one line of a run that found nothing new: which version stands, and where."""
    when = f" (công bố lúc {format_datetime(published_at)})" if published_at else ""
    return (
        f"Không có gì mới cho {period.label_vi} kể từ lần chạy trước: phiên bản {version}{when} "
        f"vẫn là kết quả hiện hành — {where}."
    )


def rejection_surge(received: int, rejected: int, minimum: int, share: float) -> bool:
    """Whether a collection rejected enough files, and a large enough part of what it received,
    that a person should look now: a form or a rule may be wrong, not a few units."""
    return received > 0 and rejected >= minimum and rejected >= share * received
