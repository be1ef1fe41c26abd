"""The demo data: a registry shaped exactly like seed 001 and a quarter's forms, sound except for
the planned faults, written into the inbox with their receipt times."""

from __future__ import annotations

import re
import zipfile
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tonghop.catalogue import by_code
from tonghop.comparisons import Comparisons
from tonghop.demo import (
    CORRECTED_FAULTS,
    ERROR_FAULTS,
    OUTLIER_NEWS_ITEMS,
    PROVINCE_CODE,
    SEED_CELLS,
    SEED_MEMBERS,
    SEED_SECTORS,
    UNKNOWN_CODE,
    WARNING_FAULTS,
    DemoPlan,
    demo_members,
    demo_units,
    plan_demo,
    write_demo_workspace,
)
from tonghop.demo.values import _vn_number
from tonghop.periods import Period
from tonghop.reading import FormRead, FormRow, normalise_number
from tonghop.registry import (
    Unit,
    active_units,
    codes_with_active_children,
    read_registry,
    validate_registry,
)
from tonghop.validation import SubmissionInput, ValidationContext, validate_submissions

PERIOD = Period(2025, 1)
DEADLINE_DAYS = 10
DEADLINE = PERIOD.deadline(DEADLINE_DAYS)
WINDOW_START = datetime.combine(PERIOD.last_day + timedelta(days=1), datetime.min.time())
WINDOW_END = datetime.combine(DEADLINE + timedelta(days=1), datetime.min.time())


@pytest.fixture(scope="module")
def units() -> list[Unit]:
    return demo_units()


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return plan_demo(PERIOD, DEADLINE_DAYS, seed=2025)


def _number(value: object) -> int | float | None:
    """A value as the reader understands it: `1.117` and `1 117` are 1117; else None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{1,3}([. ]\d{3})*|\d+", text):
        return int(text.replace(".", "").replace(" ", ""))
    return None


def _rule_failures(values: dict[str, object], is_leaf: bool) -> set[str]:
    """The SPEC §4 rules (V1, V2, F6, R1–R8) the values break, blank counting as 0."""
    catalogue = by_code()
    failures: set[str] = set()
    numbers: dict[str, float] = {}
    for code, value in values.items():
        indicator = catalogue.get(code)
        if indicator is None:
            failures.add("F6")
            continue
        if indicator.is_leaf_only and not is_leaf:
            failures.add("V2")
        if indicator.kind == "text":
            continue
        number = _number(value)
        if number is None or number < 0 or number != int(number):
            failures.add("V1")
            continue
        if indicator.kind == "flag" and number not in (0, 1):
            failures.add("V1")
        numbers[code] = number

    def n(code: str) -> float:
        return numbers.get(code, 0)

    sessions = ("sessions_in_person", "sessions_online", "sessions_hybrid")
    if n("sessions_total") != sum(n(code) for code in sessions):
        failures.add("R1")
    if n("connection_points") > 0 and n("sessions_online") + n("sessions_hybrid") == 0:
        failures.add("R2")
    if n("members_exempt") > n("members"):
        failures.add("R3")
    accounted = n("members_attended") + n("members_absent")
    if accounted > n("members") - n("members_exempt"):
        failures.add("R4")
    elif is_leaf and accounted < n("members") - n("members_exempt"):
        failures.add("R4w")
    if n("members_makeup") > n("members_absent"):
        failures.add("R5")
    if n("essays_excellent") > n("essays"):
        failures.add("R6")
    for prefix in ("awareness", "newmember", "skills"):
        if (n(f"{prefix}_classes") > 0) != (n(f"{prefix}_trainees") > 0):
            failures.add("R7")
    for first, second in (("briefings", "briefing_attendance"), ("contests", "contest_entries")):
        if (n(first) > 0) != (n(second) > 0):
            failures.add("R8")
    if is_leaf and ("members" not in numbers or "members_attended" not in numbers):
        failures.add("V3")
    return failures


# Which rules each planned fault breaks; file-level faults break none in the values.
EXPECTED_FAILURES = {
    None: set(),
    "R1": {"R1"},
    "V1_text": {"V1"},
    "V1_negative": {"V1"},
    "V1_fraction": {"V1"},
    "V2_leaf_values": {"V2"},
    "F6_unknown_code": {"F6"},
    "F4_other_unit": set(),
    "F5_wrong_period": set(),
    "F1_corrupt": set(),
    "F2_no_sheet": set(),
    "R4w_cell": {"R4w"},
    "R4w_grassroots_cell": {"R4w"},
    "R8_briefings": {"R8"},
    "R8_contests": {"R8"},
    "O2_news_items": set(),
}


# --- The registry ------------------------------------------------------------------------------


def test_demo_units_reproduce_the_shape_of_seed_001(units: list[Unit]) -> None:
    kinds = Counter(unit.kind for unit in units)
    assert kinds == {
        "province": 1,
        "upper": 2,
        "grassroots_committee": 93,
        "grassroots_cell": 28,
        "partial_committee": 12,
        "cell": SEED_CELLS,
    }
    sectors = Counter(unit.sector for unit in units if unit.is_grassroots)
    assert sectors == SEED_SECTORS
    assert all(unit.sector is None for unit in units if not unit.is_grassroots)


def test_members_spread_exactly_over_the_leaves(units: list[Unit]) -> None:
    members = demo_members(units, SEED_MEMBERS)
    parents = {unit.parent_code for unit in units}
    leaves = {unit.code for unit in units if unit.code not in parents}
    assert set(members) == leaves
    assert {unit.kind for unit in units if unit.code in leaves} == {"cell", "grassroots_cell"}
    assert len(leaves) == SEED_CELLS + 28
    assert sum(members.values()) == 14_103
    assert all(5 <= count <= 40 for count in members.values())
    # Stable: the same cell has the same members whatever else is asked.
    assert demo_members(units, SEED_MEMBERS) == members


def test_the_hierarchy_is_ragged_and_split_between_the_two_blocs(units: list[Unit]) -> None:
    by = {unit.code: unit for unit in units}
    under_province = [unit for unit in units if unit.parent_code == PROVINCE_CODE]
    assert Counter(unit.kind for unit in under_province) == {"upper": 2, "grassroots_cell": 2}
    grassroots = [unit for unit in units if unit.is_grassroots]
    agency_parents = Counter(unit.parent_code for unit in grassroots if unit.sector == "agency")
    assert agency_parents == {"DUK-CQ": 86, PROVINCE_CODE: 2}
    enterprise_parents = Counter(unit.parent_code for unit in grassroots if unit.sector != "agency")
    assert enterprise_parents == {"DUK-DN": 33}
    assert by["DUK-CQ"].name == "Đảng ủy Khối Cơ quan tỉnh"
    assert by["DUK-DN"].name == "Đảng ủy Khối Doanh nghiệp tỉnh"
    assert by[PROVINCE_CODE].name.startswith("Tỉnh ủy ")

    children = Counter(unit.parent_code for unit in units)
    for unit in units:
        if unit.kind == "partial_committee":
            assert by[unit.parent_code].kind == "grassroots_committee"
            assert 3 <= children[unit.code] <= 5
            assert {by[c].kind for c in by if by[c].parent_code == unit.code} == {"cell"}
        if unit.kind == "grassroots_committee":
            assert children[unit.code] >= 3
        if unit.kind == "grassroots_cell":
            assert children[unit.code] == 0


def test_registry_is_sound_and_round_trips(units: list[Unit], tmp_path: Path) -> None:
    assert validate_registry(units) == []
    from tonghop.registry import write_registry_csv

    path = tmp_path / "registry.csv"
    write_registry_csv(path, units)
    read, problems = read_registry(path)
    assert problems == []
    assert [(u.code, u.name, u.parent_code, u.kind, u.sector) for u in read] == [
        (u.code, u.name, u.parent_code, u.kind, u.sector) for u in units
    ]


def test_registry_names_codes_and_emails_look_real(units: list[Unit]) -> None:
    by = {unit.code: unit for unit in units}
    assert by["CQ001-CB01"].parent_code == "CQ001"
    assert all(re.fullmatch(r"[A-Z0-9-]+", unit.code) for unit in units)
    prefixes = {
        "grassroots_committee": "Đảng bộ ",
        "grassroots_cell": "Chi bộ ",
        "partial_committee": "Đảng bộ bộ phận ",
        "cell": "Chi bộ ",
    }
    for unit in units:
        if unit.kind in prefixes:
            assert unit.name.startswith(prefixes[unit.kind]), unit
    for code in (PROVINCE_CODE, "DUK-CQ", "DUK-DN"):
        assert by[code].email == f"vanphong.{code.lower()}@example.vn"
    # Every unit has an address but a few cells, which are reached through their parent.
    unaddressed = [unit for unit in units if not unit.email]
    assert 5 <= len(unaddressed) <= 20
    assert all(unit.kind == "cell" and by[unit.parent_code].email for unit in unaddressed)
    assert by["CQ001-CB01"].email == "chibo.cq001-cb01@example.vn"
    names = {unit.name for unit in units}
    assert {"Đảng bộ Sở Tài chính", "Chi bộ Trường Cao đẳng Y tế"} <= names
    assert any(name.startswith("Đảng bộ Công ty Điện lực") for name in names)
    assert "Chi bộ Phòng Kế hoạch - Tài chính" in names
    siblings = Counter((unit.parent_code, unit.name) for unit in units)
    assert max(siblings.values()) == 1
    # Every unit exists a few years before any period the demo is run for.
    assert all(unit.valid_from and unit.valid_from.year <= 2023 for unit in units)
    assert all(unit.valid_to is None for unit in units)


def test_demo_units_are_deterministic(units: list[Unit]) -> None:
    assert demo_units() == units


@pytest.mark.parametrize(
    ("value", "separator", "text"),
    [
        (0, ".", "0"),
        (999, ".", "999"),
        (1117, ".", "1.117"),
        (14103, ".", "14.103"),
        (1_000_000, ".", "1.000.000"),
        (1117, " ", "1 117"),
    ],
)
def test_vietnamese_number_text(value: int, separator: str, text: str) -> None:
    assert _vn_number(value, separator) == text
    assert _number(text) == value


# --- The plan ----------------------------------------------------------------------------------


def test_faults_are_planned_once_each_on_distinct_units(plan: DemoPlan) -> None:
    faults = [item.fault for item in plan.submissions if item.fault]
    assert sorted(faults) == sorted((*ERROR_FAULTS, *WARNING_FAULTS))
    assert 8 <= len(ERROR_FAULTS) <= 12 and 3 <= len(WARNING_FAULTS) <= 5
    faulty_units = [item.unit_code for item in plan.submissions if item.fault]
    assert len(set(faulty_units)) == len(faulty_units)
    assert not set(faulty_units) & set(plan.missing)


def test_every_form_is_consistent_except_for_its_planned_fault(plan: DemoPlan) -> None:
    parents = {unit.parent_code for unit in plan.units}
    for item in plan.submissions:
        is_leaf = item.form_unit_code not in parents
        assert _rule_failures(item.values, is_leaf) == EXPECTED_FAILURES[item.fault], item


def test_values_are_plausible(plan: DemoPlan) -> None:
    parents = {unit.parent_code for unit in plan.units}
    kinds = {unit.code: unit.kind for unit in plan.units}
    sound = [item for item in plan.submissions if item.fault is None]
    leaves = [item for item in sound if item.unit_code not in parents]
    for item in leaves:
        values = {code: _number(value) for code, value in item.values.items()}
        members, exempt = values["members"], values["members_exempt"]
        assert 5 <= members <= 40 and 0 <= exempt <= 2
        # ~88–99% attend; in a cell of six, one absent is already 83%.
        assert 0.88 * (members - exempt) - 1 <= values["members_attended"] <= members - exempt
    non_leaves = [item for item in sound if item.unit_code in parents]
    catalogue = by_code()
    for item in non_leaves:
        assert not any(catalogue[code].is_leaf_only for code in item.values)
    # Texts in some grassroots organisations' forms and in every upper's.
    for code in ("highlights", "limitations", "proposals"):
        with_text = {kinds[item.unit_code] for item in sound if code in item.values}
        assert {"upper", "province", "grassroots_committee"} <= with_text
    # Seed 001: 68% of grassroots organisations held online study.
    subtree_online: dict[str, bool] = defaultdict(bool)
    up = {unit.code: unit.parent_code for unit in plan.units}
    for item in sound:
        online = (_number(item.values.get("sessions_online")) or 0) + (
            _number(item.values.get("sessions_hybrid")) or 0
        )
        code: str | None = item.unit_code
        while code is not None and online:
            if kinds[code] in ("grassroots_committee", "grassroots_cell"):
                subtree_online[code] = True
                break
            code = up[code]
    share = len(subtree_online) / 121
    assert 0.6 <= share <= 0.72
    # Some sound forms type numbers as Vietnamese text, `1.117` style.
    typed = [
        value
        for item in sound
        for value in item.values.values()
        if isinstance(value, str) and re.fullmatch(r"\d{1,3}([. ]\d{3})+", value)
    ]
    assert len(typed) >= 3


def test_missing_and_late_units(plan: DemoPlan) -> None:
    by = {unit.code: unit for unit in plan.units}
    senders = {item.unit_code for item in plan.submissions}
    assert not senders & set(plan.missing)
    assert senders | set(plan.missing) == set(by)
    assert 30 <= len(plan.missing) <= 45  # ~3% of 1,253
    assert sum(by[code].is_grassroots for code in plan.missing) == 1
    assert 40 <= len(plan.late) <= 60  # ~4%
    assert {PROVINCE_CODE, "DUK-CQ", "DUK-DN"}.isdisjoint(plan.missing + plan.late)

    first_good: dict[str, datetime] = {}
    for item in sorted(plan.submissions, key=lambda item: item.received_at):
        if item.fault not in ERROR_FAULTS:
            first_good.setdefault(item.unit_code, item.received_at)
    late = {code for code, moment in first_good.items() if moment.date() > DEADLINE}
    assert late == set(plan.late)
    for item in plan.submissions:
        assert item.received_at >= WINDOW_START
        if item.unit_code not in plan.late:
            assert item.received_at < WINDOW_END, item
        assert item.prepared_on is not None and item.prepared_on <= item.received_at.date()


def test_two_rejected_units_send_a_corrected_file_later(plan: DemoPlan) -> None:
    files = defaultdict(list)
    for item in plan.submissions:
        files[item.unit_code].append(item)
    corrected = {code: items for code, items in files.items() if len(items) > 1}
    assert sorted(items[0].fault for items in corrected.values()) == sorted(CORRECTED_FAULTS)
    for code, (wrong, right) in corrected.items():
        assert wrong.received_at < right.received_at
        assert right.fault is None and right.form_period == str(PERIOD)
        assert right.file_name != wrong.file_name
        assert (code in plan.late) == (right.received_at.date() > DEADLINE)
    assert sum(code in plan.late for code in corrected) == 1


def test_file_level_faults_change_what_the_header_says(plan: DemoPlan) -> None:
    by_fault = {item.fault: item for item in plan.submissions if item.fault}
    other = by_fault["F4_other_unit"]
    assert other.form_unit_code != other.unit_code
    by = {unit.code: unit for unit in plan.units}
    assert by[other.form_unit_code].parent_code == by[other.unit_code].parent_code
    assert other.form_unit_code in {item.unit_code for item in plan.submissions}
    assert by_fault["F5_wrong_period"].form_period == str(PERIOD.previous())
    assert UNKNOWN_CODE in by_fault["F6_unknown_code"].values
    assert UNKNOWN_CODE not in by_code()
    for item in plan.submissions:
        if item.fault not in ("F4_other_unit", "F5_wrong_period"):
            assert (item.form_unit_code, item.form_period) == (item.unit_code, str(PERIOD))


def _as_read(code: str, value: object) -> str | None:
    """A planned value as the reader hands it over: typed number texts normalised, numbers
    without a spurious `.0`."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    indicator = by_code().get(code)
    if isinstance(value, str) and indicator is not None and indicator.kind in ("count", "flag"):
        return normalise_number(value)
    return str(value).strip()


def _validate_plan(plan: DemoPlan, period: Period) -> dict[str, list]:
    """Every readable planned file validated in one batch, as the collector would, with the
    registry to place units among their siblings but nothing stored before; by planned file."""
    inputs, faults = [], {}
    for number, item in enumerate(sorted(plan.submissions, key=lambda item: item.received_at)):
        if item.fault in ("F1_corrupt", "F2_no_sheet"):
            continue
        rows = [
            FormRow(9 + index, code, _as_read(code, value), None)
            for index, (code, value) in enumerate(item.values.items())
        ]
        form = FormRead(item.form_unit_code, item.form_period, None, None, None, rows, [])
        inputs.append(SubmissionInput(f"s{number}", item.unit_code, form))
        faults[f"s{number}"] = item
    context = ValidationContext(
        period=str(period),
        active_unit_codes=frozenset(u.code for u in active_units(plan.units, period.last_day)),
        units_with_children=frozenset(codes_with_active_children(plan.units, period.last_day)),
        comparisons=Comparisons(units={unit.code: unit for unit in plan.units}),
    )
    found = validate_submissions(inputs, context)
    return {submission_id: (faults[submission_id], found[submission_id]) for submission_id in found}


@pytest.mark.parametrize(
    ("period", "seed"),
    [(PERIOD, 2025), (Period(2026, 3), 2025), (Period(2025, 2), 7)],
)
def test_the_only_sibling_outlier_is_the_planned_one(period: Period, seed: int) -> None:
    plan = plan_demo(period, DEADLINE_DAYS, seed=seed)
    validated = _validate_plan(plan, period)
    outliers = [
        (item, problem, problems)
        for item, problems in validated.values()
        for problem in problems
        if problem.rule == "O2"
    ]
    assert [(item.fault, problem.indicator_code) for item, problem, _ in outliers] == [
        ("O2_news_items", "news_items")
    ]
    ((item, problem, problems),) = outliers
    assert problem.severity == "warning"
    # the outlier's file is otherwise sound: accepted, with that one warning
    assert [found.rule for found in problems] == ["O2"]
    assert f"có giá trị {OUTLIER_NEWS_ITEMS}," in problem.message
    by = {unit.code: unit for unit in plan.units}
    parent_name = by[by[item.unit_code].parent_code].name
    assert f"chi bộ trực thuộc khác của {parent_name} (trung vị" in problem.message
    # a single quarter has nothing earlier to compare members with
    assert not any(
        found.rule == "O1" for _, found_list in validated.values() for found in found_list
    )


def test_plan_is_deterministic_for_a_seed(plan: DemoPlan) -> None:
    assert plan_demo(PERIOD, DEADLINE_DAYS, seed=2025) == plan
    other = plan_demo(PERIOD, DEADLINE_DAYS, seed=7)
    assert other.submissions != plan.submissions
    assert other.units == plan.units and other.members == plan.members


def test_the_next_quarter_keeps_members_and_moves_the_window(plan: DemoPlan) -> None:
    following = plan_demo(PERIOD.next(), DEADLINE_DAYS, seed=2025)
    start = datetime.combine(PERIOD.next().last_day, datetime.min.time())
    assert all(item.received_at > start for item in following.submissions)
    assert following.members == plan.members


# --- Writing -----------------------------------------------------------------------------------


def _small_registry() -> list[Unit]:
    """A slice of the demo registry (every kind, both blocs, partial committees), quick to write."""
    units = demo_units()
    by = {unit.code: unit for unit in units}
    grassroots = [unit for unit in units if unit.is_grassroots]
    committees = [unit.code for unit in grassroots if unit.kind == "grassroots_committee"]
    cells = [unit.code for unit in grassroots if unit.kind == "grassroots_cell"]
    with_partials = {unit.parent_code for unit in units if unit.kind == "partial_committee"}
    keep = set(committees[:6]) | set(cells[:3]) | set(cells[-2:]) | set(sorted(with_partials)[:1])
    keep |= set([code for code in committees if code.startswith("DN")][:3])

    def kept(unit: Unit) -> bool:
        code: str | None = unit.code
        while code is not None:
            if code in keep:
                return True
            code = by[code].parent_code
        return unit.kind in ("province", "upper")

    return [unit for unit in units if kept(unit)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoPlan]:
    root = tmp_path_factory.mktemp("demo")
    written = write_demo_workspace(root, PERIOD, DEADLINE_DAYS, seed=11, units=_small_registry())
    return root, written


def test_small_registry_still_has_room_for_every_fault(workspace: tuple[Path, DemoPlan]) -> None:
    _, written = workspace
    assert 100 <= len(written.units) <= 250
    faults = sorted(item.fault for item in written.submissions if item.fault)
    assert faults == sorted((*ERROR_FAULTS, *WARNING_FAULTS))


def test_workspace_has_the_registry_and_one_folder_per_sender(
    workspace: tuple[Path, DemoPlan],
) -> None:
    root, written = workspace
    read, problems = read_registry(root / "registry.csv")
    assert problems == []
    assert [unit.code for unit in read] == [unit.code for unit in written.units]
    folders = {path.name for path in (root / "inbox").iterdir() if path.is_dir()}
    assert folders == {item.unit_code for item in written.submissions}
    assert written.missing and not folders & set(written.missing)
    files = sorted(path for path in (root / "inbox").rglob("*") if path.is_file())
    assert len(files) == len(written.submissions)


def test_files_carry_their_receipt_time(workspace: tuple[Path, DemoPlan]) -> None:
    root, written = workspace
    for item in written.submissions:
        path = root.joinpath(*item.path_parts)
        local = datetime.fromtimestamp(path.stat().st_mtime, ZoneInfo("Asia/Ho_Chi_Minh"))
        assert local.replace(tzinfo=None) == item.received_at
        if item.unit_code in written.late:
            assert item.fault in ERROR_FAULTS or item.received_at.date() > DEADLINE


def test_written_forms_hold_the_planned_header_and_values(
    workspace: tuple[Path, DemoPlan],
) -> None:
    root, written = workspace
    checked = 0
    for item in written.submissions:
        if item.fault in ("F1_corrupt", "F2_no_sheet"):
            continue
        sheet = load_workbook(root.joinpath(*item.path_parts), read_only=True)["BaoCao"]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][2] == item.form_unit_code and rows[2][2] == item.form_period
        table = {row[1]: row[4] for row in rows[8:] if row[1] is not None}
        for code, value in item.values.items():
            assert table[code] == value, (item, code)
        checked += 1
    assert checked == len(written.submissions) - 2


def test_broken_files_are_broken_in_their_own_way(workspace: tuple[Path, DemoPlan]) -> None:
    root, written = workspace
    by_fault = {item.fault: item for item in written.submissions if item.fault}
    corrupt = root.joinpath(*by_fault["F1_corrupt"].path_parts)
    assert corrupt.suffix == ".xlsx" and not zipfile.is_zipfile(corrupt)
    workbook = load_workbook(root.joinpath(*by_fault["F2_no_sheet"].path_parts))
    assert "BaoCao" not in workbook.sheetnames and len(workbook.sheetnames) == 1
    sheet = workbook.worksheets[0]
    assert sheet["B8"].value == "Mã chỉ tiêu"


def test_written_plan_is_the_planned_one(workspace: tuple[Path, DemoPlan]) -> None:
    _, written = workspace
    again = plan_demo(PERIOD, DEADLINE_DAYS, seed=11, units=written.units)
    assert again == written
