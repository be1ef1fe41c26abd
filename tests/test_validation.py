"""Every rule of SPEC §4 on a passing and a failing submission, through the one batched
Great Expectations validation; and the stored suites agree with the rules table."""

from __future__ import annotations

import pytest

from tonghop.reading import FormRead, FormRow
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
    }
