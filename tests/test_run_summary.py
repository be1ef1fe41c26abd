"""What a run tells the operator, without a server: the progress table (totals first, problems
next), the list of what a collection received, the line of each stage, when a surge of
rejections calls a person, the failed state's message, and what the log filter lets through."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pandas as pd
import prefect
import pytest

from tonghop.collecting import Outcome
from tonghop.errors import DatabaseUnavailable, RunInProgress, TonghopError
from tonghop.outbox import MailKind, OutboxSummary
from tonghop.periods import PERIOD_PATTERN, Period, PeriodError
from tonghop.run_summary import (
    ACCEPTED,
    EXPECTED,
    LATE,
    MISSING,
    PARENT,
    REJECTED,
    TOTAL,
    WARNED,
    delivery_line,
    nothing_new_line,
    outcome_lines,
    progress_table,
    publication_line,
    received_line,
    received_markdown,
    rejection_surge,
)
from tonghop_flows.failures import RETRY, action_for, state_message
from tonghop_flows.logs import OperatorLevel
from tonghop_flows.quarterly_report import PublishedNotDelivered

Q3 = Period(2025, 3)

UNITS = pd.DataFrame(
    {
        "code": ["T", "H1", "H2", "A", "B", "C", "D", "E"],
        "name": ["Tỉnh", "Huyện Một", "Huyện Hai", "A", "B", "C", "D", "E"],
        "parent_code": [None, "T", "T", "H1", "H1", "H2", "H2", "H2"],
    }
)


def status(rows: list[tuple[str, str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit_code", "status", "on_time"])


def test_the_progress_shows_totals_first_then_the_upper_levels_with_problems() -> None:
    table = progress_table(
        status(
            [
                ("T", "accepted", True),  # the province has no parent: counted nowhere
                ("H1", "accepted", True),
                ("H2", "accepted", True),
                ("A", "accepted", True),
                ("B", "accepted_with_warnings", False),
                ("C", "rejected", None),
                ("D", "missing", None),
                ("E", "accepted", 0),
            ]
        ),
        UNITS,
    )
    assert [row[PARENT] for row in table] == [TOTAL, "Huyện Hai", "Tỉnh", "Huyện Một"]
    assert table[0] == {
        PARENT: TOTAL,
        EXPECTED: "7",
        ACCEPTED: "5",
        WARNED: "1",
        REJECTED: "1",
        MISSING: "1",
        LATE: "2",
    }
    assert table[1][REJECTED] == "1" and table[1][MISSING] == "1" and table[1][LATE] == "1"


def test_counts_in_the_progress_are_grouped_the_vietnamese_way() -> None:
    many = pd.DataFrame(
        {
            "code": ["T", *(f"C{i}" for i in range(1200))],
            "name": ["Tỉnh", *(f"C{i}" for i in range(1200))],
            "parent_code": [None, *(["T"] * 1200)],
        }
    )
    table = progress_table(status([(f"C{i}", "accepted", True) for i in range(1200)]), many)
    assert table[0][EXPECTED] == "1.200" and table[1][ACCEPTED] == "1.200"


def outcome(code: str, decided: str, minute: int, *messages: str) -> Outcome:
    severity = "error" if decided == "rejected" else "warning"
    return Outcome(
        submission={
            "unit_code": code,
            "file_name": f"{code}.xlsx",
            "received_at": datetime(2025, 10, 5, 8, minute),
            "outcome": decided,
        },
        values=[],
        problems=[{"severity": severity, "message": message} for message in messages],
    )


def test_the_received_list_puts_the_rejected_first_with_their_reasons() -> None:
    markdown = received_markdown(
        [
            outcome("A", "accepted", 1),
            outcome("B", "rejected", 2, "Thiếu số đảng viên.", "Sai mã đơn vị.", "Sai kỳ."),
            outcome("C", "accepted_with_warnings", 3, "Số liệu tăng bất thường."),
        ],
        {"A": "Chi bộ A", "B": "Chi bộ B", "C": "Chi bộ C"},
        "Tệp báo cáo nhận lúc 05/10/2025 08:10",
    )
    rows = [line for line in markdown.splitlines() if line.startswith("| Chi bộ")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| Chi bộ B (B)",
        "| Chi bộ C (C)",
        "| Chi bộ A (A)",
    ]
    assert "Thiếu số đảng viên.; Sai mã đơn vị. (và 1 lỗi khác)" in rows[0]
    assert "05/10/2025 08:02" in rows[0] and "Bị trả lại" in rows[0]
    assert "Nhận 3 tệp: 1 hợp lệ, 1 có cảnh báo, 1 bị trả lại." in markdown


def test_a_long_list_is_cut_and_counted() -> None:
    outcomes = [outcome(f"U{i}", "accepted", i % 60) for i in range(12)]
    markdown = received_markdown(outcomes, {}, "Tệp", limit=10)
    rows = [line for line in markdown.splitlines() if line.startswith("| U")]
    assert len(rows) == 10 and "… và 2 tệp khác" in markdown


def test_an_evening_with_nothing_says_so() -> None:
    assert "không nhận được tệp báo cáo mới nào" in received_markdown([], {}, "Tệp")


def test_one_line_per_stage() -> None:
    assert received_line(Q3, 50242, 3) == (
        "Quý III năm 2025: đã nhận 50.242 tệp báo cáo mới (lấy 3 thư từ hộp thư điện tử)."
    )
    assert received_line(Q3, 0) == "Quý III năm 2025: không nhận được tệp báo cáo mới nào."
    accepted, warned, rejected = outcome_lines(1203, 4, 10)
    assert "1.203" in accepted and "4 tệp" in warned and "10 tệp" in rejected
    published = datetime(2025, 10, 11, 6, 3)
    assert publication_line(Q3, 2, True, None, "x.xlsx") == (
        "Đã công bố phiên bản 2 của Quý III năm 2025: x.xlsx."
    )
    assert "phiên bản 1 (công bố lúc 11/10/2025 06:03) vẫn là kết quả hiện hành" in (
        publication_line(Q3, 1, False, published, "x.xlsx")
    )
    assert nothing_new_line(Q3, 1, published, "x.xlsx").startswith(
        "Không có gì mới cho Quý III năm 2025 kể từ lần chạy trước: phiên bản 1"
    )


def test_the_delivery_line_says_what_was_sent_and_what_was_not() -> None:
    kind = MailKind("report", "Thư gửi báo cáo", "gui-bao-cao")
    assert delivery_line(14, OutboxSummary(kind, "2025Q3", already_sent=14)) == (
        "Đã soạn dự thảo báo cáo cho 14 đơn vị; 14 thư đã gửi ở lần chạy trước."
    )
    unconfigured = OutboxSummary(kind, "2025Q3", not_configured="Chưa cấu hình máy chủ thư")
    assert "chưa gửi được vì chưa cấu hình máy chủ thư" in delivery_line(3, unconfigured)


@pytest.mark.parametrize(
    ("received", "rejected", "surge"),
    [
        (0, 0, False),
        (40, 9, False),  # fewer than the minimum
        (1200, 15, False),  # a small share of a big evening
        (40, 10, True),
        (30, 30, True),
    ],
)
def test_a_surge_of_rejections_needs_both_a_number_and_a_share(
    received: int, rejected: int, surge: bool
) -> None:
    assert rejection_surge(received, rejected, minimum=10, share=0.25) is surge


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2025Q3", True),
        ("2025H1", True),
        ("2025", True),
        ("2021Q2-2023Q2", True),
        ("III/2026", False),
        ("2025Q5", False),
        ("2025q3", False),
        ("2025H3", False),
        ("2021Q2-2023", False),
        (" 2025Q3", False),
    ],
)
def test_the_period_pattern_accepts_the_forms_a_run_knows(text: str, valid: bool) -> None:
    import re

    assert bool(re.match(PERIOD_PATTERN, text)) is valid


def test_the_state_message_starts_with_what_to_do() -> None:
    error = DatabaseUnavailable("postgresql+psycopg://u@db:5432/tonghop", "Connection refused")
    message = state_message(error)
    assert message.startswith("Cần làm: Khởi động máy chủ cơ sở dữ liệu")
    assert RETRY in message[:120] and message.endswith(str(error))
    assert action_for(RunInProgress(3)).startswith("Chờ lần chạy")
    assert action_for(PeriodError("x")).startswith("Chạy lại với kỳ báo cáo")
    assert action_for(TonghopError("x")).startswith("Khắc phục theo lý do")
    not_delivered = PublishedNotDelivered("x", report=None)  # type: ignore[arg-type]
    assert "kết quả đã công bố giữ nguyên" in action_for(not_delivered)


def record(
    level: int,
    pathname: str,
    message: str,
    exc: BaseException | None = None,
    name="prefect.flow_runs",
):
    info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, level, pathname, 1, message, (), info)


PREFECT_FILE = str(Path(prefect.__file__).parent / "flow_engine.py")
PRINTS_FILE = str(Path(prefect.__file__).parent / "logging" / "loggers.py")


def raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_prefect_bookkeeping_goes_below_the_operators_level() -> None:
    kept = OperatorLevel()
    chatter = record(logging.INFO, PREFECT_FILE, "Finished in state Completed()")
    assert not kept.filter(chatter) and chatter.levelno == logging.DEBUG
    failed = record(logging.ERROR, PREFECT_FILE, "Finished in state Failed('...')")
    assert not kept.filter(failed)
    ours = record(logging.INFO, __file__, "Đã nhận 3 tệp.")
    printed = record(logging.INFO, PRINTS_FILE, "một dòng in ra")
    warning = record(logging.WARNING, PREFECT_FILE, "Lock held")
    assert kept.filter(ours) and kept.filter(printed) and kept.filter(warning)
    assert ours.levelno == printed.levelno == logging.INFO


def test_an_explained_failure_has_no_traceback_and_is_said_once() -> None:
    kept = OperatorLevel()
    error = raised(RunInProgress(5))
    # The flow says it once, in its own words: Prefect's reports of it stay below the level.
    for logger, message in (
        ("prefect.task_runs", "Task run failed with exception: %r"),
        ("prefect.flow_runs", "Engine execution exited with unexpected exception"),
    ):
        line = record(logging.ERROR, PREFECT_FILE, message, error, logger)
        assert not kept.filter(line) and line.levelno == logging.DEBUG
    wrapped = raised(RuntimeError("wrapper"))
    wrapped.__cause__ = error
    ours = record(logging.ERROR, __file__, "x", wrapped)
    assert kept.filter(ours)
    assert ours.getMessage() == str(error) and ours.exc_info is None


def test_a_defect_keeps_its_traceback() -> None:
    defect = raised(KeyError("code"))
    line = record(logging.ERROR, PREFECT_FILE, "Encountered exception", defect)
    assert OperatorLevel().filter(line) and line.exc_info is not None
    assert line.exc_info[0] is KeyError
