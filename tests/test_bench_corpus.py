"""The benchmark's generated inputs: a valid province-shaped registry, and forms made from a
template that the pipeline reads exactly as it reads the forms `write_form` writes."""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.corpus import PERIOD, TIMEZONE, FormTemplate, build_corpus, form_bytes, load_corpus
from bench.hierarchy import bench_units, upper_count
from tonghop.demo import plan_demo
from tonghop.forms import write_form
from tonghop.reading import read_form
from tonghop.registry import codes_with_active_children, read_registry, write_registry_csv

SHEET = "xl/worksheets/sheet1.xml"
# Texts a unit may type: Vietnamese, XML's special characters, spaces at either end, a control
# character XML cannot hold, a formula-looking text, an empty text.
TRICKY = {
    "highlights": " Đảng viên <b> & \"nghị quyết\" 'số 1' > 2 ",
    "limitations": "Hạn chế:\nđường truyền\tchưa ổn định\x01.",
    "proposals": "=SUM(A1:A2)",
}


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    units = bench_units(600)
    plan = plan_demo(PERIOD, 10, 2025, units=units)
    folder = tmp_path_factory.mktemp("templates")
    templates = {flag: FormTemplate.build(PERIOD, flag, folder) for flag in (False, True)}
    return units, plan, templates


def test_registry_is_valid_and_shaped_like_a_province(tmp_path: Path) -> None:
    units = bench_units(2000)
    assert units == bench_units(2000)  # deterministic
    path = tmp_path / "registry.csv"
    write_registry_csv(path, units)
    read, problems = read_registry(path)
    assert problems == []
    active = [unit for unit in read if unit.active_on(PERIOD.last_day)]
    assert len(active) == 2000
    kinds = Counter(unit.kind for unit in active)
    assert kinds["province"] == 1
    assert kinds["upper"] == upper_count(2000) == 3
    grassroots = kinds["grassroots_committee"] + kinds["grassroots_cell"]
    assert 8 <= kinds["cell"] / grassroots <= 11
    assert kinds["partial_committee"] > 0
    assert any("Đảng bộ xã" in unit.name for unit in active)


def test_larger_registries_have_one_upper_per_650_units() -> None:
    units = bench_units(20_000)
    active = [unit for unit in units if unit.active_on(PERIOD.last_day)]
    assert len(active) == 20_000
    assert sum(unit.kind == "upper" for unit in active) == round(20_000 / 650)


@pytest.mark.parametrize("has_children", [False, True])
def test_template_forms_read_exactly_like_written_forms(
    planned: tuple, tmp_path: Path, has_children: bool
) -> None:
    units, plan, templates = planned
    by_code = {unit.code: unit for unit in units}
    with_children = codes_with_active_children(units, PERIOD.last_day)
    template = templates[has_children]
    chosen = [
        submission
        for submission in plan.submissions
        if (submission.form_unit_code in with_children) == has_children
        and template.fits(submission, PERIOD)
    ][:20]
    assert len(chosen) >= 15
    # some texts typed the hard way, and a preparer whose name needs escaping
    chosen += [
        replace(chosen[0], values={**chosen[0].values, **TRICKY}, preparer='Lê Thị "Hà" <&>'),
        replace(chosen[1], values={code: str(value) for code, value in chosen[1].values.items()}),
        replace(chosen[2], values={}, preparer=None),
    ]
    typed = [s for s in chosen if any(isinstance(v, str) for v in s.values.values())]
    assert typed, "the sample should hold number texts or texts"
    for number, submission in enumerate(chosen):
        unit = by_code[submission.form_unit_code]
        slow, fast = tmp_path / f"slow-{number}.xlsx", tmp_path / f"fast-{number}.xlsx"
        write_form(
            slow,
            unit,
            PERIOD,
            has_children,
            values=submission.values,
            preparer=submission.preparer,
            prepared_on=submission.prepared_on,
        )
        fast.write_bytes(form_bytes(template, unit, submission))
        assert read_form(fast, "x.xlsx") == read_form(slow, "x.xlsx"), submission.unit_code
        with zipfile.ZipFile(slow) as expected, zipfile.ZipFile(fast) as made:
            assert made.read(SHEET) == expected.read(SHEET)
            assert made.namelist() == expected.namelist()
            for name in expected.namelist():
                if name != "docProps/core.xml":  # holds the time of writing
                    assert made.read(name) == expected.read(name), name


def test_the_template_refuses_what_it_cannot_make(planned: tuple) -> None:
    _, plan, templates = planned
    faults = {submission.fault: submission for submission in plan.submissions if submission.fault}
    for fault in ("F1_corrupt", "F2_no_sheet", "F5_wrong_period", "F6_unknown_code", "V1_fraction"):
        if fault in faults:
            assert not templates[False].fits(faults[fault], PERIOD), fault


def test_corpus_is_written_once_with_receipt_times(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    corpus = build_corpus(300, 2025, workers=1, root=root)
    plan = plan_demo(PERIOD, 10, 2025, units=bench_units(300))
    assert len(corpus.files) == len(plan.submissions)
    assert corpus.faults == sum(1 for submission in plan.submissions if submission.fault)
    zone = ZoneInfo(TIMEZONE)
    for submission in plan.submissions:
        path = root.joinpath(*submission.path_parts)
        received = datetime.fromtimestamp(path.stat().st_mtime, zone).replace(tzinfo=None)
        assert received == submission.received_at
        form = read_form(path)
        if submission.fault == "F1_corrupt":
            assert [problem.rule for problem in form.problems] == ["F1"]
        elif submission.fault == "F2_no_sheet":
            assert [problem.rule for problem in form.problems] == ["F2"]
        else:
            assert form.problems == []
            assert form.unit_code == submission.form_unit_code
    late = corpus.late_form
    assert late.unit_code in plan.missing
    assert late.received_at > datetime.combine(PERIOD.deadline(10), datetime.min.time()) + (
        timedelta(days=1)
    )
    assert read_form(corpus.late_path).unit_code == late.unit_code
    # a second call reuses the cache; a stale manifest makes it rebuild
    marker = root / "inbox" / "marker"
    marker.write_text("kept")
    assert build_corpus(300, 2025, workers=1, root=root) == corpus
    assert marker.exists()
    assert load_corpus(tmp_path / "nothing") is None
    manifest = root / "manifest.json"
    manifest.write_text(
        manifest.read_text().replace('"generator_version": ', '"generator_version": -')
    )
    assert load_corpus(root) is None
