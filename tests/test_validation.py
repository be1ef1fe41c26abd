"""Every rule of SPEC §4 on a passing and a failing submission, through the one batched
Great Expectations validation; and the stored suites agree with the rules table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from tonghop.collecting import ReceivedFile, outcome_of
from tonghop.comparisons import SIBLING_COLUMNS, Comparisons
from tonghop.reading import FormRead, FormRow
from tonghop.registry import Unit
from tonghop.validation import (
    SubmissionInput,
    ValidationContext,
    build_suites,
    load_rules,
    read_suite,
    validate_submissions,
)

CONTEXT = ValidationContext(
    period="2025Q3",
    active_unit_codes=frozenset({"CB1", "CB2", "CS1"}),
    units_with_children=frozenset({"CS1"}),
)
# A leaf's report that breaks no rule.
GOOD = {
    "members": "20",
    "members_exempt": "1",
    "members_attended": "18",
    "members_absent": "1",
    "members_makeup": "1",
    "sessions_in_person": "2",
    "sessions_online": "1",
    "sessions_hybrid": "0",
    "sessions_total": "3",
    "connection_points": "4",
    "essays": "18",
    "essays_excellent": "5",
    "awareness_classes": "1",
    "awareness_trainees": "12",
    "briefings": "1",
    "briefing_attendance": "25",
    "secretary_presented": "1",
    "highlights": "Tổ chức học tập nghiêm túc.",
}


def form(values: dict[str, str | None], unit: str = "CB1", period: str = "2025Q3") -> FormRead:
    rows = [
        FormRow(row_number=9 + index, indicator_code=code, value=value, note=None)
        for index, (code, value) in enumerate(values.items())
    ]
    return FormRead(unit, period, None, None, None, rows, [])


def problems_of(values: dict[str, str | None], **form_args: str) -> list[tuple[str, str]]:
    folder = form_args.pop("folder", "CB1")
    submission = SubmissionInput("s1", folder, form(values, **form_args))
    found = validate_submissions([submission], CONTEXT)["s1"]
    return [(problem.rule, problem.severity) for problem in found]


def test_a_good_report_has_no_problem() -> None:
    assert problems_of(GOOD) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sessions_total": "4"}, [("R1", "error")]),
        ({"sessions_online": "0", "sessions_total": "2"}, [("R2", "error")]),
        # exempt above members also leaves a negative number to study: R4 follows from R3
        (
            {
                "members_exempt": "21",
                "members_attended": "0",
                "members_absent": "0",
                "members_makeup": "0",
            },
            [("R3", "error"), ("R4", "error")],
        ),
        ({"members_attended": "19", "members_absent": "1"}, [("R4", "error")]),
        ({"members_attended": "17"}, [("R4w", "warning")]),
        ({"members_makeup": "2", "members_absent": "1"}, [("R5", "error")]),
        ({"essays_excellent": "19"}, [("R6", "error")]),
        ({"awareness_trainees": "0"}, [("R7", "error")]),
        ({"briefing_attendance": "0"}, [("R8", "warning")]),
        ({"members": "mười hai"}, [("V1", "error")]),
        ({"essays": "-3"}, [("V1", "error")]),
        ({"attendance": "2.5"}, [("V1", "error")]),
        ({"attendance": "99999999999999999999"}, [("V1", "error")]),
        ({"secretary_presented": "2"}, [("V1", "error")]),
        ({"highlights": "x" * 10_001}, [("V1", "error")]),
        ({"members_attended": None}, [("V3", "error"), ("R4w", "warning")]),
        ({"new_members": "3"}, [("F6", "error")]),
    ],
)
def test_each_rule_fails_on_its_own_case(change: dict, expected: list[tuple[str, str]]) -> None:
    assert sorted(problems_of(GOOD | change)) == sorted(expected)


def test_duplicate_indicator_is_f6() -> None:
    submission = SubmissionInput(
        "s1",
        "CB1",
        FormRead(
            "CB1",
            "2025Q3",
            None,
            None,
            None,
            [*form(GOOD).rows, FormRow(40, "members", "20", None)],
            [],
        ),
    )
    found = validate_submissions([submission], CONTEXT)["s1"]
    assert {problem.rule for problem in found} == {"F6"}
    assert {problem.row_number for problem in found} == {9, 40}


@pytest.mark.parametrize(
    ("form_args", "rule"),
    [
        ({"unit": "CB9", "folder": "CB9"}, "F3"),
        ({"unit": "CB2", "folder": "CB1"}, "F4"),
        ({"period": "2025Q2"}, "F5"),
    ],
)
def test_file_level_rules(form_args: dict, rule: str) -> None:
    assert (rule, "error") in problems_of(GOOD, **form_args)


def test_leaf_indicator_on_a_unit_with_children_is_v2() -> None:
    parent_report = {
        code: GOOD[code]
        for code in (
            "sessions_in_person",
            "sessions_online",
            "sessions_hybrid",
            "sessions_total",
            "connection_points",
        )
    }
    assert problems_of(parent_report, unit="CS1", folder="CS1") == []
    # members on a committee is V2; the R4w warning on the same figures comes along
    assert sorted(problems_of(parent_report | {"members": "30"}, unit="CS1", folder="CS1")) == [
        ("R4w", "warning"),
        ("V2", "error"),
    ]


def test_a_rule_whose_values_are_all_blank_is_skipped() -> None:
    minimal = {"members": "10", "members_attended": "10"}
    assert problems_of(minimal) == []


def test_blank_counts_as_zero_in_relations() -> None:
    # sessions_total given, the forms left blank: 3 ≠ 0
    assert problems_of({"members": "5", "members_attended": "5", "sessions_total": "3"}) == [
        ("R1", "error")
    ]


def test_one_batch_keeps_each_submission_apart() -> None:
    inputs = [
        SubmissionInput("good", "CB1", form(GOOD)),
        SubmissionInput("bad", "CB2", form(GOOD | {"sessions_total": "9"}, unit="CB2")),
    ]
    found = validate_submissions(inputs, CONTEXT)
    assert found["good"] == []
    assert [problem.rule for problem in found["bad"]] == ["R1"]
    assert "(9)" in found["bad"][0].message and "(3)" in found["bad"][0].message


def test_messages_are_vietnamese_and_name_row_and_indicator() -> None:
    submission = SubmissionInput("s1", "CB1", form(GOOD | {"members": "mười hai"}))
    (problem,) = validate_submissions([submission], CONTEXT)["s1"]
    assert problem.row_number == 9 and problem.indicator_code == "members"
    assert "Dòng 9" in problem.message and "Tổng số đảng viên" in problem.message
    assert "mười hai" in problem.message


def test_stored_suites_are_written_from_the_rules_table() -> None:
    for name, suite in build_suites().items():
        assert read_suite(name) == suite, "run `tonghop rules build` after editing rules.toml"
    rule_ids = {rule.id for rule in load_rules()}
    assert rule_ids == {
        "F3",
        "F4",
        "F5",
        "F6",
        "V1",
        "V2",
        "V3",
        "R1",
        "R2",
        "R3",
        "R4",
        "R4w",
        "R5",
        "R6",
        "R7",
        "R8",
        "O1",
        "O2",
    }


# --- O1 and O2: the audit warnings --------------------------------------------------------------


def unit(code: str, parent: str | None, kind: str, name: str | None = None) -> Unit:
    return Unit(code, name or f"Chi bộ {code}", parent, kind, None, None, None, None)


# Two committees with sixteen cells each, and grassroots cells and committees side by side
# under the province.
UNITS = [
    unit("TU", None, "province", "Tỉnh ủy"),
    unit("CS1", "TU", "grassroots_committee", "Đảng bộ Sở Y tế"),
    unit("CS2", "TU", "grassroots_committee", "Đảng bộ Sở Tài chính"),
    *(unit(f"A{number:02d}", "CS1", "cell") for number in range(16)),
    *(unit(f"B{number:02d}", "CS2", "cell") for number in range(16)),
    *(unit(f"G{number:02d}", "TU", "grassroots_cell") for number in range(16)),
    *(unit(f"K{number:02d}", "TU", "grassroots_committee") for number in range(16)),
]
BY_CODE = {item.code: item for item in UNITS}
AUDIT_PERIOD = "2026Q3"


def audit_context(
    previous: dict[str, tuple[str, float]] | None = None,
    stored: list[tuple[str, str, float]] = (),
) -> ValidationContext:
    """A context whose comparisons hold `previous` and the stored (unit, indicator, number)."""
    siblings = pd.DataFrame(
        [
            (code, BY_CODE[code].parent_code, BY_CODE[code].kind, indicator, number)
            for code, indicator, number in stored
        ],
        columns=SIBLING_COLUMNS,
    )
    return ValidationContext(
        period=AUDIT_PERIOD,
        active_unit_codes=frozenset(BY_CODE),
        units_with_children=frozenset({"TU", "CS1", "CS2"} | {f"K{n:02d}" for n in range(16)}),
        comparisons=Comparisons(previous=previous or {}, siblings=siblings, units=BY_CODE),
    )


def leaf_report(members: str | None = "20", **values: str) -> dict[str, str | None]:
    return {"members": members, "members_attended": members} | values


def audit(reports: dict[str, dict[str, str | None]], context: ValidationContext) -> dict[str, list]:
    """Validate one report per unit (submission id = unit code) in one batch."""
    inputs = [
        SubmissionInput(code, code, form(values, unit=code, period=AUDIT_PERIOD))
        for code, values in reports.items()
    ]
    return validate_submissions(inputs, context)


@pytest.mark.parametrize(
    ("current", "previous", "warned"),
    [
        ("120", ("2026Q2", 100.0), False),  # exactly 20%: allowed
        ("80", ("2026Q2", 100.0), False),
        ("1201", ("2026Q2", 1000.0), True),  # 20.1%
        ("799", ("2026Q2", 1000.0), True),
        ("130", ("2025Q4", 100.0), True),  # the latest earlier quarter, however far back
        ("130", None, False),  # nothing accepted before
        ("130", ("2026Q2", 0.0), False),  # no change can be measured from 0
        (None, ("2026Q2", 100.0), False),  # blank members: V3, and nothing to compare
        ("mười hai", ("2026Q2", 100.0), False),  # V1, and nothing to compare
    ],
)
def test_o1_compares_members_with_the_last_accepted_quarter(
    current: str | None, previous: tuple[str, float] | None, warned: bool
) -> None:
    context = audit_context({"A00": previous} if previous else {})
    found = audit({"A00": leaf_report(current)}, context)["A00"]
    assert [problem.rule for problem in found if problem.rule == "O1"] == (["O1"] if warned else [])
    assert all(problem.severity == "error" for problem in found if problem.rule != "O1")


def test_o1_message_names_both_figures_and_the_quarter() -> None:
    context = audit_context({"A00": ("2026Q2", 100.0), "A01": ("2026Q1", 1000.0)})
    found = audit({"A00": leaf_report("130"), "A01": leaf_report("799")}, context)
    (rise,) = found["A00"]
    assert (rise.rule, rise.severity, rise.indicator_code) == ("O1", "warning", "members")
    assert rise.message.startswith(
        "Tổng số đảng viên kỳ này (130) tăng 30,0% so với báo cáo Quý II năm 2026 (100), "
        "vượt mức thay đổi 20,0%."
    )
    (fall,) = found["A01"]
    assert "(799) giảm 20,1% so với báo cáo Quý I năm 2026 (1.000)" in fall.message


def test_o1_shows_enough_decimals_to_differ_from_the_limit() -> None:
    context = audit_context({"A00": ("2026Q2", 2500.0)})
    (problem,) = audit({"A00": leaf_report("3001")}, context)["A00"]
    assert "tăng 20,04%" in problem.message


def test_o1_leaves_a_file_of_another_unit_to_f4() -> None:
    context = audit_context({"A00": ("2026Q2", 100.0)})
    submission = SubmissionInput(
        "s1", "A00", form(leaf_report("20"), unit="A01", period=AUDIT_PERIOD)
    )
    found = validate_submissions([submission], context)["s1"]
    assert [problem.rule for problem in found] == ["F4"]


def news(*figures: float, prefix: str = "A", start: int = 1) -> list[tuple[str, str, float]]:
    """Stored news_items of units prefix01, prefix02…"""
    return [
        (f"{prefix}{start + index:02d}", "news_items", figure)
        for index, figure in enumerate(figures)
    ]


@pytest.mark.parametrize(
    ("tested", "value", "stored", "expected"),
    [
        # seven siblings are too few for a median to mean much
        ("A00", "85", news(*[6] * 7), []),
        ("A00", "85", news(*[6] * 8), ["O2"]),
        # identical siblings: the spread is at least 3/4 of their median, 6 + 8 × 4.5 = 42
        ("A00", "12", news(*[6] * 12), []),
        ("A00", "42", news(*[6] * 12), []),
        ("A00", "43", news(*[6] * 12), ["O2"]),
        # all at 1: the floor of 1 keeps the threshold at 1 + 8 = 9
        ("A00", "9", news(*[1] * 12), []),
        ("A00", "10", news(*[1] * 12), ["O2"]),
        # widely spread siblings widen the threshold: median 10, MAD 8, 10 + 8 × 8 = 74
        ("A00", "74", news(1, 2, 2, 3, 10, 10, 18, 20, 25, 30, 40), []),
        ("A00", "75", news(1, 2, 2, 3, 10, 10, 18, 20, 25, 30, 40), ["O2"]),
        # a 0 says the activity did not take place: four figures are left to compare with
        ("A00", "85", news(*[0] * 11, 6, 6, 6, 6), []),
        # cells of another committee are not siblings
        ("A00", "85", news(*[6] * 12, prefix="B"), []),
        # grassroots cells are compared with grassroots cells, not with committees beside them
        ("G00", "85", news(*[6] * 12, prefix="G"), ["O2"]),
        ("G00", "85", news(*[6] * 12, prefix="K"), []),
        # committees' own figures scale with their subtrees: not compared
        ("K00", "85", news(*[6] * 12, prefix="K"), []),
        # the unit's own stored figure is not its sibling
        ("A00", "85", [("A00", "news_items", 85.0), *news(*[6] * 7)], []),
    ],
)
def test_o2_flags_a_count_far_above_its_siblings(
    tested: str, value: str, stored: list, expected: list[str]
) -> None:
    context = audit_context(stored=stored)
    report = (
        leaf_report(news_items=value)
        if BY_CODE[tested].kind != "grassroots_committee"
        else {"news_items": value}
    )
    found = audit({tested: report}, context)[tested]
    assert [problem.rule for problem in found] == expected


def test_o2_message_names_the_figure_the_median_the_threshold_and_the_siblings() -> None:
    stored = news(4, 5, 5, 6, 6, 6, 6, 6, 7, 7, 8, 9)
    (problem,) = audit({"A00": leaf_report(news_items="85")}, audit_context(stored=stored))["A00"]
    assert (problem.rule, problem.severity) == ("O2", "warning")
    assert (problem.indicator_code, problem.row_number) == ("news_items", 11)
    assert problem.message == (
        "Dòng 11: chỉ tiêu «Số tin bài tuyên truyền đã đăng tải» có giá trị 85, cao bất thường "
        "so với 12 chi bộ trực thuộc khác của Đảng bộ Sở Y tế (trung vị 6, ngưỡng 42). "
        "Đề nghị kiểm tra lại; nếu số liệu đúng, không cần gửi lại."
    )


def test_o2_batch_figures_replace_the_stored_ones() -> None:
    # Stored, seven of the twelve siblings reported 100 and the median is 100; their new files
    # of the batch say 6, and 6 is what the batch's 85 is then held against.
    stored = news(*[100] * 7, *[6] * 5)
    context = audit_context(stored=stored)
    alone = audit({"A00": leaf_report(news_items="85")}, context)["A00"]
    assert alone == []
    corrected = {f"A{number:02d}": leaf_report(news_items="6") for number in range(1, 8)}
    batch = audit({"A00": leaf_report(news_items="85")} | corrected, context)
    assert [problem.rule for problem in batch["A00"]] == ["O2"]
    assert "(trung vị 6, ngưỡng 42)" in batch["A00"][0].message
    assert all(batch[code] == [] for code in corrected)


def test_o2_compares_the_batch_with_itself_when_nothing_is_stored() -> None:
    reports = {f"A{number:02d}": leaf_report(news_items="3") for number in range(1, 10)}
    found = audit({"A00": leaf_report(news_items="50")} | reports, audit_context())
    assert [problem.rule for problem in found["A00"]] == ["O2"]
    assert "so với 9 chi bộ trực thuộc khác" in found["A00"][0].message


def test_o2_of_several_files_of_a_unit_the_last_counts() -> None:
    def sent(submission_id: str, code: str, figure: str) -> SubmissionInput:
        return SubmissionInput(
            submission_id,
            code,
            form(leaf_report(news_items=figure), unit=code, period=AUDIT_PERIOD),
        )

    # A05–A08 first sent 300 and then corrected it to 3 in the same run: each is one sibling,
    # with its last figure (had the first counted, the median would be 151,5)
    first = [sent(f"old{number}", f"A{number:02d}", "300") for number in range(5, 9)]
    last = [sent(f"new{number}", f"A{number:02d}", "3") for number in range(1, 9)]
    found = validate_submissions([*first, *last, sent("t", "A00", "40")], audit_context())
    assert [problem.rule for problem in found["t"]] == ["O2"]
    assert "so với 8 chi bộ trực thuộc khác" in found["t"][0].message
    assert "(trung vị 3, ngưỡng 21)" in found["t"][0].message
    # the first files are compared too, and are outliers themselves
    assert all([problem.rule for problem in found[f"old{n}"]] == ["O2"] for n in range(5, 9))


def test_without_comparisons_o1_and_o2_say_nothing() -> None:
    assert problems_of(GOOD | {"members": "2000", "news_items": "9999"}) == [("R4w", "warning")]


def test_audit_warnings_never_reject() -> None:
    context = audit_context({"A00": ("2026Q2", 100.0)}, news(*[6] * 12))
    found = audit({"A00": leaf_report("130", news_items="85")}, context)["A00"]
    assert sorted(problem.rule for problem in found) == ["O1", "O2"]
    received = ReceivedFile(
        "A00", "A00", "a.xlsx", None, "0" * 64, 1, datetime(2026, 10, 5), "archive/A00/a.xlsx"
    )
    outcome = outcome_of(
        received,
        form(leaf_report("130", news_items="85"), unit="A00", period=AUDIT_PERIOD),
        found,
        AUDIT_PERIOD,
        datetime(2026, 10, 5, 1),
        arrival=1,
    )
    assert outcome.submission["outcome"] == "accepted_with_warnings"
    assert (outcome.submission["error_count"], outcome.submission["warning_count"]) == (0, 2)
    assert {row["indicator_code"]: row["number"] for row in outcome.values}["news_items"] == 85.0


def test_an_audit_rule_without_its_settings_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nid = "O2"\nseverity = "warning"\ncheck = "sibling_outlier"\n'
        'unit_kinds = ["cell"]\nmin_siblings = 8\ntitle = "t"\nmessage = "m"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="lacks mad_factor, mad_floor, mad_floor_share"):
        load_rules(path)
