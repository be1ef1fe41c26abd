"""Great Expectations Data Docs of a run's validation: the pages name the rules in Vietnamese,
count what failed, keep no per-row detail or tracking id, and every run stays in the index;
the collect flow builds them once per run and links them from an artifact."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import latest_artifact
from tests.test_validation import GOOD, form
from tonghop.catalogue import load_catalogue
from tonghop.data_docs import (
    SHOWN_VALUES,
    VENDORED_ASSETS,
    build_data_docs,
    build_sealed_data_docs,
    run_name_of,
    vendored_assets,
)
from tonghop.layout import Workspace
from tonghop.portal.addresses import OutputAddresses
from tonghop.validation import (
    SUBMISSION_SUITE,
    VALIDATE_APART_FROM,
    VALUE_SUITE,
    BatchValidation,
    SubmissionInput,
    ValidationContext,
    run_suites,
    sealed_validation,
    validation_process,
)
from tonghop_flows.collect import collect
from tonghop_tasks.collecting import data_docs_markdown

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# More active units than a page shows of a value list: a validation is given the batch's only.
UNITS = frozenset({f"CB{number}" for number in range(SHOWN_VALUES + 15)} | {"CS1"})
CONTEXT = ValidationContext(
    period="2025Q3", active_unit_codes=UNITS, units_with_children=frozenset({"CS1"})
)


def _inputs() -> list[SubmissionInput]:
    """One good report, one whose attendance exceeds its members (R4) and whose essay count is
    not a number (V1), and one whose code is unknown and differs from its folder (F3, F4)."""
    bad = dict(GOOD, members_attended="25", essays="nhiều")
    return [
        SubmissionInput("s1", "CB1", form(GOOD)),
        SubmissionInput("s2", "CB2", form(bad, unit="CB2")),
        SubmissionInput("s3", "CB3", form(GOOD, unit="ZZ9")),
    ]


def _batch() -> BatchValidation:
    return run_suites(_inputs(), CONTEXT)


def _text(path: Path) -> str:
    """A page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _page(url: str) -> Path:
    assert url.startswith("file://")
    return Path(url.removeprefix("file://"))


def test_the_run_pages_name_each_rule_and_count_its_failures(tmp_path: Path) -> None:
    validation = _batch()
    assert {key: [p.rule for p in found] for key, found in validation.problems.items()} == {
        "s1": [],
        "s2": ["R4", "V1"],
        "s3": ["F3", "F4"],
    }
    run_time = datetime(2025, 10, 11, 8, 30, tzinfo=ZONE)
    docs = build_data_docs([validation], tmp_path, "2025Q3-lan-1", run_time)

    assert (
        docs is not None
        and docs.index == Workspace(tmp_path).data_docs_index
        and docs.index.exists()
    )
    pages = {page.suite: page for page in docs.pages}
    assert set(pages) == {VALUE_SUITE, SUBMISSION_SUITE}
    # V1 fails among the value rules; F3, F4 and R4 among the submission rules.
    assert (pages[VALUE_SUITE].failed, pages[SUBMISSION_SUITE].failed) == (1, 3)
    assert pages[SUBMISSION_SUITE].rows == 3
    assert pages[VALUE_SUITE].rows == 3 * len(GOOD)

    values = _text(_page(pages[VALUE_SUITE].url))
    assert "V1 (lỗi): Số liệu là số nguyên không âm" in values
    assert "nhiều" in values  # the value that failed
    submissions = _text(_page(pages[SUBMISSION_SUITE].url))
    assert "F4 (lỗi): Mã đơn vị khớp với thư mục nộp" in submissions
    assert "O1 (cảnh báo)" in submissions
    assert "2025Q3-lan-1" in submissions  # the run's name, not GX's "__none__"
    for page in docs.index.parent.rglob("*.html"):
        assert "dataContextId" not in page.read_text(encoding="utf-8"), page

    # The stored results keep counts and a sample of values, not every failing row, and of a
    # long value list (the catalogue's codes) its first values and how many more there are.
    stored = list((Workspace(tmp_path).gx_project / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == 2
    value_sets = []
    for path in stored:
        for outcome in json.loads(path.read_text(encoding="utf-8"))["results"]:
            assert "unexpected_index_list" not in outcome["result"]
            assert "unexpected_list" not in outcome["result"]
            value_sets.append(outcome["expectation_config"]["kwargs"].get("value_set"))
    codes = [indicator.code for indicator in load_catalogue()]
    assert len(codes) > SHOWN_VALUES
    shown = [*codes[:SHOWN_VALUES], f"… và {len(codes) - SHOWN_VALUES} giá trị khác"]
    assert shown in value_sets
    # Of the many active units, only the batch's own codes are looked up (ZZ9 is none).
    assert ["CB1", "CB2"] in value_sets
    assert ["0", "1"] in value_sets  # a short list stays whole
    # The suites' own pages list the rules.
    suite_page = docs.index.parent / "expectations" / f"{VALUE_SUITE}.html"
    assert "F6 (lỗi): Mã chỉ tiêu có trong danh mục" in _text(suite_page)


def test_a_batch_validated_apart_finds_and_shows_what_one_validated_here_does(
    tmp_path: Path,
) -> None:
    run_time = datetime(2025, 10, 11, 8, 30, tzinfo=ZONE)
    here = sealed_validation(_inputs(), CONTEXT)
    here_docs = build_sealed_data_docs([here], tmp_path / "here", "2025Q3-lan-1", run_time)
    with validation_process(VALIDATE_APART_FROM - 1) as none:
        assert none is None  # a late form is validated in the run's process
    with validation_process(VALIDATE_APART_FROM) as pool:
        assert pool is not None and pool.submit(os.getpid).result() != os.getpid()
        apart = sealed_validation(_inputs(), CONTEXT, pool)
        apart_docs = build_sealed_data_docs(
            [apart], tmp_path / "apart", "2025Q3-lan-1", run_time, pool
        )

    assert apart.problems == here.problems == _batch().problems
    assert here_docs is not None and apart_docs is not None
    assert [(p.suite, p.rows, p.evaluated, p.failed) for p in apart_docs.pages] == [
        (p.suite, p.rows, p.evaluated, p.failed) for p in here_docs.pages
    ]
    # The same pages, but for the moment each batch was made (GX names a batch by it).
    made = re.compile(r"\d{8}T\d{6}\.\d+Z")
    for mine, theirs in zip(apart_docs.pages, here_docs.pages, strict=True):
        assert made.sub("", _text(mine.path)) == made.sub("", _text(theirs.path))


def test_every_run_stays_in_the_index(tmp_path: Path) -> None:
    first = build_data_docs(
        [_batch()], tmp_path, "2025Q3-lan-1", datetime(2025, 10, 11, 8, tzinfo=ZONE)
    )
    second = build_data_docs(
        [_batch()], tmp_path, "2025Q3-lan-2", datetime(2025, 10, 12, 8, tzinfo=ZONE)
    )
    assert first is not None and second is not None
    for page in (*first.pages, *second.pages):
        assert _page(page.url).exists()
    index = second.index.read_text(encoding="utf-8")
    assert "2025Q3-lan-1" in index and "2025Q3-lan-2" in index


def test_a_run_that_validated_nothing_builds_nothing(tmp_path: Path) -> None:
    empty = run_suites([], CONTEXT)
    assert empty.runs == []
    run_time = datetime(2025, 10, 11, tzinfo=ZONE)
    assert build_data_docs([empty], tmp_path, "2025Q3-trong", run_time) is None
    assert not Workspace(tmp_path).gx_project.exists()


def test_the_artifact_links_each_page_and_the_index_through_the_portal(tmp_path: Path) -> None:
    docs = build_data_docs(
        [_batch()], tmp_path, "2025Q3-lan-1", datetime(2025, 10, 11, tzinfo=ZONE)
    )
    assert docs is not None
    portal = OutputAddresses(Workspace(tmp_path), "https://tonghop.example.vn/")
    markdown = data_docs_markdown(docs, portal)
    assert "| 2025Q3 | Kiểm tra từng báo cáo | 3 | 3/18 |" in markdown
    site = docs.index.parent
    for page in docs.pages:
        relative = page.path.relative_to(site).as_posix()
        assert f"(https://tonghop.example.vn/van-hanh/data-docs/{relative})" in markdown
    assert "[trang chủ Data Docs](https://tonghop.example.vn/van-hanh/data-docs/index.html)" in (
        markdown
    )
    assert "file://" not in markdown
    # With no portal, the full paths to copy, not links a browser refuses.
    plain = data_docs_markdown(docs, OutputAddresses(Workspace(tmp_path), None))
    assert f"`{docs.index.resolve()}`" in plain and "file://" not in plain
    for page in docs.pages:
        assert f"`{page.path.resolve()}`" in plain


def test_collect_builds_the_docs_once_and_links_them(imported: Path) -> None:
    state = collect("2025Q3", str(imported), return_state=True)
    summary = state.result()
    assert summary.received > 0 and summary.data_docs is not None
    index = Path(summary.data_docs)
    assert index.exists()
    # One validation for the run: one page per suite.
    pages = sorted(index.parent.glob("validations/*/*/*/*.html"))
    assert [page.parent.parent.parent.name for page in pages] == [SUBMISSION_SUITE, VALUE_SUITE]
    markdown = latest_artifact("kiem-tra-2025q3", state.state_details.flow_run_id)
    for page in pages:
        assert f"`{page.resolve()}`" in markdown

    again = collect("2025Q3", str(imported))
    assert again.received == 0 and again.data_docs is None
    assert sorted(index.parent.glob("validations/*/*/*/*.html")) == pages


@pytest.mark.parametrize("suite", [VALUE_SUITE, SUBMISSION_SUITE])
def test_every_expectation_carries_its_rule_in_vietnamese(suite: str) -> None:
    from tonghop.validation import read_suite

    for expectation in read_suite(suite)["expectations"]:
        rule = expectation["meta"]["rule_id"]
        assert re.fullmatch(rf"{rule} \((lỗi|cảnh báo)\): \S.*", expectation["description"])


def test_docs_that_cannot_be_written_do_not_stop_the_run(imported: Path, database_url: str) -> None:
    from tests.test_flows import submission_count

    # A file where GX's project folder should be: every attempt to build the pages fails.
    Workspace(imported).gx_project.write_text("không phải thư mục", encoding="utf-8")
    summary = collect("2025Q3", str(imported))
    assert summary.received > 0 and summary.data_docs is None
    assert submission_count(database_url) == summary.received


def _local_references(page: Path) -> list[Path]:
    """The files a page loads or links (scripts, styles, icons, pages), resolved on disk."""
    html = page.read_text(encoding="utf-8")
    found = re.findall(r"""(?:src|href)=["']([^"'#?]+)""", html)
    return [(page.parent / reference).resolve() for reference in found if "://" not in reference]


def test_the_pages_load_nothing_from_elsewhere_and_read_in_vietnamese(tmp_path: Path) -> None:
    run_time = datetime(2025, 10, 11, 8, 30, tzinfo=ZONE)
    docs = build_data_docs([_batch()], tmp_path, run_name_of("2025Q3", run_time), run_time)
    assert docs is not None
    site = docs.index.parent
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 5  # the index, two suites, two results
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)=["']https?://""", html), page
        for reference in _local_references(page):
            assert reference.is_file(), (page, reference)
    loaded = {
        path.relative_to(site / "static" / "vendor").as_posix()
        for page in pages
        for path in _local_references(page)
        if (site / "static" / "vendor") in path.parents
    }
    assert "jquery/dist/jquery.min.js" in loaded
    assert "@fortawesome/fontawesome-free/css/all.min.css" in loaded
    # The icon font the status icons are drawn with is there beside its stylesheet.
    assert (
        site / "static/vendor/@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2"
    ).is_file()

    index = docs.index.read_text(encoding="utf-8")
    assert "'title': 'Thời điểm chạy'" in index and "'title': 'Run Time'" not in index
    assert "'run_name': '2025Q3 · thu thập 11/10/2025 08:30'" in index
    assert "'run_time': '11/10/2025 08:30:00'" in index  # the operators' clock, not UTC
    result = _text(_page(docs.pages[0].url))
    for vietnamese in ("Kết quả kiểm tra", "Số quy tắc đã kiểm tra", "Mục lục", "Tỷ lệ đạt"):
        assert vietnamese in result
    assert "2025Q3 · thu thập 11/10/2025 08:30" in result
    for english in (
        "Expectation Validation Result",
        "Evaluated Expectations",
        "Show more info",
        "Table of Contents",
        "newsletter",
        "Great Expectations Version",
        "unexpected",
    ):
        assert english not in result, english


def test_every_asset_the_templates_name_is_vendored() -> None:
    listed = vendored_assets()
    for asset in listed:
        assert (VENDORED_ASSETS / asset).exists(), f"{asset}: run `make` to vendor it"
    templates = VENDORED_ASSETS.parent
    named = {
        match
        for template in templates.glob("*.j2")
        for match in re.findall(r"paths\.vendor \}\}([^\"']+)", template.read_text("utf-8"))
    }
    assert named and all(
        any(
            asset == listed_asset or asset.startswith(listed_asset + "/") for listed_asset in listed
        )
        for asset in named
    ), named - set(listed)


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        ("Evaluated Expectations", "Số quy tắc đã kiểm tra"),
        ("  Status:\n ", "  Kết quả:\n "),
        (
            "1 unexpected values found. ≈0.01186% of 8429 total rows.",
            "1 giá trị không đạt, ≈0,01186% của 8.429 dòng.",
        ),
        (
            "3 unexpected values found. 100% of 3 total rows.",
            "3 giá trị không đạt, 100% của 3 dòng.",
        ),
        ("≈0.0823% unexpected", "≈0,0823% không đạt"),
        ("0% null", "0% để trống"),
        ("100% not null", "100% có giá trị"),
        ("≈42.86%", "≈42,86%"),
        ("Data asset: 2025Q3", "Kỳ: 2025Q3"),
        (
            "Validations / value_rules / 2025Q3 / 2025Q3-thu-thap-20251011-083000 / "
            "2025-10-11T01:30:00Z",
            "Kết quả kiểm tra / Kiểm tra từng số liệu / 2025Q3 / 2025Q3 · thu thập 11/10/2025 "
            "08:30 / 11/10/2025 08:30:00",
        ),
        ("Expectations / submission_rules", "Bộ quy tắc / Kiểm tra từng báo cáo"),
        ("O1_1__change", "Quy tắc O1: mức thay đổi so với kỳ trước"),
        ("V3_1__members", "Quy tắc V3: Tổng số đảng viên"),
        (
            "This Expectation suite currently contains 7 total Expectations across 2 columns.",
            "Bộ quy tắc này có 7 quy tắc trên 2 cột.",
        ),
        ("2025Q3-lan-1", "2025Q3-lan-1"),  # a name of another making stays as it is
        ("F4 (lỗi): Mã đơn vị khớp với thư mục nộp", "F4 (lỗi): Mã đơn vị khớp với thư mục nộp"),
    ],
)
def test_the_words_gx_writes_are_put_into_vietnamese(english: str, vietnamese: str) -> None:
    from tonghop.data_docs_view import Translator

    assert Translator("Asia/Ho_Chi_Minh").text(english) == vietnamese


def test_links_and_scripts_are_never_translated() -> None:
    from tonghop.data_docs_view import Translator

    page = (
        '<a href="expectations/value_rules.html">value_rules</a>'
        "<script>var x = 'Status'; data: [{'run_name': 'a', 'title': 'Status'}]</script>"
    )
    assert Translator("Asia/Ho_Chi_Minh").page(page) == (
        '<a href="expectations/value_rules.html">Kiểm tra từng số liệu</a>'
        "<script>var x = 'Status'; data: [{'run_name': 'a', 'title': 'Kết quả'}]</script>"
    )
